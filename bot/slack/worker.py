"""A bounded pool for slow work (retrieval, posting), kept off the request/ack path."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


class Worker:
    def __init__(self, threads: int, max_queue: int, name: str = "answer") -> None:
        self._queue: queue.Queue[tuple[Callable[..., Any], tuple, dict] | None] = queue.Queue(
            maxsize=max_queue
        )
        self._pending = 0
        self._lock = threading.Condition()
        self._threads = [
            threading.Thread(target=self._run, name=f"{name}-{i}", daemon=True) for i in range(threads)
        ]
        for t in self._threads:
            t.start()

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> bool:
        """Queue a job; False (immediately) when the queue is full."""
        with self._lock:
            self._pending += 1
        try:
            self._queue.put_nowait((fn, args, kwargs))
        except queue.Full:
            with self._lock:
                self._pending -= 1
                self._lock.notify_all()
            return False
        return True

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            fn, args, kwargs = job
            try:
                fn(*args, **kwargs)
            except Exception:
                log.exception("background job %s failed", getattr(fn, "__name__", fn))
            finally:
                with self._lock:
                    self._pending -= 1
                    self._lock.notify_all()

    def wait_idle(self, timeout: float | None = None) -> bool:
        with self._lock:
            return self._lock.wait_for(lambda: self._pending == 0, timeout=timeout)

    def shutdown(self, timeout: float = 30.0) -> None:
        """Finish queued work, then stop the threads."""
        self.wait_idle(timeout)
        for _ in self._threads:
            self._queue.put(None)
        for t in self._threads:
            t.join(timeout=1)
