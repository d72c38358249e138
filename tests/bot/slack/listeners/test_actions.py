"""The Slack app end to end: signed requests to the real HTTP endpoint under uvicorn,
the real Bolt app and WebClient, and the local Slack Web API recording every call."""

from __future__ import annotations

from sqlalchemy import select

from bot.db.models import AnswerFeedback, AnswerRecord
from bot.feedback_report import build_report
from bot.slack import ids
from fake_slack.web_api import LocalSlackAPI
from tests.slack_harness import KPI_Q, RunningApp, block_buttons, mention


def test_feedback_is_stored_and_reported(running: RunningApp, slack: LocalSlackAPI) -> None:
    running.event(mention(KPI_Q, ts="400.1"))
    post = slack.wait_for("chat.postMessage", 1)[0].params
    value = block_buttons(post["blocks"])[ids.FEEDBACK_NOT_HELPFUL]["value"]
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
