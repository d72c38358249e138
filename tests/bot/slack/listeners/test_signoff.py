"""`/mlready signoff` and the stakeholder's decisions, end to end through the signed HTTP endpoint
and the local Slack Web API, with command text as Slack sends it for the shipped manifest."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from bot.db.models import Signoff
from bot.slack import ids
from fake_slack.web_api import LocalSlackAPI
from tests.slack_harness import (
    COMMAND_ESCAPES,
    RunningApp,
    ack_json,
    block_buttons,
    block_texts,
    create_project,
    view_submission,
)


@pytest.fixture(autouse=True)
def people(slack: LocalSlackAPI) -> None:
    """The workspace's directory, from which Slack turns a typed @name into a mention."""
    for uid, name in (("U1", "owner"), ("U5", "dana"), ("U6", "sam"), ("U7", "erin"), ("U8", "kim")):
        slack.users[uid] = {"id": uid, "name": name, "tz": "UTC", "is_bot": False}


def test_signoff_flow_with_wrong_user(running: RunningApp, slack: LocalSlackAPI) -> None:
    create_project(running)
    assert "@-mention" in ack_json(running.command("signoff dana"))["text"]
    ack_json(running.command("signoff @dana objectives and KPIs"))
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
    ack_json(running.command("signoff @dana KPIs"))
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


def test_a_typed_name_is_sent_as_a_mention_and_an_unknown_one_is_explained(
    running: RunningApp, slack: LocalSlackAPI
) -> None:
    assert COMMAND_ESCAPES, "the manifest escapes mentions, so Slack sends <@U5|dana>"
    create_project(running)
    unknown = ack_json(running.command("signoff @nobody objectives"))["text"]
    assert "can't find anyone called @nobody" in unknown and "pick the stakeholder" in unknown
    ok = ack_json(running.command("signoff @dana the Q3 objectives & KPIs"))["text"]
    assert ok.startswith("I asked <@U5> to sign off")
    with running.services.db.session() as s:
        request = s.scalars(select(Signoff)).one()
    assert (request.stakeholder_id, request.what) == ("U5", "the Q3 objectives & KPIs")


def test_nobody_signs_off_their_own_request_or_replaces_anothers(
    running: RunningApp, slack: LocalSlackAPI
) -> None:
    create_project(running)  # owned by U1
    own = ack_json(running.command("signoff @erin objectives", user="U7"))["text"]
    assert "can't sign off a request of your own" in own
    ack_json(running.command("signoff @dana objectives", user="U6"))
    dm = next(c.params for c in slack.wait_for("chat.postMessage", 2) if c.params["channel"] == "U5")
    # A third member cannot replace the waiting request with one to an accomplice...
    taken = ack_json(running.command("signoff @kim objectives", user="U7"))["text"]
    assert "still waiting for an answer" in taken and "<@U6>" in taken and "<@U1>" in taken
    # ...the owner can, and says so; the first request can then no longer be approved.
    replaced = ack_json(running.command("signoff @erin objectives", user="U1"))["text"]
    assert "replaces the request to <@U5>" in replaced
    approve = block_buttons(dm["blocks"])[ids.SIGNOFF_APPROVE]
    running.click(
        {"action_id": approve["action_id"], "value": approve["value"]}, user="U5", response_name="old"
    )
    running.idle()
    old = [c.params["text"] for c in slack.calls_to("response_url") if c.params["_response_id"] == "old"]
    assert old and "withdrawn" in old[-1]
    with running.services.db.session() as s:
        assert [(r.stakeholder_id, r.status) for r in s.scalars(select(Signoff).order_by(Signoff.id))] == [
            ("U5", "withdrawn"),
            ("U7", "requested"),
        ]


def test_simultaneous_decisions_decide_once(running: RunningApp, slack: LocalSlackAPI) -> None:
    create_project(running)
    ack_json(running.command("signoff @dana objectives"))
    dm = next(c.params for c in slack.wait_for("chat.postMessage", 2) if c.params["channel"] == "U5")
    approve = block_buttons(dm["blocks"])[ids.SIGNOFF_APPROVE]
    with ThreadPoolExecutor(10) as pool:
        replies = list(
            pool.map(
                lambda n: running.click(
                    {"action_id": approve["action_id"], "value": approve["value"]},
                    user="U5",
                    response_name=f"a{n}",
                ),
                range(10),
            )
        )
    running.idle()
    assert all(r.status == 200 for r in replies)
    verdicts = [c for c in slack.calls_to("chat.postMessage") if "approved" in c.params.get("text", "")]
    assert len(verdicts) == 1
    refused = [c.params["text"] for c in slack.calls_to("response_url")]
    assert len(refused) == 9 and all("already answered (approved)" in t for t in refused)
