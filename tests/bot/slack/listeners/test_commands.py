"""`/mlready` itself: private answers to `ask`, help for unknown or empty subcommands."""

from __future__ import annotations

import json

import pytest

from bot.slack import ids
from fake_slack.web_api import LocalSlackAPI
from tests.slack_harness import KPI_Q, RunningApp, block_buttons, block_texts


def test_slash_ask_is_private_and_can_be_shared(running: RunningApp, slack: LocalSlackAPI) -> None:
    ack = running.command(f"ask {KPI_Q}", response_name="r1")
    assert ack.status == 200
    assert json.loads(ack.body)["response_type"] == "ephemeral"
    response = slack.wait_for("response_url", 1)[0].params
    assert response["response_type"] == "ephemeral"
    share = block_buttons(response["blocks"])[ids.SHARE_ANSWER]
    assert len(share["text"]["text"]) <= 75

    running.click(
        {"action_id": ids.SHARE_ANSWER, "value": share["value"]}, user="U1", channel="C1", response_name="r1"
    )
    shared = slack.wait_for("chat.postMessage", 1)[0].params
    assert shared["channel"] == "C1"
    assert "<@U1> shared an answer" in block_texts(shared["blocks"])
    assert ids.SHARE_ANSWER not in block_buttons(shared["blocks"])
    running.idle()
    assert any(c.params.get("delete_original") for c in slack.calls_to("response_url"))


@pytest.mark.parametrize("text", ["", "help", "frobnicate the model", "ask"])
def test_help_for_help_unknown_and_empty_subcommands(running: RunningApp, text: str) -> None:
    ack = running.command(text)
    assert ack.status == 200
    body = json.loads(ack.body)
    assert body["response_type"] == "ephemeral"
    rendered = block_texts(body["blocks"])
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
