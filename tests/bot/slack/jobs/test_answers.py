"""Answer jobs: delivery after rate limits and failures, a broken index, project notes."""

from __future__ import annotations

import logging

import pytest

from bot.answers import AnswerEngine
from bot.settings import Settings
from bot.slack import ids
from fake_slack import payloads
from fake_slack.web_api import LocalSlackAPI
from tests.slack_harness import (
    KPI_Q,
    RunningApp,
    block_buttons,
    block_texts,
    create_project,
    mention,
)


def test_rate_limited_then_delivered(running: RunningApp, slack: LocalSlackAPI) -> None:
    slack.fail_next("chat.postMessage", status=429, times=3, retry_after=1)
    running.event(mention(KPI_Q, ts="800.1"))
    posts = slack.wait_for("chat.postMessage", 1, timeout=60)
    assert len(posts) == 1
    assert len(slack.calls_to("chat.postMessage!429")) == 3


def test_failure_after_retries_is_logged_with_channel(
    start_app, slack: LocalSlackAPI, caplog: pytest.LogCaptureFixture
) -> None:
    running: RunningApp = start_app(slack_max_retries=2)  # fewer client retries, same behaviour
    running.services.answers.retry_window = 0  # give up after the client's own retries
    slack.fail_next("chat.postMessage", status=500, times=50)
    with caplog.at_level(logging.ERROR):
        running.event(mention(KPI_Q, ts="900.1"))
        running.idle(timeout=120)
    assert len(slack.calls_to("chat.postMessage!500")) == running.settings.slack_max_retries + 1
    assert any(
        "channel C1" in r.getMessage() and "failed after retries" in r.getMessage() for r in caplog.records
    )


def test_a_broken_index_gets_an_apology_not_endless_retries(
    tmp_path, shipped_index, slack: LocalSlackAPI, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.db.models import Job
    from indexer.errors import IndexInvalidError

    def broken() -> AnswerEngine:
        raise IndexInvalidError("the knowledge index has format 1; run `mlready index` to rebuild it")

    settings = Settings(index_dir=shipped_index, database_url=f"sqlite:///{tmp_path / 'b.db'}")
    app = RunningApp(settings, broken, slack)
    try:
        app.event(mention(KPI_Q, ts="1200.1"))
        post = slack.wait_for("chat.postMessage", 1)[0].params
        app.idle()
        assert "can't answer questions right now" in post["text"] and post["thread_ts"] == "1200.1"
        with app.services.db.session() as s:
            assert [j.status for j in s.query(Job)] == ["done"]
        assert any("mlready index" in r.getMessage() for r in caplog.records)
    finally:
        app.stop()


def test_answers_mention_the_projects_open_items(running: RunningApp, slack: LocalSlackAPI) -> None:
    create_project(running, "Churn")
    question = payloads.message_event(
        "<@UMLREADY> how do we pick a KPI for churn?", channel="C1", user="U1", ts="50.1", mention=True
    )
    running.event(question)
    post = slack.wait_for("chat.postMessage", 1)[0].params
    assert "In *Churn*, no KPI is recorded yet" in block_texts(post["blocks"])
    assert ids.KPI_OPEN in block_buttons(post["blocks"])
    # No project in the channel: no extra line, no KPI button.
    running.event({**question, "channel": "C9", "ts": "51.1"})
    other = slack.wait_for("chat.postMessage", 2)[1].params
    assert "In *" not in block_texts(other["blocks"])
    assert ids.KPI_OPEN not in block_buttons(other["blocks"])


def test_readiness_question_in_a_project_channel_lists_its_gaps(start_app, slack: LocalSlackAPI) -> None:
    running: RunningApp = start_app()
    assert running.command("project create Launchpad").status == 200
    running.event(mention("we're about to launch, what are we missing?", ts="80.1"))
    post = slack.wait_for("chat.postMessage", 1)[0].params
    text = block_texts(post["blocks"])
    assert "blocking checklist items" in text
    assert "In *Launchpad*" in text and "blocking items still open" in text and "/mlready checklist" in text
