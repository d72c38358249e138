"""A bounded pool for slow work (retrieval, posting), kept off the request/ack path."""

from __future__ import annotations

import heapq
import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


class RetryLater(Exception):  # a request to the worker rather than an error
    """Raised by a job to have `then` run on the worker `delay` seconds from now.

    Nothing is retried by itself: the job decides what is left to do (for example, only the
    delivery of an answer already stored). The work stays pending meanwhile, so `wait_idle`
    and `shutdown` wait for it, and no worker thread is held while it waits.
    """

    def __init__(self, delay: float, then: Callable[[], Any]) -> None:
        super().__init__(f"retry in {delay:g} s")
        self.delay = delay
        self.then = then


@dataclass(eq=False)
class _Job:
    fn: Callable[..., Any]
    args: tuple
    kwargs: dict
    key: Hashable | None = None  # set by submit_latest


class Worker:
    def __init__(self, threads: int, max_queue: int, name: str = "answer") -> None:
        self._queue: queue.Queue[_Job | None] = queue.Queue(maxsize=max_queue)
        self._pending = 0
        self._lock = threading.Condition()
        self._waiting: dict[Hashable, _Job] = {}  # submit_latest's jobs not started yet
        self._later: list[tuple[float, int, Callable[[], Any]]] = []  # heap of (due, seq, job)
        self._later_seq = itertools.count()
        self._later_ready = threading.Condition()
        self._closed = False
        threading.Thread(target=self._release_due, name=f"{name}-later", daemon=True).start()
        self._threads = [
            threading.Thread(target=self._run, name=f"{name}-{i}", daemon=True) for i in range(threads)
        ]
        for t in self._threads:
            t.start()

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> bool:
        """Queue a job; False (immediately) when the queue is full."""
        return self._enqueue(_Job(fn, args, kwargs))

    def submit_latest(self, key: Hashable, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> bool:
        """Like `submit`, but while a job with the same key is still waiting, this one takes its
        place instead of queueing another. For work where only the newest request counts, such
        as re-rendering one message after a burst of clicks: the burst costs one slot."""
        with self._lock:
            waiting = self._waiting.get(key)
            if waiting is not None:
                waiting.fn, waiting.args, waiting.kwargs = fn, args, kwargs
                return True
            return self._enqueue(_Job(fn, args, kwargs, key))

    def _enqueue(self, job: _Job) -> bool:
        with self._lock:  # a re-entrant Condition: submit_latest already holds it
            try:
                self._queue.put_nowait(job)
            except queue.Full:
                return False
            self._pending += 1
            if job.key is not None:
                self._waiting[job.key] = job
            return True

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            with self._lock:
                if job.key is not None and self._waiting.get(job.key) is job:
                    del self._waiting[job.key]
                fn, args, kwargs = job.fn, job.args, job.kwargs
            retry: RetryLater | None = None
            try:
                fn(*args, **kwargs)
            except RetryLater as exc:
                retry = exc
            except Exception:
                log.exception("background job %s failed", getattr(fn, "__name__", fn))
            finally:
                if retry is None:
                    with self._lock:
                        self._pending -= 1
                        self._lock.notify_all()
            if retry is not None:  # still pending: it is only postponed
                with self._later_ready:
                    due = time.monotonic() + max(retry.delay, 0.0)
                    heapq.heappush(self._later, (due, next(self._later_seq), retry.then))
                    self._later_ready.notify()

    def _release_due(self) -> None:
        """Moves postponed jobs into the queue when their time comes."""
        while True:
            with self._later_ready:
                while not self._closed and (not self._later or self._later[0][0] > time.monotonic()):
                    self._later_ready.wait(self._later[0][0] - time.monotonic() if self._later else None)
                if self._closed:
                    return
                _, _, then = heapq.heappop(self._later)
            # Blocks while the queue is full; the job was accepted before, so it is not refused.
            self._queue.put(_Job(then, (), {}))

    def wait_idle(self, timeout: float | None = None) -> bool:
        with self._lock:
            return self._lock.wait_for(lambda: self._pending == 0, timeout=timeout)

    def shutdown(self, timeout: float = 30.0) -> None:
        """Finish queued work, then stop the threads."""
        if not self.wait_idle(timeout):
            with self._lock:
                log.warning("stopping with %d background job(s) unfinished", self._pending)
        with self._later_ready:
            self._closed = True
            self._later_ready.notify()
        for _ in self._threads:
            self._queue.put(None)
        for t in self._threads:
            t.join(timeout=1)
