"""Evidence behind a checklist item (a note and a link) and who owns closing it by when.

Both are checked like every modal input, kept as the item's current state, and every change is
appended to checklist_item_changes with who made it and when. No Slack imports here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, ValidationError, field_validator
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.checklist import Checklist, ChecklistItem
from bot.db.models import ItemAssignment, ItemChange, ItemEvidence, Project, utcnow
from bot.readiness import ProjectState, ResponseError
from bot.text import checked_text, escape_mrkdwn, is_user_id, unsafe_character

MAX_NOTE = 1000
MAX_URL = 2000


class EvidenceInput(BaseModel):
    note: str = Field(default="", max_length=MAX_NOTE)
    url: str = Field(default="", max_length=MAX_URL)

    @field_validator("note", "url", mode="before")
    @classmethod
    def _strip(cls, value: object) -> object:
        return value.strip() if isinstance(value, str) else ("" if value is None else value)

    @field_validator("note")
    @classmethod
    def _safe_note(cls, value: str) -> str:
        return checked_text(value, allow_line_breaks=True)

    @field_validator("url")
    @classmethod
    def _web_link(cls, value: str) -> str:
        if not value:
            return value
        # < > | would end a Slack link early; whitespace is never part of a URL.
        if any(ch in value for ch in "<>| \t\n") or unsafe_character(value):
            raise ValueError("Enter one link without spaces or < > | characters")
        parts = urlsplit(value)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise ValueError("Enter a web link starting with https:// or http://")
        return value


@dataclass(frozen=True)
class AssignmentInput:
    assignee_id: str  # "" clears the assignment
    due_on: date | None


def _field_errors(exc: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for err in exc.errors():
        field = str(err["loc"][0]) if err["loc"] else "note"
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "string_too_long":
            limit = err.get("ctx", {}).get("max_length")
            message = f"Keep it to {limit:,} characters or fewer"
        errors.setdefault(field, message)
    return errors


def parse_evidence(raw: dict[str, str | None]) -> tuple[EvidenceInput | None, dict[str, str]]:
    """Validate the modal's fields; returns the evidence or {field: message}."""
    try:
        return EvidenceInput(note=raw.get("note") or "", url=raw.get("url") or ""), {}
    except ValidationError as exc:
        return None, _field_errors(exc)


def parse_assignment(
    raw: dict[str, str | None], today: date
) -> tuple[AssignmentInput | None, dict[str, str]]:
    assignee = (raw.get("assignee") or "").strip()
    errors: dict[str, str] = {}
    if assignee and not is_user_id(assignee):
        errors["assignee"] = "Pick a person from the list"
    due: date | None = None
    if raw.get("due"):
        try:
            due = date.fromisoformat(raw["due"] or "")
            if due < today:
                errors["due"] = "The due date is in the past"
        except ValueError:
            errors["due"] = "Pick a date"
    if due is not None and not assignee and "assignee" not in errors:
        errors["assignee"] = "Pick who the item is due from"
    return (None, errors) if errors else (AssignmentInput(assignee, due), {})


def _open_item(project: Project, checklist: Checklist, item_id: str) -> ChecklistItem:
    if project.archived_at is not None:
        raise ResponseError(
            f"The project *{escape_mrkdwn(project.name)}* is archived; its checklist is closed."
        )
    item = checklist.item(item_id)
    if item is None:
        raise ResponseError("That checklist item is not part of this project's checklist any more.")
    return item


def _log(session: Session, project: Project, item_id: str, kind: str, detail: dict, user_id: str) -> None:
    session.add(
        ItemChange(
            project_id=project.id,
            item_id=item_id,
            kind=kind,
            detail=detail,
            changed_by=user_id,
            changed_at=utcnow(),
        )
    )


def set_evidence(
    session: Session,
    project: Project,
    checklist: Checklist,
    item_id: str,
    evidence: EvidenceInput,
    user_id: str,
) -> ItemEvidence | None:
    """Replace the item's note and link (both empty: remove them); None when removed."""
    _open_item(project, checklist, item_id)
    _log(session, project, item_id, "evidence", {"note": evidence.note, "url": evidence.url}, user_id)
    current = session.get(ItemEvidence, (project.id, item_id))
    if not evidence.note and not evidence.url:
        if current is not None:
            session.delete(current)
        session.flush()
        return None
    if current is None:
        current = ItemEvidence(project_id=project.id, item_id=item_id)
        session.add(current)
    current.note, current.url = evidence.note, evidence.url
    current.changed_by, current.changed_at = user_id, utcnow()
    session.flush()
    return current


def assign(
    session: Session,
    project: Project,
    checklist: Checklist,
    item_id: str,
    assignment: AssignmentInput,
    user_id: str,
) -> tuple[ItemAssignment | None, bool]:
    """Set (or with no assignee, clear) who closes the item and by when. The second value says
    whether the assignee is new to it, so they are told once."""
    _open_item(project, checklist, item_id)
    detail = {
        "assignee": assignment.assignee_id,
        "due": assignment.due_on.isoformat() if assignment.due_on else None,
    }
    _log(session, project, item_id, "assignment", detail, user_id)
    current = session.get(ItemAssignment, (project.id, item_id))
    if not assignment.assignee_id:
        session.execute(
            delete(ItemAssignment).where(
                ItemAssignment.project_id == project.id, ItemAssignment.item_id == item_id
            )
        )
        session.flush()
        return None, False
    new_person = current is None or current.assignee_id != assignment.assignee_id
    if current is None:
        current = ItemAssignment(project_id=project.id, item_id=item_id)
        session.add(current)
    if new_person:
        current.dm_ts = ""
    current.assignee_id, current.due_on = assignment.assignee_id, assignment.due_on
    current.assigned_by, current.assigned_at = user_id, utcnow()
    session.flush()
    return current, new_person


def overdue_assignments(state: ProjectState, today: date) -> list[tuple[ItemAssignment, ChecklistItem]]:
    """Open items whose assignee's due date has passed."""
    return [
        (assignment, item)
        for item in state.open_items()
        if (assignment := state.assignments.get(item.id)) is not None
        and assignment.due_on is not None
        and assignment.due_on < today
    ]


def changes_of(session: Session, project: Project, item_id: str | None = None) -> list[ItemChange]:
    query = select(ItemChange).where(ItemChange.project_id == project.id)
    if item_id is not None:
        query = query.where(ItemChange.item_id == item_id)
    return list(session.scalars(query.order_by(ItemChange.changed_at, ItemChange.id)))
