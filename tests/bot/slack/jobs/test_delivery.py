"""A job whose post Slack refuses (e.g. not_in_channel): the user is told, nothing is retried."""

from __future__ import annotations

import pytest

from fake_slack.web_api import LocalSlackAPI
from tests.slack_harness import (
    RunningApp,
    ack_json,
    create_project,
)


def test_not_in_channel_tells_the_user_what_to_do(
    running: RunningApp, slack: LocalSlackAPI, caplog: pytest.LogCaptureFixture
) -> None:
    """Slack refuses a post from a bot that is not in the channel (HTTP 200, ok=false): the job
    does not retry, it logs, and the user is told to invite the bot."""
    create_project(running, "Private")
    slack.fail_next("chat.postMessage", error="not_in_channel")
    assert ack_json(running.command("checklist", response_name="post")) == {}
    slack.fail_next("files.getUploadURLExternal", error="not_in_channel")
    ack_json(running.command("export", response_name="export"))
    running.idle()
    replies = {c.params["_response_id"]: c.params["text"] for c in slack.calls_to("response_url")}
    assert replies["post"].startswith("I could not post in this channel (not_in_channel)")
    assert replies["export"].startswith("I could not upload the report (not_in_channel)")
    assert all("/invite @mlready" in text for text in replies.values())
    assert len(slack.calls_to("chat.postMessage!not_in_channel")) == 1  # not retried
    assert any("channel C1" in r.getMessage() and "not_in_channel" in r.getMessage() for r in caplog.records)
