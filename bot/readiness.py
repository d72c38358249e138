"""A project's checklist state: recorded responses, KPIs, sign-offs, and its readiness score.

`kpi` and `signoff` items are not clicked: their response follows from the KPI records and
the sign-off requests. No Slack imports here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.checklist import Checklist, ChecklistItem, Readiness, ResponseValue, score
from bot.db.models import (
    ChecklistResponse,
    ItemAssignment,
    ItemEvidence,
    Kpi,
    Project,
    ResponseHistory,
    Signoff,
    utcnow,
)
from bot.db.session import dialect_insert
from bot.text import checked_text, escape_mrkdwn, is_user_id


def band(overall: float) -> str:
    """An ML-Test-Score-style band for the weakest section's share of points (0..1)."""
    if overall <= 0:
        return "research project: not ready for production"
    if overall <= 0.25:
        return "serious holes: big gaps before this can be relied on"
    if overall <= 0.5:
        return "first pass at production readiness"
    if overall <= 0.75:
        return "reasonably ready, with known gaps"
    if overall < 1:
        return "strong readiness"
    return "exceptional readiness"


class ResponseError(ValueError):
    pass


def record_response(
    session: Session,
    project: Project,
    checklist: Checklist,
    item_id: str,
    value: str,
    user_id: str,
    note: str = "",
) -> ChecklistResponse:
    """Append to the history and make this the current response (the latest click wins)."""
    item = checklist.item(item_id)
    if item is None:
        raise ResponseError("That checklist item no longer exists; run `/mlready checklist` again.")
    if item.kind != "yesno":
        raise ResponseError("That item is answered by recording a KPI or a sign-off.")
    try:
        response = ResponseValue(value)
    except ValueError:
        raise ResponseError(
            f"'{escape_mrkdwn(value)}' is not a response; use yes, partial, no or n-a."
        ) from None
    if project.archived_at is not None:
        raise ResponseError(
            f"The project *{escape_mrkdwn(project.name)}* is archived; its checklist is closed."
        )
    row = {
        "project_id": project.id,
        "item_id": item_id,
        "value": response.value,
        "note": note,
        "responded_by": user_id,
        "responded_at": utcnow(),
    }
    session.add(ResponseHistory(**row))
    stmt = dialect_insert(session, ChecklistResponse).values(**row)
    stmt = stmt.on_conflict_do_update(
        index_elements=["project_id", "item_id"],
        set_={
            "value": stmt.excluded.value,
            "note": stmt.excluded.note,
            "responded_by": stmt.excluded.responded_by,
            "responded_at": stmt.excluded.responded_at,
        },
        where=ChecklistResponse.responded_at <= stmt.excluded.responded_at,
    )
    session.execute(stmt)
    session.flush()
    return session.get(ChecklistResponse, (project.id, item_id))  # type: ignore[return-value]


class KpiInput(BaseModel):
    """What the KPI modal sends; each error is shown next to its field."""

    metric: str = Field(min_length=2, max_length=200)
    baseline: float
    target: float
    unit: str = Field(default="", max_length=40)
    deadline: date | None = None
    owner_id: str = Field(default="", max_length=32)

    @field_validator("metric", "unit", mode="before")
    @classmethod
    def _strip(cls, value: object) -> object:
        return value.strip() if isinstance(value, str) else value

    @field_validator("metric", "unit")
    @classmethod
    def _safe_characters(cls, value: str) -> str:
        return checked_text(value)

    @field_validator("owner_id")
    @classmethod
    def _a_user(cls, value: str) -> str:
        if value and not is_user_id(value):
            raise ValueError("Pick the owner from the list of people in this workspace")
        return value

    @model_validator(mode="after")
    def _target_differs(self) -> KpiInput:
        if self.target == self.baseline:
            raise ValueError("target must differ from the baseline")
        return self


def parse_kpi(raw: dict[str, str | None], today: date) -> tuple[KpiInput | None, dict[str, str]]:
    """Validate modal input; returns the KPI or {field: message}."""
    errors: dict[str, str] = {}
    numbers: dict[str, float] = {}
    for name in ("baseline", "target"):
        text = (raw.get(name) or "").strip().rstrip("%").strip()
        # "3,5" is a decimal comma; "1,200.5" has a thousands separator.
        text = text.replace(",", ".") if text.count(",") == 1 and "." not in text else text.replace(",", "")
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if math.isfinite(number):  # not nan, inf or 1e999
            numbers[name] = number
        else:
            errors[name] = "Enter a number, e.g. 4.2"
    deadline = raw.get("deadline")
    if deadline:
        try:
            if date.fromisoformat(deadline) < today:
                errors["deadline"] = "The deadline is in the past"
        except ValueError:
            errors["deadline"] = "Pick a date"
    if not (raw.get("metric") or "").strip():
        errors["metric"] = "Name the metric, e.g. monthly churn rate"
    if errors:
        return None, errors
    try:
        return KpiInput(
            metric=raw.get("metric") or "",
            unit=raw.get("unit") or "",
            deadline=deadline or None,
            owner_id=raw.get("owner_id") or "",
            **numbers,
        ), {}
    except ValidationError as exc:
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else "target"
            errors[field] = err["msg"].removeprefix("Value error, ")
        return None, errors


def add_kpi(session: Session, project: Project, kpi: KpiInput, user_id: str) -> Kpi:
    if project.archived_at is not None:
        raise ResponseError(f"The project *{escape_mrkdwn(project.name)}* is archived.")
    record = Kpi(
        project_id=project.id,
        metric=kpi.metric,
        baseline=kpi.baseline,
        target=kpi.target,
        unit=kpi.unit,
        owner_id=kpi.owner_id or user_id,
        deadline=datetime.combine(kpi.deadline, datetime.min.time()) if kpi.deadline else None,
        created_by=user_id,
        created_at=utcnow(),
    )
    session.add(record)
    project.kpi_version += 1  # any earlier sign-off no longer covers the KPIs
    session.flush()
    return record


def kpis_of(session: Session, project: Project) -> list[Kpi]:
    return list(session.scalars(select(Kpi).where(Kpi.project_id == project.id).order_by(Kpi.id)))


def signoffs_of(session: Session, project: Project) -> list[Signoff]:
    return list(session.scalars(select(Signoff).where(Signoff.project_id == project.id).order_by(Signoff.id)))


def signoff_state(project: Project, signoff: Signoff | None) -> str:
    """none, requested, approved, changes-requested, revoked or stale."""
    if signoff is None:
        return "none"
    if signoff.status == "approved" and signoff.kpi_version != project.kpi_version:
        return "stale"
    return signoff.status


class ChecklistSource(Protocol):
    """Where a project's checklist version comes from (bot.templates.TemplateCatalog)."""

    def template_for(self, session: Session, project: Project) -> tuple[str, Checklist]: ...

    def checklist_for(self, session: Session, project: Project) -> Checklist: ...


@dataclass(frozen=True)
class ProjectState:
    project: Project
    checklist: Checklist  # the version this project runs on
    responses: dict[str, ChecklistResponse]
    values: dict[str, ResponseValue]  # what scoring sees, derived items included
    kpis: list[Kpi]
    latest_signoff: Signoff | None
    signoff: str
    readiness: Readiness
    template: str = "default"  # the checklist template's name; state.checklist.version is its version
    evidence: dict[str, ItemEvidence] = field(default_factory=dict)
    assignments: dict[str, ItemAssignment] = field(default_factory=dict)

    def open_items(self) -> list[ChecklistItem]:
        """Items that still need work: unanswered, "no" or "partial" (N/A and yes are closed)."""
        return [
            item
            for item in self.checklist.items()
            if self.values.get(item.id) in (None, ResponseValue.no, ResponseValue.partial)
        ]

    def open_by_person(self) -> dict[str, list[ChecklistItem]]:
        """Open items that someone is assigned to, per assignee."""
        found: dict[str, list[ChecklistItem]] = {}
        for item in self.open_items():
            assignment = self.assignments.get(item.id)
            if assignment is not None:
                found.setdefault(assignment.assignee_id, []).append(item)
        return found

    @property
    def band(self) -> str:
        return band(self.readiness.overall)


def project_state(
    session: Session, project: Project, checklists: Checklist | ChecklistSource
) -> ProjectState:
    template, checklist = (
        ("default", checklists)
        if isinstance(checklists, Checklist)
        else checklists.template_for(session, project)
    )
    current = {item.id for item in checklist.items()}  # responses to retired items stay in the tables only
    responses = {
        a.item_id: a
        for a in session.scalars(select(ChecklistResponse).where(ChecklistResponse.project_id == project.id))
        if a.item_id in current
    }
    values = {item_id: ResponseValue(a.value) for item_id, a in responses.items()}
    kpis = kpis_of(session, project)
    signoffs = signoffs_of(session, project)
    latest = signoffs[-1] if signoffs else None
    state = signoff_state(project, latest)
    for item in checklist.items():
        if item.kind == "kpi":
            values.pop(item.id, None)
            if kpis:
                values[item.id] = ResponseValue.yes
        elif item.kind == "signoff":
            values.pop(item.id, None)
            if state == "approved":
                values[item.id] = ResponseValue.yes
            elif state in ("changes-requested", "revoked"):
                values[item.id] = ResponseValue.no
            elif state == "stale":
                values[item.id] = ResponseValue.partial
    evidence = {
        e.item_id: e
        for e in session.scalars(select(ItemEvidence).where(ItemEvidence.project_id == project.id))
    }
    assignments = {
        a.item_id: a
        for a in session.scalars(select(ItemAssignment).where(ItemAssignment.project_id == project.id))
    }
    return ProjectState(
        project,
        checklist,
        responses,
        values,
        kpis,
        latest,
        state,
        score(checklist, values),
        template,
        evidence,
        assignments,
    )


def related_note(state: ProjectState, categories: list[str]) -> str | None:
    """One line on the project's open items in the answer's categories, or None."""
    checklist = state.checklist
    open_items = [
        item
        for cat in categories[:2]
        if (section := checklist.section(cat)) is not None
        for item in section.items
        if state.values.get(item.id) in (None, ResponseValue.no)
    ]
    if not open_items:
        return None
    name = escape_mrkdwn(state.project.name)
    if any(item.kind == "kpi" for item in open_items):
        return f"In *{name}*, no KPI is recorded yet: define one with a baseline and a target."
    listed = "; ".join(item.question for item in open_items[:2])
    more = f" (and {len(open_items) - 2} more)" if len(open_items) > 2 else ""
    return f"In *{name}*, still open: {listed}{more}"


def readiness_note(state: ProjectState) -> str:
    """The project's open blocking gaps, for a "what are we missing?" question in its channel."""
    name = escape_mrkdwn(state.project.name)
    gaps = state.readiness.gaps
    if not gaps:
        return f"In *{name}*, every blocking checklist item is answered. `/mlready status` shows the rest."
    listed = "; ".join(g.item.question for g in gaps[:4])
    more = f" (and {len(gaps) - 4} more)" if len(gaps) > 4 else ""
    return (
        f"In *{name}*, {len(gaps)} blocking item{'s' if len(gaps) != 1 else ''} still open: "
        f"{listed}{more}. Run `/mlready checklist` to close them."
    )
