"""Durable jobs (bot/jobs.py) on SQLite and PostgreSQL: stored with the work they act on,
claimed once, coalesced, retried with backoff, given up, and taken over after a worker dies."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot import jobs
from bot.db.migrate import open_database
from bot.db.models import Job, utcnow
from bot.jobs import Claimed, JobRunner, QueueFull, RetryLater, enqueue


@pytest.fixture
def db(database_url: str):
    database = open_database(database_url)
    yield database
    database.dispose()


def _rows(db) -> list[Job]:
    with db.session() as s:
        return list(s.scalars(select(Job).order_by(Job.id)))


def test_a_job_is_stored_only_with_its_transaction(db) -> None:
    with pytest.raises(RuntimeError), db.session() as s:
        enqueue(s, "k", "T1", {"n": 1})
        raise RuntimeError("the work it acts on failed")
    assert _rows(db) == []
    with db.session() as s:
        enqueue(s, "k", "T1", {"n": 2})
    assert [(r.kind, r.payload, r.status) for r in _rows(db)] == [("k", {"n": 2}, "pending")]


def test_runs_once_in_order_and_coalesces_waiting_jobs(db) -> None:
    seen: list[dict] = []
    runner = JobRunner(db, threads=1, handlers={"k": lambda job: seen.append(job.payload)})
    with db.session() as s:
        enqueue(s, "k", "T1", {"n": 1})
        for n in range(5):  # a burst of clicks on one message
            enqueue(s, "k", "T1", {"render": n}, coalesce_key="m1")
        enqueue(s, "k", "T1", {"n": 2})
    while runner.run_one():
        pass
    assert seen == [{"n": 1}, {"render": 4}, {"n": 2}]
    assert {r.status for r in _rows(db)} == {"done"}
    # Many times over, so that psycopg prepares the statement on PostgreSQL (after 5 runs).
    with db.session() as s:
        for n in range(8):
            enqueue(s, "k", "T1", {"render": n}, coalesce_key="m2")
    assert runner.run_one() and seen[-1] == {"render": 7}
    # A finished job's key does not block the next one.
    with db.session() as s:
        enqueue(s, "k", "T1", {"render": 5}, coalesce_key="m1")
    assert runner.run_one() and seen[-1] == {"render": 5}


def test_retry_with_backoff_then_give_up(db, caplog: pytest.LogCaptureFixture) -> None:
    attempts: list[int] = []

    def flaky(job: Claimed) -> None:
        attempts.append(job.attempts)
        if job.attempts < 3:
            raise RetryLater("Slack answered 500")
        raise ValueError("broken for good")

    runner = JobRunner(
        db, threads=1, handlers={"k": flaky}, give_up={"k": lambda job, now: job.attempts >= 3}
    )
    with db.session() as s:
        enqueue(s, "k", "T1", {})
    now = utcnow()
    assert runner.run_one(now)
    row = _rows(db)[0]
    assert row.status == "pending" and row.last_error == "Slack answered 500"
    assert not runner.run_one(now)  # not due yet: the backoff holds it
    assert runner.run_one(now + timedelta(seconds=jobs.backoff(1) + 1))
    assert runner.run_one(now + timedelta(seconds=60))
    assert attempts == [1, 2, 3]
    row = _rows(db)[0]
    assert row.status == "failed" and "broken for good" in (row.last_error or "")
    assert any("given up after 3 attempts" in r.getMessage() for r in caplog.records)


def test_a_dead_workers_job_is_taken_over_after_its_lease(db) -> None:
    with db.session() as s:
        enqueue(s, "k", "T1", {"n": 1})
    dead = JobRunner(db, threads=1)
    assert dead.claim() is not None  # ... and the process dies here
    survivor_ran: list[int] = []
    survivor = JobRunner(db, threads=1, handlers={"k": lambda job: survivor_ran.append(job.attempts)})
    assert not survivor.run_one()  # the lease still holds
    assert survivor.run_one(utcnow() + jobs.LEASE + timedelta(seconds=1))
    assert survivor_ran == [2]
    # The dead worker cannot settle a job it lost.
    dead._settle(Claimed(1, "k", "T1", {}, 1, utcnow()), status="failed")
    assert _rows(db)[0].status == "done"


def test_the_waiting_bound(db) -> None:
    with db.session() as s:
        for n in range(3):
            enqueue(s, "q", "T1", {"n": n}, max_pending=3)
    with pytest.raises(QueueFull), db.session() as s:
        enqueue(s, "q", "T1", {"n": 3}, max_pending=3)
    assert len(_rows(db)) == 3


def test_threads_share_the_work_without_running_a_job_twice(db) -> None:
    ran: list[int] = []
    lock = threading.Lock()

    def handler(job: Claimed) -> None:
        time.sleep(0.01)
        with lock:
            ran.append(job.payload["n"])

    runners = [JobRunner(db, threads=2, handlers={"k": handler}).start() for _ in range(2)]
    with db.session() as s:
        for n in range(40):
            enqueue(s, "k", "T1", {"n": n})
    for runner in runners:
        runner.wake()
    assert runners[0].wait_idle(30)
    for runner in runners:
        runner.shutdown(5)
    assert sorted(ran) == list(range(40))


def test_kill_9_mid_job_loses_nothing(db, database_url: str, tmp_path) -> None:
    """A process claims a job and is killed; a new runner finishes it once its lease runs out."""
    with db.session() as s:
        enqueue(s, "k", "T1", {"n": 1})
    script = (
        "import os, signal\n"
        "from bot.db.migrate import open_database\n"
        "from bot.jobs import JobRunner\n"
        f"runner = JobRunner(open_database({database_url!r}), threads=1)\n"
        "assert runner.claim() is not None\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], timeout=60, check=False)
    assert result.returncode == -9
    assert _rows(db)[0].status == "running"
    done: list[int] = []
    survivor = JobRunner(db, threads=1, handlers={"k": lambda job: done.append(job.attempts)})
    assert survivor.run_one(utcnow() + jobs.LEASE + timedelta(seconds=1))
    assert done == [2] and _rows(db)[0].status == "done"
