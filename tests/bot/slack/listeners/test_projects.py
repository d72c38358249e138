"""`/mlready project`, status, export and App Home end to end, and project names shown as typed."""

from __future__ import annotations

import json

from bot.slack import ids
from fake_slack.web_api import LocalSlackAPI
from tests.slack_harness import (
    RunningApp,
    ack_json,
    block_texts,
    click_in,
    create_project,
    post_checklist,
)


def test_project_lifecycle_and_bad_input(running: RunningApp) -> None:
    assert "no ML project yet" in json.dumps(ack_json(running.command("status")))
    assert "no ML project yet" in json.dumps(ack_json(running.command("checklist")))
    create_project(running)
    assert "already has the project" in ack_json(running.command("project create Another"))["text"]
    assert "1-80" in ack_json(running.command("project create " + "x" * 90, channel="C2"))["text"]
    assert "Give the project a name" in ack_json(running.command("project create", channel="C2"))["text"]
    assert "direct message" in ack_json(running.command("project create DM", channel="D5"))["text"]
    assert "no checklist section `astrology`" in ack_json(running.command("checklist astrology"))["text"]
    shown = block_texts(ack_json(running.command("project"))["blocks"])
    assert "Churn model" in shown and "<@U1>" in shown and "0%" in shown
    assert "Only the project owner" in ack_json(running.command("project archive", user="U2"))["text"]
    assert "archived" in ack_json(running.command("project archive", user="U1"))["text"]
    assert "no ML project yet" in json.dumps(ack_json(running.command("project")))


def test_status_export_and_home(running: RunningApp, slack: LocalSlackAPI) -> None:
    create_project(running, "Fraud")
    message = post_checklist(running, slack, "checklist data-quality")
    click_in(running, message, "data-quality.audit", f"{ids.CHECKLIST_RESPONSE}_no")
    running.idle()
    status = block_texts(ack_json(running.command("status"))["blocks"])
    assert "Blocking gaps" in status
    assert status.index("Has the data been audited") < status.index("*Sections*")
    assert "answered No" in status and "Audit your data" in status
    assert "research project" in status

    ack_json(running.command("export"))
    running.idle()
    upload = slack.calls_to("file_upload")
    assert upload and "# Readiness report: Fraud" in upload[-1].params["content"]
    assert slack.calls_to("files.completeUploadExternal")[-1].params["channel_id"] == "C1"

    running.event({"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"})
    home = json.dumps(slack.wait_for("views.publish", 1)[-1].params["view"])
    assert "Fraud" in home and "data-quality.audit" in home


HOSTILE = "<!channel> & <https://evil.example|click me> <@U2>"


def test_a_hostile_project_name_is_shown_as_typed_everywhere(
    running: RunningApp, slack: LocalSlackAPI
) -> None:
    """A name typed with a broadcast, a link and a mention reaches no text or block unescaped."""
    slack.users["U5"] = {"id": "U5", "name": "dana", "tz": "UTC", "is_bot": False}
    replies = [ack_json(running.command(f"project create {HOSTILE}"))]
    for typed in ("project", "status", "checklist", "remind", "remind now", "signoff @dana goals", "export"):
        replies.append(ack_json(running.command(typed)))
    running.idle()
    rendered = [t for message in [*replies, *(c.params for c in slack.calls)] for t in mrkdwn_of(message)]
    assert any("&lt;!channel&gt; &amp; &lt;https://evil.example|click me&gt;" in t for t in rendered)
    for text in rendered:
        assert "<!channel>" not in text and "<https://evil" not in text and "<@U2>" not in text, text


def mrkdwn_of(node: object) -> list[str]:
    """Every string Slack renders as mrkdwn: top-level `text` and mrkdwn text objects, not
    plain_text ones (Slack shows those literally)."""
    if isinstance(node, list):
        return [t for item in node for t in mrkdwn_of(item)]
    if not isinstance(node, dict) or node.get("type") == "plain_text":
        return []
    own = [node["text"]] if isinstance(node.get("text"), str) else []
    return own + [t for key, value in node.items() if key != "text" or not own for t in mrkdwn_of(value)]
