"""Projects, the checklist, KPIs, sign-off, status, export and App Home, end to end
through the signed HTTP endpoint and the local Slack Web API."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot.db.models import Signoff
from bot.slack import ids
from fake_slack.web_api import LocalSlackAPI
from tests.slack_harness import (
    RunningApp,
    ack_json,
    block_buttons,
    block_texts,
    create_project,
    view_submission,
)


def test_signoff_flow_with_wrong_user(running: RunningApp, slack: LocalSlackAPI) -> None:
    create_project(running)
    assert "@-mention" in ack_json(running.command("signoff dana"))["text"]
    ack_json(running.command("signoff <@U5|dana> objectives and KPIs"))
    dm = slack.wait_for("chat.postMessage", 2)
    request = next(c.params for c in dm if c.params["channel"] == "U5")
    assert "asks you to sign off" in block_texts(request["blocks"])
    approve = block_buttons(request["blocks"])[ids.SIGNOFF_APPROVE]

    # Someone else cannot approve.
    running.click(
        {"action_id": ids.SIGNOFF_APPROVE, "value": approve["value"]},
        user="U6",
        channel="U5",
        response_name="wrong",
    )
    running.idle()
    wrong = [c for c in slack.calls_to("response_url") if c.params["_response_id"] == "wrong"]
    assert wrong and "Only <@U5>" in wrong[-1].params["text"]
    with running.services.db.session() as s:
        assert s.scalars(select(Signoff)).one().status == "requested"

    running.click({"action_id": ids.SIGNOFF_APPROVE, "value": approve["value"]}, user="U5", channel="U5")
    running.idle()
    with running.services.db.session() as s:
        assert s.scalars(select(Signoff)).one().status == "approved"
    posts = [c.params["text"] for c in slack.calls_to("chat.postMessage")]
    assert any("<@U5> approved" in t for t in posts)
    assert "Approved by <@U5>" in json.dumps(slack.calls_to("chat.update")[-1].params["blocks"])
    status = block_texts(ack_json(running.command("status"))["blocks"])
    assert "Stakeholder sign-off*: approved" in status

    # The stakeholder can withdraw the approval from the updated DM; nobody else can.
    revoke = block_buttons(slack.calls_to("chat.update")[-1].params["blocks"])[ids.SIGNOFF_REVOKE]
    running.click({"action_id": ids.SIGNOFF_REVOKE, "value": revoke["value"]}, user="U6")
    running.click({"action_id": ids.SIGNOFF_REVOKE, "value": revoke["value"]}, user="U5")
    running.idle()
    with running.services.db.session() as s:
        assert s.scalars(select(Signoff)).one().status == "revoked"
    assert any("revoked their approval" in c.params["text"] for c in slack.calls_to("chat.postMessage"))
    assert "Stakeholder sign-off*: revoked" in block_texts(ack_json(running.command("status"))["blocks"])


def test_request_changes_needs_a_comment(running: RunningApp, slack: LocalSlackAPI) -> None:
    create_project(running)
    ack_json(running.command("signoff <@U5> KPIs"))
    request = next(c.params for c in slack.wait_for("chat.postMessage", 2) if c.params["channel"] == "U5")
    changes = block_buttons(request["blocks"])[ids.SIGNOFF_CHANGES]
    running.click({"action_id": ids.SIGNOFF_CHANGES, "value": changes["value"]}, user="U5")
    view = slack.wait_for("views.open", 1)[0].params["view"]
    empty = json.loads(running.post(*view_submission(view, {"comment": ""}, user="U5")).body)
    assert "comment" in empty["errors"]
    ok = running.post(*view_submission(view, {"comment": "Target is too ambitious"}, user="U5"))
    assert ok.status == 200
    running.idle()
    posts = [c.params["text"] for c in slack.calls_to("chat.postMessage")]
    assert any("requested changes to *KPIs*: Target is too ambitious" in t for t in posts)
