"""Reminders over Slack: the messenger that posts them and the scheduler inside `mlready serve`."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from slack_sdk import WebClient
from sqlalchemy import select

from bot.checklist import Checklist
from bot.db.models import Project, Signoff, utcnow
from bot.db.retention import Retention
from bot.db.session import Database
from bot.readiness import ChecklistSource, project_state
from bot.reminders.delivery import Reminder, ReminderRun
from bot.reminders.schedule import schedule_of
from bot.slack import blocks as ui
from bot.slack import reminder_blocks as rb
from bot.slack import signoff_blocks as sb

log = logging.getLogger(__name__)

PRUNE_EVERY = timedelta(hours=1)


class SlackMessenger:
    """Posts reminders with the app's WebClient (which retries 429, 5xx and network errors)."""

    def __init__(
        self,
        client_for: Callable[[str], WebClient],
        db: Database,
        checklists: Checklist | ChecklistSource,
        doc_titles: dict[str, str],
    ) -> None:
        self.client_for = client_for  # team_id -> client with that workspace's token
        self.db = db
        self.checklists = checklists
        self.doc_titles = doc_titles

    def user_timezone(self, team_id: str, user_id: str) -> str | None:
        return (self.client_for(team_id).users_info(user=user_id).get("user") or {}).get("tz")

    def is_away(self, team_id: str, user_id: str) -> bool:
        client = self.client_for(team_id)
        if client.users_getPresence(user=user_id).get("presence") == "away":
            return True
        dnd = client.dnd_info(user=user_id)
        return bool(dnd.get("snooze_enabled")) or bool(dnd.get("dnd_enabled") and _in_dnd_window(dnd))

    def send(self, reminder: Reminder) -> tuple[str, str]:
        with self.db.session() as session:
            project = session.get(Project, reminder.project_id)
            assert project is not None
            if reminder.destination.startswith("stakeholder:"):
                signoff = session.scalars(
                    select(Signoff)
                    .where(Signoff.project_id == project.id, Signoff.status == "requested")
                    .order_by(Signoff.id.desc())
                ).first()
                assert signoff is not None
                state = project_state(session, project, self.checklists)
                blocks = [
                    *ui.sections(rb.stakeholder_nudge(signoff.requested_by, project.name)),
                    *sb.signoff_request_blocks(signoff, state),
                ]
                text = f"Reminder: sign-off requested for {ui.escape(project.name)}"
            else:
                schedule = schedule_of(session, project)
                checklist = project_state(session, project, self.checklists).checklist
                blocks = rb.reminder_blocks(reminder, checklist, self.doc_titles, schedule)
                text = rb.reminder_text(reminder)
        sent = self.client_for(reminder.team_id).chat_postMessage(
            channel=reminder.target, text=text, blocks=ui.to_dicts(ui.fit(blocks))
        )
        return str(sent["channel"]), str(sent["ts"])


def _in_dnd_window(dnd: dict) -> bool:
    """Inside the person's scheduled do-not-disturb hours right now."""
    now = utcnow().timestamp()
    start, end = dnd.get("next_dnd_start_ts") or 0, dnd.get("next_dnd_end_ts") or 0
    return bool(start and end and start <= now < end)


class ReminderScheduler:
    """Runs the due reminders every `interval` seconds on a daemon thread until stopped.

    Every replica runs one; the delivery table's unique key and row claims make sure each
    reminder is still sent once.
    """

    def __init__(
        self,
        run: ReminderRun,
        interval: float,
        retention: Retention | None = None,
        db: Database | None = None,
    ) -> None:
        self.run = run
        self.interval = interval
        self.retention, self.db = retention, db
        self._pruned_at: datetime | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="mlready-reminders", daemon=True)

    def start(self) -> ReminderScheduler:
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.prune_hourly(utcnow())
            try:
                outcomes = self.run.run(utcnow())
            except Exception:  # the database may be down for a moment; the next tick retries
                log.exception("reminder run failed")
                continue
            for outcome in outcomes:
                log.info(
                    "reminder %s: %s %s -> %s",
                    outcome.status,
                    outcome.project,
                    ",".join(outcome.rules),
                    outcome.destination,
                )

    def prune_hourly(self, now: datetime) -> None:
        """The bookkeeping tables are pruned once an hour; any replica may do it."""
        if self.retention is None or self.db is None:
            return
        if self._pruned_at is not None and now - self._pruned_at < PRUNE_EVERY:
            return
        self._pruned_at = now
        try:
            with self.db.session() as session:
                removed = self.retention.prune(session, now)
        except Exception:  # the database may be down for a moment; the next hour retries
            log.exception("pruning old bookkeeping rows failed")
            return
        if any(removed.values()):
            log.info("pruned %s", removed)

    def stop(self, timeout: float = 30) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
