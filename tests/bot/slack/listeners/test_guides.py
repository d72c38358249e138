"""The guide buttons end to end: Read the guide, its pages, Example and Questions."""

from __future__ import annotations

import json

from bot.slack import ids
from bot.slack.action_values import GuideRef
from fake_slack import payloads
from fake_slack.web_api import LocalSlackAPI
from tests.slack_harness import TEAM, RunningApp, block_buttons, block_texts, mention


def _click(running: RunningApp, element: dict, name: str) -> None:
    running.click({"action_id": element["action_id"], "value": element["value"]}, response_name=name)


def test_guide_buttons_end_to_end(start_app, slack: LocalSlackAPI) -> None:
    running: RunningApp = start_app()
    running.event(mention("how do we pick a KPI for a churn model?", ts="70.1"))
    answer = slack.wait_for("chat.postMessage", 1)[0].params
    buttons = block_buttons(answer["blocks"])
    assert "What to do" in block_texts(answer["blocks"])

    _click(running, buttons[ids.GUIDE_READ], "read")
    view = slack.wait_for("views.open", 1)[0].params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["blocks"][0]["text"]["text"] == "Choosing a KPI the business cares about"

    _click(running, buttons[f"{ids.GUIDE_READ}_related_1"], "related")
    related = slack.wait_for("views.open", 2)[1].params["view"]
    related = json.loads(related) if isinstance(related, str) else related
    assert (
        GuideRef.parse(related["private_metadata"]).doc
        == GuideRef.parse(buttons[f"{ids.GUIDE_READ}_related_1"]["value"]).doc
    )

    _click(running, buttons[ids.GUIDE_EXAMPLE], "example")
    _click(running, buttons[ids.GUIDE_QUESTIONS], "questions")
    running.idle()
    replies = {c.params["_response_id"]: c.params for c in slack.calls_to("response_url")}
    assert replies["example"]["response_type"] == "ephemeral"
    assert "illustrative" in block_texts(replies["example"]["blocks"])
    assert "800,000 subscribers" in block_texts(replies["example"]["blocks"])
    assert "Which business number will the sponsor look at" in block_texts(replies["questions"]["blocks"])

    # A forged or stale value gets a private note, and opens nothing.
    running.click({"action_id": ids.GUIDE_READ, "value": '{"doc":"no-such-guide"}'}, response_name="forged")
    running.click({"action_id": ids.GUIDE_EXAMPLE, "value": "junk"}, response_name="junk")
    running.idle()
    replies = {c.params["_response_id"]: c.params for c in slack.calls_to("response_url")}
    assert "can't find that guide" in replies["forged"]["text"]
    assert "can't find that guide" in replies["junk"]["text"]
    assert len(slack.calls_to("views.open")) == 2


def test_page_buttons_only_turn_the_guide_their_modal_shows(start_app, slack: LocalSlackAPI) -> None:
    running: RunningApp = start_app()
    shown = {"id": "V9", "hash": "h1", "private_metadata": GuideRef(doc="kpis-baselines").value()}
    turn = {"action_id": f"{ids.GUIDE_PAGE}_next", "value": GuideRef(doc="kpis-baselines", page=1).value()}
    forged = {"action_id": f"{ids.GUIDE_PAGE}_next", "value": GuideRef(doc="kpis-error-costs").value()}
    assert (
        running.post(*payloads.view_block_action(forged, team_id=TEAM, user_id="U1", view=shown)).status
        == 200
    )
    assert (
        running.post(*payloads.view_block_action(turn, team_id=TEAM, user_id="U1", view=shown)).status == 200
    )
    updates = slack.wait_for("views.update", 1)
    running.idle()
    assert len(slack.calls_to("views.update")) == 1
    assert updates[0].params["view_id"] == "V9" and updates[0].params["hash"] == "h1"
