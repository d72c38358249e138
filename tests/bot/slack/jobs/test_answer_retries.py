"""An acknowledged question is answered once even when Slack or the database is away for a
while: storing and posting are tried again later, beyond the Slack client's own retries."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from bot import jobs
from bot.answers import AnswerEngine
from bot.settings import Settings
from fake_slack.web_api import LocalSlackAPI
from tests.conftest import CuttableRelay
from tests.slack_harness import RunningApp

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
