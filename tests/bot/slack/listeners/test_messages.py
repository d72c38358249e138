"""Mentions, DMs and thread follow-ups: answered once, quickly acked, retries recognised."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import func, select

from bot.answers import Answer, AnswerEngine
from bot.db.models import AnswerRecord, ProcessedEvent
from bot.feedback_report import build_report, to_markdown
from bot.settings import Settings
from bot.slack import ids
from fake_slack import payloads
from fake_slack.web_api import BOT_ID, BOT_USER_ID, LocalSlackAPI
from tests.slack_harness import KPI_Q, RunningApp, block_buttons, block_texts, mention


class SlowEngine:
    """The real engine, answering `delay` seconds late."""

    def __init__(self, engine: AnswerEngine, delay: float) -> None:
        self._engine, self.delay = engine, delay

    def ask(self, question: str) -> Answer:
        time.sleep(self.delay)
        return self._engine.ask(question)


def test_mention_answered_in_thread_then_follow_up(running: RunningApp, slack: LocalSlackAPI) -> None:
    reply = running.event(mention(KPI_Q, ts="100.1"))
    assert reply.status == 200
    posts = slack.wait_for("chat.postMessage", 1)
    first = posts[0].params
    assert first["channel"] == "C1" and first["thread_ts"] == "100.1"
    text = block_texts(first["blocks"])
    assert "*Sources*" in text and "[1]" in text
    buttons = block_buttons(first["blocks"])
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
    assert "monitor" in block_texts(post["blocks"]).lower()


def test_off_topic_is_declined_kindly(running: RunningApp, slack: LocalSlackAPI) -> None:
    running.event(mention("what's the best pizza place near the office?", ts="500.1"))
    post = slack.wait_for("chat.postMessage", 1)[0].params
    text = block_texts(post["blocks"])
    assert "outside what I know" in text and "/mlready checklist" in text
    assert "Closest topics" not in text  # nothing in the guides is close to pizza
    assert ids.FEEDBACK_HELPFUL not in block_buttons(post["blocks"])
    with running.services.db.session() as s:
        rows = build_report(s)
    assert rows and rows[0].declined == 1
    assert "pizza" in to_markdown(rows, None)


def test_ack_is_fast_while_answers_are_slow(
    settings: Settings, engine: AnswerEngine, slack: LocalSlackAPI
) -> None:
    app = RunningApp(
        settings.model_copy(update={"answer_workers": 1}), lambda: SlowEngine(engine, 1.0), slack
    )  # type: ignore[return-value]
    try:
        replies = [app.command(f"ask {KPI_Q}", response_name=f"s{i}") for i in range(4)]
        assert all(r.status == 200 for r in replies)
        assert max(r.seconds for r in replies) < 1.0  # acked before even one answer is ready
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
