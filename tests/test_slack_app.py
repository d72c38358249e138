"""The Slack app end to end: signed requests to the real HTTP endpoint under uvicorn,
the real Bolt app and WebClient, and the local Slack Web API recording every call."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.answers import Answer, AnswerEngine
from bot.db.models import AnswerFeedback, AnswerRecord, ProcessedEvent
from bot.feedback_report import build_report, to_markdown
from bot.settings import Settings
from bot.slack import ids, payloads
from bot.slack.local_api import BOT_ID, BOT_USER_ID, LocalSlackAPI
from tests.slack_harness import TEAM, RunningApp

KPI_Q = "how do we pick a KPI for churn?"


class SlowEngine:
    """The real engine, answering `delay` seconds late."""

    def __init__(self, engine: AnswerEngine, delay: float) -> None:
        self._engine, self.delay = engine, delay

    def ask(self, question: str) -> Answer:
        time.sleep(self.delay)
        return self._engine.ask(question)


@pytest.fixture
def settings(tmp_path: Path, shipped_index: Path) -> Settings:
    return Settings(index_dir=shipped_index, database_url=f"sqlite:///{tmp_path / 'bot.db'}")


@pytest.fixture
def running(settings: Settings, engine: AnswerEngine, slack: LocalSlackAPI) -> Iterator[RunningApp]:
    app = RunningApp(settings, lambda: engine, slack)
    yield app
    app.stop()


def _texts(blocks: list[dict]) -> str:
    out = []
    for b in blocks:
        if b["type"] == "section":
            out.append(b["text"]["text"])
        elif b["type"] == "context":
            out += [e.get("text", "") for e in b["elements"]]
        elif b["type"] == "actions":
            out += [e["text"]["text"] for e in b["elements"]]
    return "\n".join(out)


def _buttons(blocks: list[dict]) -> dict[str, dict]:
    return {e["action_id"]: e for b in blocks if b["type"] == "actions" for e in b["elements"]}


def mention(text: str, ts: str, **kw: object) -> dict:
    return payloads.message_event(
        f"<@{BOT_USER_ID}> {text}", channel="C1", user="U1", ts=ts, mention=True, **kw
    )


def test_mention_answered_in_thread_then_follow_up(running: RunningApp, slack: LocalSlackAPI) -> None:
    reply = running.event(mention(KPI_Q, ts="100.1"))
    assert reply.status == 200
    posts = slack.wait_for("chat.postMessage", 1)
    first = posts[0].params
    assert first["channel"] == "C1" and first["thread_ts"] == "100.1"
    text = _texts(first["blocks"])
    assert "*Sources*" in text and "[1]" in text
    buttons = _buttons(first["blocks"])
    assert {ids.FEEDBACK_HELPFUL, ids.FEEDBACK_NOT_HELPFUL, ids.GUIDE_READ, ids.GUIDE_EXAMPLE} <= set(buttons)
    assert ids.SHARE_ANSWER not in buttons  # already in the channel
    assert buttons[ids.FEEDBACK_HELPFUL]["value"].isdigit()

    # A follow-up in that thread, without a mention, is answered in the thread too.
    running.event(
        payloads.message_event(
            "and what baseline should we measure first?",
            channel="C1",
            user="U2",
            ts="100.5",
            thread_ts="100.1",
        )
    )
    posts = slack.wait_for("chat.postMessage", 2)
    assert posts[1].params["thread_ts"] == "100.1"
    # A message in a thread the bot never joined is left alone, as is a top-level message.
    running.event(
        payloads.message_event(
            "how do we monitor drift?", channel="C1", user="U2", ts="200.2", thread_ts="200.1"
        )
    )
    running.event(payloads.message_event("how do we monitor drift?", channel="C1", user="U2", ts="200.3"))
    running.idle()
    assert len(slack.calls_to("chat.postMessage")) == 2
    with running.services.db.session() as s:
        surfaces = s.scalars(select(AnswerRecord.surface).order_by(AnswerRecord.id)).all()
    assert surfaces == ["mention", "thread"]


def test_direct_message_answered_in_dm(running: RunningApp, slack: LocalSlackAPI) -> None:
    running.event(
        payloads.message_event(
            "what should we monitor in production?", channel="D9", user="U1", ts="300.1", channel_type="im"
        )
    )
    post = slack.wait_for("chat.postMessage", 1)[0].params
    assert post["channel"] == "D9" and not post.get("thread_ts")
    assert "monitor" in _texts(post["blocks"]).lower()


def test_slash_ask_is_private_and_can_be_shared(running: RunningApp, slack: LocalSlackAPI) -> None:
    ack = running.command(f"ask {KPI_Q}", response_name="r1")
    assert ack.status == 200
    assert json.loads(ack.body)["response_type"] == "ephemeral"
    response = slack.wait_for("response_url", 1)[0].params
    assert response["response_type"] == "ephemeral"
    share = _buttons(response["blocks"])[ids.SHARE_ANSWER]
    assert len(share["text"]["text"]) <= 75

    running.click(
        {"action_id": ids.SHARE_ANSWER, "value": share["value"]}, user="U1", channel="C1", response_name="r1"
    )
    shared = slack.wait_for("chat.postMessage", 1)[0].params
    assert shared["channel"] == "C1"
    assert "<@U1> shared an answer" in _texts(shared["blocks"])
    assert ids.SHARE_ANSWER not in _buttons(shared["blocks"])
    running.idle()
    assert any(c.params.get("delete_original") for c in slack.calls_to("response_url"))


@pytest.mark.parametrize("text", ["", "help", "frobnicate the model", "ask"])
def test_help_for_help_unknown_and_empty_subcommands(running: RunningApp, text: str) -> None:
    ack = running.command(text)
    assert ack.status == 200
    body = json.loads(ack.body)
    assert body["response_type"] == "ephemeral"
    rendered = _texts(body["blocks"])
    for usage in (
        "/mlready ask",
        "/mlready checklist",
        "/mlready status",
        "/mlready project create",
        "/mlready signoff",
        "/mlready remind",
    ):
        assert usage in rendered
    if text.startswith("frobnicate"):
        assert "`frobnicate`" in rendered


def test_feedback_is_stored_and_reported(running: RunningApp, slack: LocalSlackAPI) -> None:
    running.event(mention(KPI_Q, ts="400.1"))
    post = slack.wait_for("chat.postMessage", 1)[0].params
    value = _buttons(post["blocks"])[ids.FEEDBACK_NOT_HELPFUL]["value"]
    assert running.click({"action_id": ids.FEEDBACK_NOT_HELPFUL, "value": value}).status == 200
    running.click({"action_id": ids.FEEDBACK_NOT_HELPFUL, "value": value}, user="U7")
    running.click({"action_id": ids.FEEDBACK_HELPFUL, "value": value})  # U1 changes their mind
    running.click({"action_id": ids.FEEDBACK_HELPFUL, "value": "999999"})  # unknown answer
    running.idle()
    with running.services.db.session() as s:
        votes = {(f.user_id, f.helpful) for f in s.scalars(select(AnswerFeedback))}
        record = s.get(AnswerRecord, int(value))
        assert record is not None
        assert record.question == KPI_Q and record.user_id == "U1"
        assert record.sources and record.sources[0]["doc_id"]
        rows = build_report(s)
    assert votes == {("U1", True), ("U7", False)}
    assert [r.question for r in rows] == [KPI_Q]
    assert rows[0].not_helpful == 1 and rows[0].sources
    thanks = [c.params["text"] for c in slack.calls_to("chat.postEphemeral")]
    assert any("can't find that answer" in t for t in thanks)


def test_off_topic_is_declined_kindly(running: RunningApp, slack: LocalSlackAPI) -> None:
    running.event(mention("what's the best pizza place near the office?", ts="500.1"))
    post = slack.wait_for("chat.postMessage", 1)[0].params
    text = _texts(post["blocks"])
    assert "outside what I know" in text and "/mlready checklist" in text
    assert "Closest topics" not in text  # nothing in the guides is close to pizza
    assert ids.FEEDBACK_HELPFUL not in _buttons(post["blocks"])
    with running.services.db.session() as s:
        rows = build_report(s)
    assert rows and rows[0].declined == 1
    assert "pizza" in to_markdown(rows, None)


def test_ack_is_fast_while_answers_are_slow(
    settings: Settings, engine: AnswerEngine, slack: LocalSlackAPI
) -> None:
    app = RunningApp(
        settings.model_copy(update={"answer_workers": 1}), lambda: SlowEngine(engine, 2.0), slack
    )  # type: ignore[return-value]
    try:
        replies = [app.command(f"ask {KPI_Q}", response_name=f"s{i}") for i in range(4)]
        assert all(r.status == 200 for r in replies)
        assert max(r.seconds for r in replies) < 3.0  # all queued behind one slow worker
        assert slack.calls_to("response_url") == []  # nothing answered yet: acked first
        assert len(slack.wait_for("response_url", 4, timeout=60)) == 4
    finally:
        app.stop()


def test_event_retry_is_not_answered_twice_even_across_restart(
    database_url: str,
    tmp_path: Path,
    shipped_index: Path,
    engine: AnswerEngine,
    slack: LocalSlackAPI,
) -> None:
    settings = Settings(index_dir=shipped_index, database_url=database_url)
    app = RunningApp(settings, lambda: engine, slack)
    try:
        assert app.event(mention(KPI_Q, ts="600.1"), event_id="EvSAME").status == 200
        assert (
            app.event(
                mention(KPI_Q, ts="600.1"),
                event_id="EvSAME",
                extra_headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
            ).status
            == 200
        )
        app.idle()
    finally:
        app.stop()
    restarted = RunningApp(settings, lambda: engine, slack)
    try:
        reply = restarted.event(
            mention(KPI_Q, ts="600.1"), event_id="EvSAME", extra_headers={"X-Slack-Retry-Num": "2"}
        )
        assert reply.status == 200
        restarted.idle()
        assert len(slack.calls_to("chat.postMessage")) == 1
        with restarted.services.db.session() as s:
            assert s.scalar(select(func.count()).select_from(ProcessedEvent)) == 1
    finally:
        restarted.stop()


def test_bad_missing_and_stale_signatures_are_rejected(running: RunningApp, slack: LocalSlackAPI) -> None:
    body, ctype = payloads.slash_command(
        f"ask {KPI_Q}", team_id=TEAM, channel_id="C1", user_id="U1", response_url=slack.response_url()
    )
    assert running.post(body, ctype, secret="wrong-secret").status == 401
    assert running.post(body, ctype, sign=False).status == 401
    assert running.post(body, ctype, timestamp=int(time.time()) - 600).status == 401
    event_body, event_type = payloads.event_callback(mention(KPI_Q, ts="700.1"), team_id=TEAM)
    assert running.post(event_body, event_type, secret="wrong").status == 401
    time.sleep(0.3)
    running.idle()
    assert slack.calls == [] or all(c.method == "auth.test" for c in slack.calls)
    with running.services.db.session() as s:
        assert s.scalar(select(func.count()).select_from(AnswerRecord)) == 0
        assert s.scalar(select(func.count()).select_from(ProcessedEvent)) == 0


def test_malformed_bodies_get_4xx_and_the_app_keeps_serving(running: RunningApp) -> None:
    bad = [
        ("{not json", "application/json"),
        ("[1, 2, 3]", "application/json"),
        ('"just a string"', "application/json"),
        ("payload=%7Bnot-json", "application/x-www-form-urlencoded"),
        ("payload=%5B%5D", "application/x-www-form-urlencoded"),
        ("", "application/x-www-form-urlencoded"),
        ("\xff\xfe", "application/json"),
    ]
    for body, ctype in bad:
        reply = running.post(body, ctype)
        assert 400 <= reply.status < 500, (body, reply)
        assert "Traceback" not in reply.body
    assert running.get("/healthz").status == 200
    assert running.command("help").status == 200


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


def test_bot_and_own_messages_are_ignored(running: RunningApp, slack: LocalSlackAPI) -> None:
    running.event(mention(KPI_Q, ts="1000.1"))
    slack.wait_for("chat.postMessage", 1)
    in_thread = {"channel": "C1", "ts": "1000.9", "thread_ts": "1000.1"}
    running.event(payloads.message_event(KPI_Q, user=BOT_USER_ID, bot_id=BOT_ID, **in_thread))
    running.event(
        payloads.message_event(KPI_Q, user="UOTHER", bot_id="BOTHER", **{**in_thread, "ts": "1000.8"})
    )
    running.event(
        payloads.message_event(KPI_Q, user="U1", subtype="message_changed", **{**in_thread, "ts": "1000.7"})
    )
    running.event(
        payloads.message_event(
            KPI_Q, user="U5", subtype="bot_message", channel_type="im", channel="D1", ts="1000.6"
        )
    )
    running.idle()
    assert len(slack.calls_to("chat.postMessage")) == 1


def test_health_and_readiness(running: RunningApp, slack: LocalSlackAPI) -> None:
    assert json.loads(running.get("/healthz").body) == {"status": "ok"}
    assert running.get("/readyz").status == 503  # the engine loads on first use
    running.event(mention(KPI_Q, ts="1100.1"))
    slack.wait_for("chat.postMessage", 1)
    assert json.loads(running.get("/readyz").body) == {"ready": True}


def test_app_home_is_published(running: RunningApp, slack: LocalSlackAPI) -> None:
    running.event({"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"})
    view = slack.wait_for("views.publish", 1)[0].params
    assert view["user_id"] == "U1"
    assert view["view"]["type"] == "home"
    assert "/mlready ask" in json.dumps(view["view"])


def test_a_command_whose_listener_fails_gets_a_reply_not_dispatch_failed(
    running: RunningApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    from bot import projects

    def database_away(*_args: object, **_kwargs: object) -> None:
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

    monkeypatch.setattr(projects, "channel_project", database_away)
    reply = running.command("status")
    assert reply.status == 200
    body = json.loads(reply.body)
    assert body["response_type"] == "ephemeral" and "try again in a minute" in body["text"]
    assert "Traceback" not in reply.body and "OperationalError" not in reply.body


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
