"""Sending due reminders exactly once per project, rule, period and destination.

1. Plan: for every active project whose period is due, insert one row per firing rule and
   destination; the unique key makes a second planner's insert a no-op.
2. Claim: move due rows to `sending` under a lease. On PostgreSQL the candidates are read
   with FOR UPDATE SKIP LOCKED; the conditional UPDATE also guards SQLite, which has no row locks.
3. Send: re-check the rules (a gap closed since planning is cancelled, not sent), post one
   message per destination, and mark the rows `sent` only after Slack accepted it. A failed
   send goes back to `pending` with exponential backoff.
A process killed between Slack's acceptance and the `sent` update leaves a `sending` row
whose lease runs out, so that one message can be sent a second time; nothing is lost.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from bot import metrics
from bot.checklist import Checklist
from bot.db.models import Project, ReminderDelivery, ReminderSchedule
from bot.db.session import Database, dialect_insert
from bot.readiness import ChecklistSource, project_state
from bot.reminders.rules import ASSIGNED_OVERDUE, KPI_MISSING, SIGNOFF_MISSING, Finding, findings
from bot.reminders.schedule import as_utc, check_timezone, due_period, schedule_of, schedule_row

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
# A DM to someone away waits this long, without counting as a failed attempt.
AWAY_WAIT = timedelta(hours=1)
MAX_ATTEMPTS = 8
UNIQUE_KEY = ["project_id", "rule", "period", "destination"]
DEFAULT_GRACE = timedelta(days=7)
# One run at a time per process: the scheduler thread and `/mlready remind now` share it.
_RUN_LOCK = threading.Lock()


@dataclass(frozen=True)
class Reminder:
    """One message to send: a project's firing rules for one destination."""

    project_id: int
    project_name: str
    team_id: str
    channel_id: str
    owner_id: str
    destination: str  # channel, owner:<user>, stakeholder:<user>, assignee:<user>
    period: str
    findings: tuple[Finding, ...]

    @property
    def target(self) -> str:
        """The Slack channel, or the user id whose DM gets it."""
        return self.channel_id if self.destination == "channel" else self.destination.split(":", 1)[1]

    @property
    def rules(self) -> list[str]:
        return [f.rule for f in self.findings]

    def outcome(self, status: str, detail: str = "") -> Outcome:
        return Outcome(
            self.project_name,
            self.channel_id,
            self.destination,
            self.period,
            tuple(self.rules),
            status,
            detail,
        )


class Messenger(Protocol):
    def user_timezone(self, team_id: str, user_id: str) -> str | None: ...

    def is_away(self, team_id: str, user_id: str) -> bool:
        """Whether the person is away or has paused notifications (Slack's presence, a snooze)."""
        ...

    def send(self, reminder: Reminder) -> tuple[str, str]:
        """Post the reminder; return Slack's (channel, ts). Raise when Slack did not accept it."""
        ...


@dataclass(frozen=True)
class Outcome:
    project: str
    channel_id: str
    destination: str
    period: str
    rules: tuple[str, ...]
    status: str  # sent, failed, retry, cancelled, away (waits for the person), would-send
    detail: str = ""


def destinations(finding: Finding, owner_id: str) -> list[str]:
    if finding.rule == ASSIGNED_OVERDUE:  # to each assignee, about their own items only
        return [f"assignee:{user}" for user in finding.fixers]
    targets = ["channel"]
    if finding.rule == KPI_MISSING:
        targets.append(f"owner:{owner_id}")
    if finding.rule == SIGNOFF_MISSING and finding.stakeholder:
        targets.append(f"stakeholder:{finding.stakeholder}")
    return targets


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(60 * 2 ** max(attempts - 1, 0), 3600))


def _claimable(now: datetime):
    return or_(
        and_(ReminderDelivery.status == "pending", ReminderDelivery.next_attempt_at <= now),
        and_(ReminderDelivery.status == "sending", ReminderDelivery.claimed_until < now),
    )


class ReminderRun:
    """One pass over the due reminders; `mlready remind --once` and the scheduler both use it."""

    def __init__(
        self,
        db: Database,
        checklists: Checklist | ChecklistSource,
        messenger: Messenger | None,
        grace: timedelta = DEFAULT_GRACE,
    ) -> None:
        self.db = db
        self.checklists = checklists
        self.messenger = messenger
        self.grace = grace

    # plan
    def _active_projects(self, session: Session, project_id: int | None) -> list[Project]:
        query = select(Project).where(Project.archived_at.is_(None)).order_by(Project.id)
        if project_id is not None:
            query = query.where(Project.id == project_id)
        return list(session.scalars(query))

    def learn_timezone(self, session: Session, project: Project) -> None:
        """Cache the owner's Slack timezone the first time it is needed."""
        row = session.get(ReminderSchedule, project.id)
        if self.messenger is None or (row is not None and (row.timezone or row.owner_timezone)):
            return
        try:
            name = self.messenger.user_timezone(project.team_id, project.owner_id)
            if name:
                schedule_row(session, project).owner_timezone = check_timezone(name)
        except Exception as exc:  # Slack down or an odd tz name: use UTC this time, ask again next run
            log.warning("timezone of %s (project %s) unknown: %s", project.owner_id, project.id, exc)

    def _planned(self, session: Session, project: Project, now: datetime, period: str) -> list[dict]:
        state = project_state(session, project, self.checklists)
        rows = []
        for finding in findings(state, now, self.grace):
            for destination in destinations(finding, project.owner_id):
                rows.append(
                    {
                        "project_id": project.id,
                        "rule": finding.rule,
                        "period": period,
                        "destination": destination,
                        "status": "pending",
                        "attempts": 0,
                        "next_attempt_at": now,
                        "claimed_by": "",
                        "last_error": "",
                        "created_at": now,
                        "channel": "",
                        "ts": "",
                    }
                )
        return rows

    def plan(self, now: datetime, project_id: int | None = None, period: str | None = None) -> list[dict]:
        """Insert the rows that are due (or, with `period`, due now for one project)."""
        planned: list[dict] = []
        with self.db.session() as session:
            for project in self._active_projects(session, project_id):
                self.learn_timezone(session, project)
                session.flush()
                due = period or due_period(schedule_of(session, project), project, now)
                if due is None:
                    continue
                rows = self._planned(session, project, now, due)
                if not rows:
                    continue
                if period is None:
                    # A newer period replaces a retry still waiting for an older one: one catch-up.
                    session.execute(
                        update(ReminderDelivery)
                        .where(
                            ReminderDelivery.project_id == project.id,
                            ReminderDelivery.status == "pending",
                            ReminderDelivery.period != due,
                            ~ReminderDelivery.period.startswith("now-"),
                        )
                        .values(status="superseded")
                    )
                stmt = dialect_insert(session, ReminderDelivery).values(rows)
                session.execute(stmt.on_conflict_do_nothing(index_elements=UNIQUE_KEY))
                planned += rows
        return planned

    # claim and send
    def _claim(self, now: datetime, project_id: int | None, token: str) -> list[int]:
        with self.db.session() as session:
            query = select(ReminderDelivery.id).where(_claimable(now)).order_by(ReminderDelivery.id)
            if project_id is not None:
                query = query.where(ReminderDelivery.project_id == project_id)
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            ids = list(session.scalars(query))
            if not ids:
                return []
            session.execute(
                update(ReminderDelivery)
                .where(ReminderDelivery.id.in_(ids), _claimable(now))
                .values(status="sending", claimed_by=token, claimed_until=now + LEASE)
            )
        with self.db.session() as session:
            return list(
                session.scalars(
                    select(ReminderDelivery.id).where(
                        ReminderDelivery.claimed_by == token, ReminderDelivery.status == "sending"
                    )
                )
            )

    def _prepare(self, ids: list[int], now: datetime) -> tuple[Reminder | None, list[Outcome]]:
        """Re-check the claimed rows of one destination; cancel rules that no longer fire."""
        with self.db.session() as session:
            rows = list(session.scalars(select(ReminderDelivery).where(ReminderDelivery.id.in_(ids))))
            project = session.get(Project, rows[0].project_id)
            live: dict[str, Finding] = {}
            if project is not None and project.archived_at is None:
                state = project_state(session, project, self.checklists)
                live = {f.rule: f for f in findings(state, now, self.grace)}
            keep = []
            for row in rows:
                finding = live.get(row.rule)
                if finding is None or row.destination not in destinations(finding, project.owner_id):
                    row.status, row.claimed_by = "cancelled", ""
                else:
                    keep.append(finding)
            cancelled = [r.rule for r in rows if r.status == "cancelled"]
            outcomes = []
            if cancelled:
                metrics.REMINDERS.labels("cancelled").inc(len(cancelled))
            if cancelled and project is not None:
                outcomes.append(
                    Outcome(
                        project.name,
                        project.channel_id,
                        rows[0].destination,
                        rows[0].period,
                        tuple(cancelled),
                        "cancelled",
                        "closed since it was planned",
                    )
                )
            if not keep or project is None:
                return None, outcomes
            return (
                Reminder(
                    project.id,
                    project.name,
                    project.team_id,
                    project.channel_id,
                    project.owner_id,
                    rows[0].destination,
                    rows[0].period,
                    tuple(keep),
                ),
                outcomes,
            )

    def _record(
        self, ids: list[int], token: str, now: datetime, sent: tuple[str, str] | None, error: str
    ) -> str:
        """Settle our claimed rows; a row whose lease ran out and was claimed again is not ours."""
        with self.db.session() as session:
            rows = list(
                session.scalars(
                    select(ReminderDelivery).where(
                        ReminderDelivery.id.in_(ids),
                        ReminderDelivery.status == "sending",
                        ReminderDelivery.claimed_by == token,
                    )
                )
            )
            status = "sent"
            for row in rows:
                row.claimed_by, row.claimed_until = "", None
                if sent is not None:
                    row.status, row.sent_at, (row.channel, row.ts) = "sent", now, sent
                    continue
                row.attempts += 1
                row.last_error = error[:500]
                if row.attempts >= MAX_ATTEMPTS:
                    row.status = status = "failed"
                else:
                    row.status, row.next_attempt_at = "pending", now + backoff(row.attempts)
                    status = "retry"
            return status

    def _away(self, reminder: Reminder) -> bool:
        """Nudging someone who is away or in do-not-disturb is noise; a check that fails is
        treated as present, so the reminder still goes out."""
        assert self.messenger is not None
        try:
            return self.messenger.is_away(reminder.team_id, reminder.target)
        except Exception as exc:
            log.info("presence of %s unknown, sending: %s", reminder.target, exc)
            return False

    def _wait(self, ids: list[int], token: str, until: datetime) -> None:
        with self.db.session() as session:
            session.execute(
                update(ReminderDelivery)
                .where(
                    ReminderDelivery.id.in_(ids),
                    ReminderDelivery.status == "sending",
                    ReminderDelivery.claimed_by == token,
                )
                .values(status="pending", claimed_by="", claimed_until=None, next_attempt_at=until)
            )

    def send_due(self, now: datetime, project_id: int | None = None) -> list[Outcome]:
        if self.messenger is None:
            raise RuntimeError("sending reminders needs a Slack client")
        token = uuid.uuid4().hex
        ids = self._claim(now, project_id, token)
        groups: dict[tuple[int, str, str], list[int]] = defaultdict(list)
        with self.db.session() as session:
            for row in session.scalars(select(ReminderDelivery).where(ReminderDelivery.id.in_(ids))):
                groups[(row.project_id, row.period, row.destination)].append(row.id)
        outcomes: list[Outcome] = []
        for group in groups.values():
            reminder, cancelled = self._prepare(group, now)
            outcomes += cancelled
            if reminder is None:
                continue
            if reminder.destination != "channel" and self._away(reminder):
                self._wait(group, token, now + AWAY_WAIT)
                outcomes.append(reminder.outcome("away", f"asked again at {now + AWAY_WAIT:%H:%M} UTC"))
                continue
            try:
                sent, error = self.messenger.send(reminder), ""
            except Exception as exc:  # 429/5xx after the client's own retries, network, Slack errors
                sent, error = None, f"{exc.__class__.__name__}: {exc}"
                log.warning(
                    "reminder %s for project %s to %s failed: %s",
                    ",".join(reminder.rules),
                    reminder.project_id,
                    reminder.destination,
                    error,
                )
            status = self._record(group, token, now, sent, error)
            metrics.REMINDERS.labels(status).inc()
            outcomes.append(reminder.outcome(status, error))
        return outcomes

    def dry_run(self, now: datetime) -> list[Outcome]:
        """What `run` would send now, without writing or sending anything."""
        now = as_utc(now)
        outcomes = []
        with self.db.session() as session:
            for project in self._active_projects(session, None):
                period = due_period(schedule_of(session, project), project, now)
                pending = {
                    (r.rule, r.destination, r.period): r.status
                    for r in session.scalars(
                        select(ReminderDelivery).where(ReminderDelivery.project_id == project.id)
                    )
                }
                by_destination: dict[tuple[str, str], list[str]] = defaultdict(list)
                for row in self._planned(session, project, now, period) if period else []:
                    if pending.get((row["rule"], row["destination"], period)) in (None, "pending"):
                        by_destination[(row["destination"], period)].append(row["rule"])
                for (destination, due), rules in by_destination.items():
                    outcomes.append(
                        Outcome(
                            project.name, project.channel_id, destination, due, tuple(rules), "would-send"
                        )
                    )
        return outcomes

    def run(self, now: datetime) -> list[Outcome]:
        now = as_utc(now)  # SQLite compares stored UTC strings
        with _RUN_LOCK:
            self.plan(now)
            return self.send_due(now)

    def run_now(self, project_id: int, now: datetime) -> list[Outcome]:
        """`/mlready remind now`: one reminder for this project at once (deduplicated per minute)."""
        now = as_utc(now)
        with _RUN_LOCK:
            if not self.plan(now, project_id, period=f"now-{now:%Y-%m-%dT%H:%M}"):
                return []
            return self.send_due(now, project_id)


def summarize(outcomes: Iterable[Outcome]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for outcome in outcomes:
        counts[outcome.status] += 1
    return dict(counts)
