"""Buttons on answers: feedback, and sharing a private answer."""

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


def test_only_the_asker_shares_a_private_answer_and_only_where_it_was_asked(
    running: RunningApp, slack: LocalSlackAPI
) -> None:
    running.command(f"ask {KPI_Q}", user="U1", response_name="asked")
    private = slack.wait_for("response_url", 1)[0].params
    value = block_buttons(private["blocks"])[ids.SHARE_ANSWER]["value"]
    share = {"action_id": ids.SHARE_ANSWER, "value": value}
    running.click(share, user="U2", channel="C1", response_name="other-user")
    running.click(share, user="U1", channel="C9", response_name="other-channel")
    running.idle()
    assert slack.calls_to("chat.postMessage") == []
    replies = {c.params["_response_id"]: c.params.get("text", "") for c in slack.calls_to("response_url")}
    assert "can't find that answer" in replies["other-user"]
    assert "can't find that answer" in replies["other-channel"]
