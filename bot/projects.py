"""Projects bound to Slack channels, scoped to their workspace. No Slack imports here."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db.models import ChecklistResponse, ItemAssignment, Project, Workspace, utcnow
from bot.text import escape_mrkdwn, unsafe_character

MAX_NAME = 80
MAX_ID = 2**31 - 1  # INTEGER primary keys are 32-bit on PostgreSQL


class ProjectError(ValueError):
    """A request about projects that cannot be done; the message says what to do instead."""


def clean_name(raw: str) -> str:
    name = " ".join(raw.split())
    if not name:
        raise ProjectError("Give the project a name, e.g. `/mlready project create Churn model`.")
    if unsafe_character(name):
        raise ProjectError("Project names cannot contain control or text-direction characters.")
    if len(name) > MAX_NAME:
        raise ProjectError(f"Project names are 1-{MAX_NAME} characters; that one has {len(name)}.")
    return name


def _ensure_workspace(session: Session, team_id: str) -> None:
    if session.get(Workspace, team_id) is None:
        session.add(Workspace(team_id=team_id, created_at=utcnow()))
        try:
            session.flush()
        except IntegrityError:  # created by a concurrent request
            session.rollback()


def channel_project(session: Session, team_id: str, channel_id: str) -> Project | None:
    """The active project bound to a channel of this workspace."""
    return session.scalar(
        select(Project).where(
            Project.team_id == team_id, Project.channel_id == channel_id, Project.archived_at.is_(None)
        )
    )


def is_id(value: object) -> bool:
    """Whether a value (e.g. from a button or a modal) can be a row id: an int, not a bool,
    in the database's range. Anything else names no row, rather than failing the query."""
    return type(value) is int and 0 < value <= MAX_ID


def get_project(session: Session, team_id: str, project_id: int) -> Project | None:
    """A project by id, only if it belongs to this workspace."""
    if not is_id(project_id):
        return None
    project = session.get(Project, project_id)
    return project if project is not None and project.team_id == team_id else None


def find_by_name(session: Session, name: str, team_id: str | None = None) -> list[Project]:
    query = select(Project).where(Project.name == name)
    if team_id:
        query = query.where(Project.team_id == team_id)
    return list(session.scalars(query.order_by(Project.created_at)))


def create_project(
    session: Session,
    team_id: str,
    channel_id: str,
    owner_id: str,
    raw_name: str,
) -> Project:
    name = clean_name(raw_name)
    if not channel_id or channel_id.startswith("D"):
        raise ProjectError("Create projects in a channel, not in a direct message.")
    _ensure_workspace(session, team_id)
    existing = channel_project(session, team_id, channel_id)
    if existing is not None:
        raise ProjectError(
            f"This channel already has the project *{escape_mrkdwn(existing.name)}* "
            f"(owner <@{existing.owner_id}>). "
            "Archive it first with `/mlready project archive`, or use another channel."
        )
    project = Project(
        team_id=team_id,
        channel_id=channel_id,
        owner_id=owner_id,
        name=name,
        created_at=utcnow(),
        kpi_version=0,
    )
    session.add(project)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise ProjectError("This channel got a project a moment ago; run `/mlready project`.") from None
    return project


def archive_project(session: Session, project: Project, user_id: str) -> None:
    if project.owner_id != user_id:
        raise ProjectError(f"Only the project owner <@{project.owner_id}> can archive it.")
    project.archived_at = utcnow()


def user_projects(session: Session, team_id: str, user_id: str) -> list[Project]:
    """Active projects the user owns, has answered in or has items assigned in."""
    answered = select(ChecklistResponse.project_id).where(ChecklistResponse.responded_by == user_id)
    assigned = select(ItemAssignment.project_id).where(ItemAssignment.assignee_id == user_id)
    return list(
        session.scalars(
            select(Project)
            .where(
                Project.team_id == team_id,
                Project.archived_at.is_(None),
                (Project.owner_id == user_id) | Project.id.in_(answered) | Project.id.in_(assigned),
            )
            .order_by(Project.created_at)
        )
    )
