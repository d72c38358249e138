"""An acknowledged question is answered once even when Slack or the database is away for a
while: storing and posting are tried again later, beyond the Slack client's own retries."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from bot import jobs
from bot.answers import AnswerEngine
from bot.settings import Settings
from fake_slack.web_api import LocalSlackAPI
from tests.slack_harness import RunningApp, free_port

QUESTION = "how do we pick a KPI for churn?"


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobs, "FIRST_RETRY", 0.2)
    monkeypatch.setattr(jobs, "MAX_RETRY", 0.5)


def test_answer_delivered_once_after_slack_failed_longer_than_client_retries(
    tmp_path: Path, shipped_index: Path, engine: AnswerEngine, slack: LocalSlackAPI
) -> None:
    settings = Settings(
        index_dir=shipped_index, database_url=f"sqlite:///{tmp_path / 'a.db'}", slack_max_retries=0
    )
    app = RunningApp(settings, lambda: engine, slack)
    try:
        slack.fail_for(1.5, status=500)
        ack = app.command(f"ask {QUESTION}", response_name="q1")
        assert ack.status == 200 and "Looking that up" in json.loads(ack.body)["text"]
        delivered = slack.wait_for("response_url", 1, timeout=30)
        app.idle()
        assert [c.params["_response_id"] for c in slack.calls_to("response_url")] == ["q1"]
        assert delivered[0].at - slack.calls_to("response_url!500")[0].at >= 1.0
        assert len(slack.calls_to("response_url!500")) >= 2  # the client gave up at least twice
    finally:
        app.stop()


class CuttableRelay:
    """A TCP relay to PostgreSQL on 5432 that can be cut (connections dropped, new ones refused)."""

    def __init__(self) -> None:
        self.port = free_port()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self.restore()

    def restore(self) -> None:
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", self.port))
        self._listener.listen(32)
        threading.Thread(target=self._accept, args=(self._listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", 5432))
            with self._lock:
                self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := a.recv(65536):
                b.sendall(data)
        with contextlib.suppress(OSError):
            b.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        with self._lock:
            for s in self._sockets:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
            self._sockets.clear()


@pytest.fixture
def relay() -> Iterator[CuttableRelay]:
    r = CuttableRelay()
    yield r
    r.cut()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_answer_stored_and_delivered_once_after_the_database_comes_back(
    database_url: str,
    relay: CuttableRelay,
    shipped_index: Path,
    engine: AnswerEngine,
    slack: LocalSlackAPI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A question is acknowledged only once its job is stored; a stored job survives the
    database going away in the middle of its retries and is answered once when it is back."""
    monkeypatch.setattr(jobs, "LEASE", timedelta(seconds=1))  # a job stuck by the cut is free soon
    through_relay = database_url.replace(":5432/", f":{relay.port}/")
    app = RunningApp(Settings(index_dir=shipped_index, database_url=through_relay), lambda: engine, slack)
    try:
        assert app.command(f"ask {QUESTION}", response_name="warm").status == 200
        slack.wait_for("response_url", 1, timeout=30)
        app.idle(timeout=30)  # its job marked done: a cut before that means a second delivery
        assert app.get("/readyz").status == 200

        # With the database away nothing can be stored, so the user is told to try again.
        relay.cut()
        assert app.get("/readyz").status == 503
        refused = app.command(f"ask {QUESTION}", user="U3", response_name="lost")
        assert refused.status == 200 and "try again" in json.loads(refused.body)["text"]
        relay.restore()

        # Stored, then Slack fails and the database goes away while the job is retried.
        slack.fail_for(1.0, status=500)
        assert app.command(f"ask {QUESTION}", user="U2", response_name="q2").status == 200
        relay.cut()
        time.sleep(1.5)
        relay.restore()
        slack.wait_for("response_url", 2, timeout=60)
        app.idle(timeout=60)
        assert app.get("/readyz").status == 200
        assert [c.params["_response_id"] for c in slack.calls_to("response_url")] == ["warm", "q2"]
        with psycopg.connect(database_url) as conn:
            rows = conn.execute("SELECT user_id FROM answer_records ORDER BY id").fetchall()
        assert [r[0] for r in rows] == ["U1", "U2"]
    finally:
        app.stop()
