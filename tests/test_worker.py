"""The background worker: a newer job can take a waiting one's place, and a job can postpone
what is left of it."""

from __future__ import annotations

import threading

from bot.slack.worker import RetryLater, Worker


def test_submit_latest_replaces_the_waiting_job_with_the_same_key() -> None:
    worker = Worker(threads=1, max_queue=3, name="test")
    started, gate = threading.Event(), threading.Event()
    ran: list[tuple[str, str]] = []

    def busy() -> None:
        started.set()
        gate.wait(10)

    def render(message: str, section: str) -> None:
        ran.append((message, section))

    try:
        assert worker.submit(busy)
        assert started.wait(5)  # the only thread is busy from now on
        # A burst of clicks on message A while its render waits: one render, the newest.
        assert all(worker.submit_latest("A", render, "A", f"s{n}") for n in range(10))
        assert worker.submit_latest("B", render, "B", "s0")
        assert worker.submit(render, "C", "s0")
        assert not worker.submit(render, "D", "s0")  # the queue (3) is full
        assert worker.submit_latest("A", render, "A", "last")  # ... but A's place is taken over
        gate.set()
        assert worker.wait_idle(5)
        assert ran == [("A", "last"), ("B", "s0"), ("C", "s0")]
        # Once it has started, the same key is queued again.
        assert worker.submit_latest("A", render, "A", "again")
        assert worker.wait_idle(5)
        assert ran[-1] == ("A", "again")
    finally:
        gate.set()
        worker.shutdown(5)


def test_retry_later_runs_the_rest_after_the_delay_and_stays_pending() -> None:
    worker = Worker(threads=1, max_queue=2, name="test")
    attempts: list[str] = []

    def deliver(attempt: int) -> None:
        attempts.append(f"try {attempt}")
        if attempt < 3:
            raise RetryLater(0.2, lambda: deliver(attempt + 1))

    try:
        assert worker.submit(deliver, 1)
        assert not worker.wait_idle(0.1)  # postponed work counts as pending
        assert worker.submit(attempts.append, "other")  # the thread is free meanwhile
        assert worker.wait_idle(5)
        assert attempts == ["try 1", "other", "try 2", "try 3"]
    finally:
        worker.shutdown(5)
