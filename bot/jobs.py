"""Durable jobs: work acknowledged to Slack is stored before the ack and finished by any replica.

A listener calls `enqueue` in the same database transaction as the change the job acts on, so
either both are stored or neither is (and the user is told to try again). Worker threads in
every process claim due jobs: on PostgreSQL with `FOR UPDATE SKIP LOCKED`, and everywhere with a
conditional update, under a lease. A process killed mid-job leaves its lease to run out; then
another worker (in any replica) claims the job again. A job that fails is tried again later with
a growing pause, until its kind's give-up rule says stop; then it is marked failed and logged.

Delivery is at least once: a job whose effect reached Slack but whose completion was not stored
(the process died in between) runs again. Handlers make the second run harmless where they can
(an answer is stored once per job, see `history.record_answer`).

No Slack imports here: handlers are plain callables registered by kind.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, text, update
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session

from bot.db.models import Job, as_utc, utcnow
from bot.db.session import Database, dialect_insert

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)  # longer than any one attempt; a killed worker's job waits this long
POLL_SECONDS = 0.5  # how often idle workers look for jobs enqueued by other processes
FIRST_RETRY, MAX_RETRY = 2.0, 300.0  # seconds; doubles per attempt
MAX_ATTEMPTS = 12
DB_DOWN_PAUSE = 1.0


class RetryLater(Exception):  # a request to the runner rather than an error
    """Raised by a handler when something it needs is away for now (Slack answering 5xx, the
    database unreachable): the job is tried again after `delay` seconds (or the usual backoff)."""

    def __init__(self, reason: str, delay: float | None = None) -> None:
        super().__init__(reason)
        self.delay = delay


class QueueFull(Exception):
    pass


@dataclass(frozen=True)
class Claimed:
    id: int
    kind: str
    team_id: str
    payload: dict
    attempts: int  # including this one
    created_at: datetime


Handler = Callable[[Claimed], None]


def enqueue(
    session: Session,
    kind: str,
    team_id: str,
    payload: dict,
    *,
    coalesce_key: str | None = None,
    delay: float = 0.0,
    max_pending: int | None = None,
) -> None:
    """Store a job in the caller's transaction. With `coalesce_key`, a job with that key that is
    still waiting takes the new payload instead (a burst of clicks costs one render).

    Raises QueueFull when `max_pending` jobs of this kind already wait (in every replica), so the
    caller can say "try again"."""
    if max_pending is not None:
        waiting = session.scalar(
            select(func.count()).select_from(Job).where(Job.kind == kind, Job.status == "pending")
        )
        if (waiting or 0) >= max_pending:
            raise QueueFull(f"{waiting} jobs are waiting")
    now = utcnow()
    values = {
        "kind": kind,
        "team_id": team_id,
        "payload": payload,
        "coalesce_key": coalesce_key,
        "status": "pending",
        "attempts": 0,
        "run_after": now + timedelta(seconds=delay),
        "created_at": now,
    }
    stmt = dialect_insert(session, Job).values(**values)
    if coalesce_key is not None:
        stmt = stmt.on_conflict_do_update(
            index_elements=["coalesce_key"],
            # A literal, not a bound parameter: PostgreSQL matches the partial index by its text,
            # and once psycopg prepares the statement a parameter would no longer match it.
            index_where=text("status = 'pending'"),
            set_={"payload": stmt.excluded.payload, "kind": stmt.excluded.kind},
        )
    session.execute(stmt)


def _claimable(now: datetime):
    return or_(
        and_(Job.status == "pending", Job.run_after <= now),
        and_(Job.status == "running", Job.lease_until < now),  # its worker died
    )


def backoff(attempts: int) -> float:
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), MAX_RETRY)


class JobRunner:
    """Worker threads that claim and run jobs from the database, in this and every replica."""

    def __init__(
        self,
        db: Database,
        threads: int,
        handlers: dict[str, Handler] | None = None,
        give_up: dict[str, Callable[[Claimed, datetime], bool]] | None = None,
        name: str = "jobs",
    ) -> None:
        self.db = db
        self.handlers: dict[str, Handler] = dict(handlers or {})
        self.give_up = dict(give_up or {})
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._wake = threading.Condition()
        self._busy = 0
        self._closed = False
        self._threads = [
            threading.Thread(target=self._run, name=f"{name}-{i}", daemon=True) for i in range(threads)
        ]
        self._started = False

    def register(
        self, kind: str, handler: Handler, give_up: Callable[[Claimed, datetime], bool] | None = None
    ) -> None:
        self.handlers[kind] = handler
        if give_up is not None:
            self.give_up[kind] = give_up

    def start(self) -> JobRunner:
        if not self._started:
            self._started = True
            for t in self._threads:
                t.start()
        return self

    def wake(self) -> None:
        """A job was just enqueued here: no need to wait for the next poll."""
        with self._wake:
            self._wake.notify_all()

    # claiming
    def claim(self, now: datetime | None = None) -> Claimed | None:
        now = now or utcnow()
        with self.db.session() as session:
            query = select(Job.id).where(_claimable(now)).order_by(Job.run_after, Job.id).limit(1)
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            job_id = session.scalar(query)
            if job_id is None:
                return None
            # Conditional: on SQLite (no row locks) two workers may pick the same id; one wins.
            won = session.execute(
                update(Job)
                .where(Job.id == job_id, _claimable(now))
                .values(
                    status="running",
                    claimed_by=self.worker_id,
                    lease_until=now + LEASE,
                    attempts=Job.attempts + 1,
                    coalesce_key=None,  # a new click may queue the next render meanwhile
                )
            ).rowcount
            if not won:
                return None
            job = session.get(Job, job_id)
            assert job is not None
            return Claimed(
                job.id, job.kind, job.team_id, dict(job.payload), job.attempts, as_utc(job.created_at)
            )

    def _settle(self, job: Claimed, **values: object) -> None:
        """Record the outcome, only if this worker still holds the job."""
        with self.db.session() as session:
            session.execute(
                update(Job)
                .where(Job.id == job.id, Job.claimed_by == self.worker_id, Job.status == "running")
                .values(lease_until=None, **values)
            )

    def run_one(self, now: datetime | None = None) -> bool:
        """Claim and run one due job; False when there was none."""
        job = self.claim(now)
        if job is None:
            return False
        handler = self.handlers.get(job.kind)
        try:
            if handler is None:
                raise LookupError(f"no handler for job kind {job.kind!r}")
            handler(job)
        except RetryLater as later:
            self._retry(job, str(later), later.delay)
        except Exception as exc:
            log.error(
                "job %s (%s) failed on attempt %d: %s", job.id, job.kind, job.attempts, exc, exc_info=exc
            )
            self._retry(job, f"{exc.__class__.__name__}: {exc}", None)
        else:
            self._settle(job, status="done", finished_at=utcnow(), last_error=None)
        return True

    def _retry(self, job: Claimed, reason: str, delay: float | None) -> None:
        now = utcnow()
        stop = self.give_up.get(job.kind)
        if stop(job, now) if stop else job.attempts >= MAX_ATTEMPTS:
            log.error("job %s (%s) given up after %d attempts: %s", job.id, job.kind, job.attempts, reason)
            self._settle(job, status="failed", finished_at=now, last_error=reason[:2000])
            return
        pause = backoff(job.attempts) if delay is None else delay
        log.warning("job %s (%s): %s; trying again in %.0f s", job.id, job.kind, reason, pause)
        self._settle(
            job, status="pending", run_after=now + timedelta(seconds=pause), last_error=reason[:2000]
        )

    def _run(self) -> None:
        while True:
            with self._wake:
                if self._closed:
                    return
                self._busy += 1
            try:
                found = self.run_one()
            except (SQLAlchemyError, DBAPIError) as exc:  # the database is away; jobs wait there
                log.warning("job queue unreachable: %s", exc.__class__.__name__)
                found = False
                with self._wake:
                    self._wake.wait(DB_DOWN_PAUSE)
            finally:
                with self._wake:
                    self._busy -= 1
                    self._wake.notify_all()
            if not found:
                with self._wake:
                    if not self._closed:
                        self._wake.wait(POLL_SECONDS)

    # waiting
    def outstanding(self) -> int:
        """Jobs not done yet: waiting (also those retried later) or running."""
        with self.db.session() as session:
            return (
                session.scalar(
                    select(func.count()).select_from(Job).where(Job.status.in_(("pending", "running")))
                )
                or 0
            )

    def wait_idle(self, timeout: float | None = None) -> bool:
        """True once no job is waiting or running (in any process sharing the database)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                if self.outstanding() == 0:
                    with self._wake:
                        if self._busy == 0:
                            return True
            except SQLAlchemyError:
                pass
            if deadline is not None and time.monotonic() >= deadline:
                return False
            with self._wake:
                self._wake.wait(0.05)

    def shutdown(self, timeout: float = 30.0) -> None:
        """Finish the jobs that are due now, then stop the threads; later ones stay stored."""
        self._drain(timeout)
        with self._wake:
            self._closed = True
            self._wake.notify_all()
        for t in self._threads:
            if t.is_alive():
                t.join(timeout=5)

    def _drain(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with self.db.session() as session:
                    due = session.scalar(select(func.count()).select_from(Job).where(_claimable(utcnow())))
                    running = session.scalar(
                        select(func.count())
                        .select_from(Job)
                        .where(Job.status == "running", Job.claimed_by == self.worker_id)
                    )
            except SQLAlchemyError:
                return
            if not due and not running:
                return
            if not self._started:
                self.run_one()
                continue
            with self._wake:
                self._wake.wait(0.05)
