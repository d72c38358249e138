"""Typed SQLAlchemy models. Schema changes go through an Alembic migration in migrations/."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes; they were stored in UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


class Base(DeclarativeBase):
    pass


class ProcessedEvent(Base):
    """Slack event ids already handled, so a retried delivery is not answered twice."""

    __tablename__ = "processed_events"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), default="")
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Job(Base):
    """Work acknowledged to Slack and not yet done, stored in the same transaction as what it acts
    on, before the ack; workers in any replica claim it (see bot/jobs.py)."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(40))
    team_id: Mapped[str] = mapped_column(String(32), default="")
    payload: Mapped[dict] = mapped_column(JSON)
    # While a job with this key waits, a newer one replaces its payload instead of queueing.
    coalesce_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, running, done, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    run_after: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    __table_args__ = (
        Index("ix_jobs_claimable", "status", "run_after"),
        Index(
            "uq_jobs_pending_coalesce",
            "coalesce_key",
            unique=True,
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )


class AnsweredThread(Base):
    """Threads the bot has replied in; follow-ups there are answered without a mention."""

    __tablename__ = "answered_threads"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    thread_ts: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AnswerRecord(Base):
    """Every answer given (or declined), with what it showed, for feedback and the report."""

    __tablename__ = "answer_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    surface: Mapped[str] = mapped_column(String(16))  # mention, thread, dm, command, console
    question: Mapped[str] = mapped_column(Text)
    answered: Mapped[bool] = mapped_column(Boolean)
    confidence: Mapped[float] = mapped_column(Float)
    answer: Mapped[str] = mapped_column(Text)
    sources: Mapped[list] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The job that answered: a job run again after a crash finds its answer instead of a second one.
    job_id: Mapped[int | None] = mapped_column(Integer, nullable=True)

    __table_args__ = (
        Index("ix_answer_records_created", "created_at"),
        UniqueConstraint("job_id", name="uq_answer_records_job_id"),
    )


class AnswerFeedback(Base):
    """Helpful / not helpful, one current vote per user and answer."""

    __tablename__ = "answer_feedback"

    answer_id: Mapped[int] = mapped_column(
        ForeignKey("answer_records.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    helpful: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Workspace(Base):
    """A Slack workspace (team); every project belongs to exactly one."""

    __tablename__ = "workspaces"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("workspaces.team_id"))
    name: Mapped[str] = mapped_column(String(80))
    channel_id: Mapped[str] = mapped_column(String(32))
    owner_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Bumped by every KPI change; a sign-off given for an older version is stale.
    kpi_version: Mapped[int] = mapped_column(Integer, default=0)
    # The checklist version the project was created with (None: the shipped default as loaded).
    template_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # checklist_templates.id

    __table_args__ = (
        Index(
            "uq_projects_active_channel",
            "team_id",
            "channel_id",
            unique=True,
            sqlite_where=archived_at.is_(None),
            postgresql_where=archived_at.is_(None),
        ),
    )


class ChecklistResponse(Base):
    """The current response to one checklist item of one project (the latest click wins)."""

    __tablename__ = "checklist_responses"

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    responded_by: Mapped[str] = mapped_column(String(32))
    responded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ResponseHistory(Base):
    """Every checklist response ever given, append-only."""

    __tablename__ = "checklist_response_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(String(80))
    value: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    responded_by: Mapped[str] = mapped_column(String(32))
    responded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_checklist_response_history_project", "project_id", "item_id"),)


class ChecklistTemplate(Base):
    """One version of a checklist template, frozen: projects keep the version they started with."""

    __tablename__ = "checklist_templates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(16))  # shipped, directory, import
    digest: Mapped[str] = mapped_column(String(64))  # of the resolved checklist
    checklist: Mapped[dict] = mapped_column(JSON)  # the resolved checklist, schema of checklist.yaml
    created_by: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (UniqueConstraint("team_id", "name", "digest", name="uq_checklist_templates_digest"),)


class ItemEvidence(Base):
    """The current note and link behind one checklist item of one project."""

    __tablename__ = "item_evidence"

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    note: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(Text, default="")
    changed_by: Mapped[str] = mapped_column(String(32))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ItemAssignment(Base):
    """Who owns closing one checklist item of one project, and by when."""

    __tablename__ = "item_assignments"

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    assignee_id: Mapped[str] = mapped_column(String(32))
    due_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    assigned_by: Mapped[str] = mapped_column(String(32))
    assigned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The assignee's DM, once sent: a job run again after a crash does not send a second one.
    dm_ts: Mapped[str] = mapped_column(String(32), default="")


class ItemChange(Base):
    """Every change to an item's evidence or assignment, append-only (responses have their own)."""

    __tablename__ = "checklist_item_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(16))  # evidence, assignment
    detail: Mapped[dict] = mapped_column(JSON)
    changed_by: Mapped[str] = mapped_column(String(32))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_checklist_item_changes_project", "project_id", "item_id"),)


class Kpi(Base):
    __tablename__ = "kpis"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    metric: Mapped[str] = mapped_column(String(200))
    baseline: Mapped[float] = mapped_column(Float)
    target: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(40), default="")
    deadline: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    owner_id: Mapped[str] = mapped_column(String(32), default="")
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Signoff(Base):
    __tablename__ = "signoffs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    stakeholder_id: Mapped[str] = mapped_column(String(32))
    requested_by: Mapped[str] = mapped_column(String(32))
    what: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(24), default="requested")
    comment: Mapped[str] = mapped_column(Text, default="")
    kpi_version: Mapped[int] = mapped_column(Integer)
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    dm_channel: Mapped[str] = mapped_column(String(32), default="")
    dm_ts: Mapped[str] = mapped_column(String(32), default="")


class ReminderSchedule(Base):
    """A project's reminder settings; a project without a row uses the defaults."""

    __tablename__ = "reminder_schedules"

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    cadence: Mapped[str] = mapped_column(
        String(8), default="weekly"
    )  # weekly, daily (Mon-Fri), everyday, off
    weekday: Mapped[int] = mapped_column(Integer, default=0)  # Monday = 0, for weekly
    at_time: Mapped[str] = mapped_column(String(5), default="09:30")  # HH:MM, project time
    timezone: Mapped[str] = mapped_column(String(64), default="")  # set by hand; wins over the owner's
    owner_timezone: Mapped[str] = mapped_column(String(64), default="")  # cached from users.info
    snoozed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Only a person's change moves this; a period that began before it is not reminded.
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    changed_by: Mapped[str] = mapped_column(String(32), default="")


class ReminderDelivery(Base):
    """One reminder message for one project, rule, period and destination.

    The unique key is what makes a reminder go out once; `status` moves
    pending -> sending (claimed) -> sent, or back to pending after a failed send.
    """

    __tablename__ = "reminder_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    rule: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(40))
    destination: Mapped[str] = mapped_column(String(48))  # channel, owner:U.., stakeholder:U..
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    claimed_by: Mapped[str] = mapped_column(String(40), default="")
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    channel: Mapped[str] = mapped_column(String(32), default="")
    ts: Mapped[str] = mapped_column(String(32), default="")

    __table_args__ = (
        UniqueConstraint("project_id", "rule", "period", "destination", name="uq_reminder_once"),
        Index("ix_reminder_due", "status", "next_attempt_at"),
    )


def slack_oauth_tables(metadata: MetaData) -> list[Table]:
    """slack_sdk's own tables for OAuth installations and states, with its default names.

    Built on demand (slack_sdk's stores import SQLAlchemy's asyncio layer, which the read-only
    commands should not pay for); migration 0004 creates them and a test compares the two."""
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore as Installs
    from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore as States

    return [
        Installs.build_installations_table(metadata, Installs.default_installations_table_name),
        Installs.build_bots_table(metadata, Installs.default_bots_table_name),
        States.build_oauth_states_table(metadata, States.default_table_name),
    ]
