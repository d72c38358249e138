"""How long the bookkeeping tables keep their rows, and the pruning that enforces it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from bot.db.models import AnsweredThread, Job, ProcessedEvent


@dataclass(frozen=True)
class Retention:
    """How long the bookkeeping tables keep rows: handled event ids (Slack retries an event for
    minutes, not days) and finished jobs, and threads whose follow-ups are still answered."""

    events: timedelta
    threads: timedelta

    def prune(self, session: Session, now: datetime) -> dict[str, int]:
        """Delete rows older than their retention; the count removed per table."""
        removed = {
            "processed_events": session.execute(
                delete(ProcessedEvent).where(ProcessedEvent.received_at < now - self.events)
            ),
            "jobs": session.execute(
                delete(Job).where(Job.status.in_(("done", "failed")), Job.finished_at < now - self.events)
            ),
            "answered_threads": session.execute(
                delete(AnsweredThread).where(AnsweredThread.created_at < now - self.threads)
            ),
        }
        return {table: result.rowcount for table, result in removed.items()}  # type: ignore[attr-defined]
