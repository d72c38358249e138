"""Block Kit for projects: the checklist message, status, KPI modal, sign-off, App Home."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ContextBlock,
    DatePickerElement,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    SectionBlock,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.checklist import ANSWER_LABELS, AnswerValue, Checklist, ChecklistItem
from bot.db.models import Project, Signoff
from bot.readiness import ProjectState
from bot.slack import action_values as av
from bot.slack import ids
from bot.slack.blocks import button, escape, fit, sections
from indexer.chunking import split_sections
from indexer.knowledge import KnowledgeDoc

ANSWER_BUTTONS = list(ANSWER_LABELS.items())
SIGNOFF_LABELS = {
    "none": "not requested yet",
    "requested": "requested, waiting",
    "approved": "approved",
    "changes-requested": "changes requested",
    "revoked": "revoked",
    "stale": "stale: the KPIs changed after approval",
}


class KpiFigures(Protocol):
    metric: str
    baseline: float
    target: float
    unit: str


def kpi_text(kpi: KpiFigures) -> str:
    """A KPI as every message shows it: *metric*: baseline → target unit (user text escaped)."""
    return f"*{escape(kpi.metric)}*: {kpi.baseline:g} → {kpi.target:g} {escape(kpi.unit)}".rstrip()


def slack_date(moment: datetime) -> str:
    """A date Slack shows in each reader's timezone."""
    ts = int(moment.timestamp())
    return f"<!date^{ts}^{{date_short_pretty}} {{time}}|{moment:%Y-%m-%d %H:%M} UTC>"


def pct(value: float) -> str:
    return f"{value:.0%}"


def _item_line(item: ChecklistItem, state: ProjectState) -> str:
    badge = "🚧 " if item.blocking else ""
    text = f"{badge}*{escape(item.question)}*\n_{escape(item.help)}_"
    answer = state.answers.get(item.id)
    if item.kind == "kpi":
        if state.kpis:
            k = state.kpis[-1]
            text += f"\n✅ KPI: {kpi_text(k)} (owner <@{k.owner_id}>)"
        else:
            text += "\n⚠️ No KPI recorded yet."
    elif item.kind == "signoff":
        text += f"\nSign-off: *{SIGNOFF_LABELS[state.signoff]}*"
        if state.latest_signoff is not None:
            text += f" (<@{state.latest_signoff.stakeholder_id}>)"
    elif answer is not None:
        text += (
            f"\nAnswer: *{ANSWER_LABELS[AnswerValue(answer.value)]}* by <@{answer.answered_by}>"
            f", {slack_date(answer.answered_at)}"
        )
    else:
        text += "\nNot answered yet."
    return text


def _item_actions(item: ChecklistItem, project: Project, state: ProjectState) -> ActionsBlock:
    current = state.answers.get(item.id)
    elements = []
    if item.kind == "yesno":
        for value, label in ANSWER_BUTTONS:
            chosen = current is not None and current.value == value.value
            elements.append(
                button(
                    label,
                    f"{ids.CHECKLIST_ANSWER}_{value.value}",
                    av.ChecklistAnswer(project=project.id, item=item.id, answer=value.value).value(),
                    style="primary" if chosen else None,
                )
            )
    elif item.kind == "kpi":
        elements.append(
            button(
                "Define KPI" if not state.kpis else "Add another KPI",
                ids.KPI_OPEN,
                av.KpiOpen(project=project.id, from_checklist=True).value(),
                style="primary",
            )
        )
    elements.append(
        button(
            "Why it matters", ids.CHECKLIST_WHY, av.ChecklistItemRef(project=project.id, item=item.id).value()
        )
    )
    return ActionsBlock(block_id=item.id, elements=elements)


def checklist_blocks(
    project: Project, checklist: Checklist, state: ProjectState, category: str
) -> list[Block]:
    """One section of the checklist at a time, with buttons to move between sections."""
    section = checklist.section(category) or checklist.sections[0]
    r = state.readiness
    scores = {s.category: s for s in r.sections}
    blocks: list[Block] = [
        HeaderBlock(text=f"Readiness checklist: {project.name}"[:150]),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"{r.answered}/{r.total} answered · score *{pct(r.overall)}* "
                    f"(weakest: {r.weakest}) · {state.band} · {len(r.gaps)} blocking gap(s)"
                )
            ]
        ),
        ActionsBlock(
            block_id="checklist_nav",
            elements=[
                button(
                    f"{s.title} {pct(scores[s.category].score)}",
                    f"{ids.CHECKLIST_PAGE}_{s.category}",
                    av.ChecklistPage(project=project.id, category=s.category).value(),
                    style="primary" if s.category == section.category else None,
                )
                for s in checklist.sections
            ][:25],
        ),
        DividerBlock(),
        SectionBlock(
            text=MarkdownTextObject(text=f"*{escape(section.title)}*: {pct(scores[section.category].score)}")
        ),
    ]
    for item in section.items:
        blocks += sections(_item_line(item, state))
        blocks.append(_item_actions(item, project, state))
    return fit(blocks)


def no_project_blocks() -> list[Block]:
    return sections(
        "This channel has no ML project yet. Create one with "
        "`/mlready project create <name>`, then run `/mlready checklist`."
    )


def status_blocks(state: ProjectState, doc_titles: dict[str, str]) -> list[Block]:
    project, r = state.project, state.readiness
    blocks: list[Block] = [
        HeaderBlock(text=f"Readiness: {project.name}"[:150]),
        SectionBlock(
            text=MarkdownTextObject(
                text=f"Overall *{pct(r.overall)}* (the weakest section, {r.weakest}): *{state.band}*\n"
                f"{r.answered}/{r.total} items answered · owner <@{project.owner_id}>"
            )
        ),
    ]
    if r.gaps:
        lines = ["*Blocking gaps*"]
        for gap in r.gaps:
            guidance = ", ".join(doc_titles.get(d, d) for d in gap.item.docs[:2])
            state_text = "answered No" if gap.answer == AnswerValue.no else "unanswered"
            lines.append(f"🚧 {escape(gap.item.question)} ({state_text}). Guidance: _{escape(guidance)}_")
        blocks += sections("\n".join(lines))
    else:
        blocks += sections("✅ No blocking gaps.")
    blocks += sections(
        "*Sections*\n"
        + "\n".join(f"• {s.title}: {pct(s.score)} ({s.answered}/{s.total})" for s in r.sections)
    )
    kpi_lines = [
        f"• {kpi_text(k)}" + (f", by {k.deadline:%Y-%m-%d}" if k.deadline else "") + f" (<@{k.owner_id}>)"
        for k in state.kpis
    ] or ["• none recorded: use `/mlready checklist kpis`"]
    blocks += sections("*KPIs*\n" + "\n".join(kpi_lines))
    signoff = SIGNOFF_LABELS[state.signoff]
    if state.latest_signoff is not None:
        signoff += f" (<@{state.latest_signoff.stakeholder_id}>)"
    blocks += sections(f"*Stakeholder sign-off*: {signoff}")
    return fit(blocks)


def project_blocks(state: ProjectState) -> list[Block]:
    p, r = state.project, state.readiness
    return sections(
        f"*{escape(p.name)}*, owned by <@{p.owner_id}>, created {slack_date(p.created_at)}.\n"
        f"Score *{pct(r.overall)}* ({state.band}), {r.answered}/{r.total} answered, "
        f"{len(r.gaps)} blocking gap(s). Sign-off: {SIGNOFF_LABELS[state.signoff]}."
    )


def kpi_modal(project: Project, channel_id: str, message_ts: str) -> View:
    def text_input(block_id: str, label: str, placeholder: str, optional: bool = False) -> InputBlock:
        return InputBlock(
            block_id=block_id,
            label=label,
            optional=optional,
            element=PlainTextInputElement(action_id="value", placeholder=placeholder),
        )

    return View(
        type="modal",
        callback_id=ids.KPI_MODAL,
        title="Define a KPI",
        submit="Save",
        close="Cancel",
        private_metadata=av.KpiModal(
            project=project.id, channel=channel_id or None, ts=message_ts or None
        ).value(),
        blocks=[
            text_input("metric", "Metric", "e.g. monthly churn rate"),
            text_input("baseline", "Baseline (today)", "e.g. 4.2"),
            text_input("target", "Target", "e.g. 3.5"),
            text_input("unit", "Unit", "e.g. %", optional=True),
            InputBlock(
                block_id="deadline",
                label="Deadline",
                optional=True,
                element=DatePickerElement(action_id="value"),
            ),
            InputBlock(
                block_id="owner", label="Owner", optional=True, element=UserSelectElement(action_id="value")
            ),
        ],
    )


def signoff_request_blocks(signoff: Signoff, state: ProjectState) -> list[Block]:
    p, r = state.project, state.readiness
    objective = state.answers.get("objectives.problem-statement")
    lines = [
        f"<@{signoff.requested_by}> asks you to sign off *{escape(signoff.what)}* for the "
        f"ML project *{escape(p.name)}* (<#{p.channel_id}>)."
    ]
    lines.append(
        "Problem statement agreed: "
        + (ANSWER_LABELS[AnswerValue(objective.value)] if objective else "not answered yet")
    )
    kpis = [f"• {kpi_text(k)}" for k in state.kpis] or ["• no KPI recorded yet"]
    gaps = [f"• {escape(g.item.question)}" for g in r.gaps if g.item.id != "stakeholders.signoff"] or [
        "• none"
    ]
    blocks = sections("\n".join(lines))
    blocks += sections("*KPIs*\n" + "\n".join(kpis))
    blocks += sections(f"*Open blocking gaps* (score {pct(r.overall)})\n" + "\n".join(gaps))
    if signoff.status == "requested":
        blocks.append(
            ActionsBlock(
                block_id="signoff",
                elements=[
                    button(
                        "Approve",
                        ids.SIGNOFF_APPROVE,
                        av.SignoffRef(signoff=signoff.id).value(),
                        style="primary",
                    ),
                    button(
                        "Request changes",
                        ids.SIGNOFF_CHANGES,
                        av.SignoffRef(signoff=signoff.id).value(),
                        style="danger",
                    ),
                ],
            )
        )
    else:
        verdict = {"approved": "✅ Approved", "revoked": "↩️ Approval revoked"}.get(
            signoff.status, "✋ Changes requested"
        )
        comment = f": {escape(signoff.comment)}" if signoff.comment else ""
        blocks.append(
            ContextBlock(
                elements=[MarkdownTextObject(text=f"{verdict} by <@{signoff.stakeholder_id}>{comment}")]
            )
        )
        if signoff.status == "approved":
            blocks.append(
                ActionsBlock(
                    block_id="signoff_revoke",
                    elements=[
                        button(
                            "Revoke approval", ids.SIGNOFF_REVOKE, av.SignoffRef(signoff=signoff.id).value()
                        )
                    ],
                )
            )
    return fit(blocks)


def changes_modal(signoff: Signoff) -> View:
    return View(
        type="modal",
        callback_id=ids.SIGNOFF_CHANGES_MODAL,
        title="Request changes",
        submit="Send",
        close="Cancel",
        private_metadata=av.SignoffRef(signoff=signoff.id).value(),
        blocks=[
            InputBlock(
                block_id="comment",
                label="What should change?",
                element=PlainTextInputElement(action_id="value", multiline=True, max_length=2000),
            )
        ],
    )


def home_view(help_text: str, states: list[ProjectState]) -> View:
    blocks: list[Block] = [HeaderBlock(text="mlready: is your ML project set up to succeed?")]
    if states:
        blocks += sections("*Your projects*")
        for s in states[:15]:
            gaps = ", ".join(g.item.id for g in s.readiness.gaps[:5]) or "none"
            blocks += sections(
                f"*{escape(s.project.name)}* in <#{s.project.channel_id}>: "
                f"*{pct(s.readiness.overall)}* ({s.band})\nOpen blocking gaps: {gaps}"
            )
        blocks.append(DividerBlock())
    else:
        blocks += sections(
            "You have no projects yet. In a project channel, run `/mlready project create <name>`."
        )
    blocks += sections(help_text)
    return View(type="home", blocks=fit(blocks))


def guidance_blocks(item: ChecklistItem, docs: list[KnowledgeDoc]) -> list[Block]:
    """The linked guidance: each document's introduction and its first steps."""
    blocks: list[Block] = sections(f"*Why it matters:* {escape(item.question)}\n_{escape(item.help)}_")
    for doc in docs[:2]:
        parts = {s.heading: s.units for s in split_sections(doc.body)}
        intro = " ".join(next(iter(parts.values()), ())[:2])
        steps = "\n".join(f"• {escape(u)}" for u in parts.get("What to do", ())[:3])
        blocks += sections(
            f"*{escape(doc.meta.title)}*\n{escape(intro)}" + (f"\n*What to do*\n{steps}" if steps else "")
        )
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(text="Ask me more, e.g. `/mlready ask " + escape(item.question[:80]) + "`")
            ]
        )
    )
    return fit(blocks)
