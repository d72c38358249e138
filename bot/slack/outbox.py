"""Where listeners store the work they acknowledge: durable jobs (bot/jobs.py), written in the
listener's own transaction, with the local workers woken once it commits."""

from __future__ import annotations

import logging

from sqlalchemy import event
from sqlalchemy.orm import Session

from bot import history
from bot.db.session import Database
from bot.jobs import JobRunner, QueueFull, enqueue
from bot.slack.jobs.answers import QUESTION, Asked

log = logging.getLogger(__name__)


class Outbox:
    def __init__(self, db: Database, runner: JobRunner, max_waiting_questions: int) -> None:
        self.db = db
        self.runner = runner
        self.max_waiting_questions = max_waiting_questions

    def add(
        self,
        session: Session,
        kind: str,
        team_id: str,
        payload: dict,
        *,
        coalesce_key: str | None = None,
        bounded: bool = False,
    ) -> None:
        """Store a job in `session`'s transaction. `bounded` jobs (questions) raise QueueFull
        when too many are waiting, so the user can be told to try again."""
        enqueue(
            session,
            kind,
            team_id,
            payload,
            coalesce_key=coalesce_key,
            max_pending=self.max_waiting_questions if bounded else None,
        )
        event.listen(session, "after_commit", lambda _s: self.runner.wake(), once=True)

    def send(self, kind: str, team_id: str, payload: dict) -> None:
        """A job on its own, in a transaction of its own."""
        with self.db.session() as session:
            self.add(session, kind, team_id, payload)

    def question(self, body: dict, asked: Asked) -> bool:
        """Store the question and mark its event handled, in one transaction; False when too many
        questions are waiting (nothing is stored then)."""
        try:
            with self.db.session() as session:
                event_id = history.event_id_of(body)
                if event_id is not None and not history.claim_event(session, event_id, asked.team_id):
                    log.info("skipping event %s delivered again", event_id)
                    return True  # a retried delivery: its question is already stored
                self.add(session, QUESTION, asked.team_id, asked.payload(), bounded=True)
        except QueueFull:
            return False
        return True
