"""The reminder rules. Each looks at the stored project state only, so a rule stops
firing as soon as its gap is closed, without anyone switching it off."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from bot.checklist import ResponseValue
from bot.evidence import overdue_assignments
from bot.readiness import ProjectState
from bot.reminders.schedule import as_utc

KPI_MISSING = "kpi-missing"
SIGNOFF_MISSING = "signoff-missing"
BLOCKING_GAPS = "blocking-gaps"
ASSIGNED_OVERDUE = "assigned-overdue"
RULES = (KPI_MISSING, SIGNOFF_MISSING, BLOCKING_GAPS, ASSIGNED_OVERDUE)


@dataclass(frozen=True)
class Finding:
    """One rule that fires, with what a message needs to explain it."""

    rule: str
    summary: str
    why: str
    fixers: tuple[str, ...]  # Slack user ids who can close the gap; empty = anyone in the channel
    item_ids: tuple[str, ...] = ()  # checklist items behind it, for "Why it matters" and guidance
    open_items: tuple[str, ...] = field(default=())  # questions still open (blocking-gaps)
    stakeholder: str = ""  # for a pending sign-off request
    assigned: tuple[tuple[str, str], ...] = ()  # (assignee, question) of overdue assigned items

    def for_assignee(self, user_id: str) -> Finding:
        """Only what one assignee owns, for their own message."""
        mine = tuple(q for u, q in self.assigned if u == user_id)
        return replace(
            self,
            fixers=(user_id,),
            open_items=mine,
            assigned=tuple(a for a in self.assigned if a[0] == user_id),
        )


def _signoff_summary(state: str) -> str:
    return {
        "none": "No stakeholder has been asked to sign off the objectives and KPIs.",
        "requested": "A sign-off request is still waiting for the stakeholder's answer.",
        "changes-requested": "The stakeholder asked for changes before signing off.",
        "revoked": "The stakeholder withdrew their sign-off.",
        "stale": "The KPIs changed after the sign-off, so it no longer covers them.",
    }[state]


def findings(state: ProjectState, now: datetime, grace: timedelta) -> list[Finding]:
    project, checklist = state.project, state.checklist
    found: list[Finding] = []
    kpi_items = tuple(i.id for i in checklist.items() if i.kind == "kpi")
    signoff_items = tuple(i.id for i in checklist.items() if i.kind == "signoff")
    if not state.kpis:
        found.append(
            Finding(
                KPI_MISSING,
                "No KPI is recorded: nothing says what success is, from which baseline, to which target.",
                "Without a measurable target, nobody can tell whether the model is worth shipping, "
                "and the project drifts.",
                (project.owner_id,),
                kpi_items,
            )
        )
    if state.signoff != "approved":
        latest = state.latest_signoff
        pending = latest is not None and state.signoff == "requested"
        found.append(
            Finding(
                SIGNOFF_MISSING,
                _signoff_summary(state.signoff),
                "Projects whose stakeholders never agreed on the goal are often finished and then "
                "never used.",
                (latest.stakeholder_id,) if pending and latest else (project.owner_id,),
                signoff_items,
                stakeholder=latest.stakeholder_id if pending and latest else "",
            )
        )
    created = as_utc(project.created_at)
    overdue = []
    for item in checklist.items():
        if not item.blocking or item.kind != "yesno":
            continue
        response = state.responses.get(item.id)
        if response is None:
            open_since = created
        elif ResponseValue(response.value) == ResponseValue.no:
            open_since = as_utc(response.responded_at)
        else:
            continue
        if now - open_since >= grace:
            overdue.append(item)
    if overdue:
        days = grace.days if grace.days else round(grace.total_seconds() / 3600)
        unit = "days" if grace.days else "hours"
        found.append(
            Finding(
                BLOCKING_GAPS,
                f"{len(overdue)} blocking checklist item(s) have been unanswered or 'no' for more "
                f"than {days} {unit}.",
                "Blocking items are the ones that sink projects late: each is cheap to settle now "
                "and expensive after launch.",
                (),
                tuple(i.id for i in overdue),
                tuple(i.question for i in overdue),
            )
        )
    late = overdue_assignments(state, now.date())
    if late:
        found.append(
            Finding(
                ASSIGNED_OVERDUE,
                f"{len(late)} assigned checklist item(s) are past their due date and still open.",
                "An item with a name and a date on it gets done; one whose date slips quietly stops "
                "being anyone's job.",
                tuple(dict.fromkeys(a.assignee_id for a, _ in late)),
                tuple(item.id for _, item in late),
                tuple(item.question for _, item in late),
                assigned=tuple((a.assignee_id, item.question) for a, item in late),
            )
        )
    return found
