"""Projects, the checklist, KPIs, sign-off, status, export and App Home, end to end
through the signed HTTP endpoint and the local Slack Web API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.answers import AnswerEngine
from bot.db.models import AnswerHistory, Kpi, Project, Signoff
from bot.settings import Settings
from bot.slack import ids, payloads
from bot.slack.local_api import LocalSlackAPI
from tests.slack_harness import TEAM, RunningApp
from tests.test_slack_app import _buttons, _texts


@pytest.fixture
def running(
    tmp_path: Path, shipped_index: Path, engine: AnswerEngine, slack: LocalSlackAPI
) -> Iterator[RunningApp]:
    settings = Settings(index_dir=shipped_index, database_url=f"sqlite:///{tmp_path / 'p.db'}")
    app = RunningApp(settings, lambda: engine, slack)
    yield app
    app.stop()


def ack_json(reply) -> dict:
    assert reply.status == 200, reply
    return json.loads(reply.body) if reply.body else {}


def view_submission(view: dict, values: dict, user: str = "U1") -> tuple[str, str]:
    def element(block: str, value: str) -> dict:
        if block == "deadline":
            return {"type": "datepicker", "selected_date": value}
        if block in ("owner", "stakeholder"):
            return {"type": "users_select", "selected_user": value}
        return {"type": "plain_text_input", "value": value}

    state = {"values": {block: {"value": element(block, v)} for block, v in values.items()}}
    payload = {
        "type": "view_submission",
        "team": {"id": TEAM},
        "user": {"id": user},
        "api_app_id": payloads.APP_ID,
        "trigger_id": "t.1",
        "view": {**view, "id": "V1", "state": state},
    }
    from urllib.parse import urlencode

    return urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"


def create_project(running: RunningApp, name: str = "Churn model", channel: str = "C1") -> None:
    body = ack_json(running.command(f"project create {name}", channel=channel))
    assert body["response_type"] == "in_channel" and name in body["text"]


def post_checklist(running: RunningApp, slack: LocalSlackAPI, text: str = "checklist") -> dict:
    before = len(slack.calls_to("chat.postMessage"))
    running.command(text)
    return slack.wait_for("chat.postMessage", before + 1)[-1].params


def click_in(
    running: RunningApp,
    message: dict,
    item_id: str,
    action_id: str,
    user: str = "U1",
    ts: str = "1700000001.000100",
) -> None:
    block = next(b for b in message["blocks"] if b.get("block_id") == item_id)
    element = next(e for e in block["elements"] if e["action_id"] == action_id)
    running.post(
        *payloads.block_action(
            {"action_id": action_id, "value": element["value"]},
            team_id=TEAM,
            user_id=user,
            channel_id=message["channel"],
            response_url=running.slack.response_url("c"),
            message={"ts": ts, "type": "message"},
        )
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
    shown = _texts(ack_json(running.command("project"))["blocks"])
    assert "Churn model" in shown and "<@U1>" in shown and "0%" in shown
    assert "Only the project owner" in ack_json(running.command("project archive", user="U2"))["text"]
    assert "archived" in ack_json(running.command("project archive", user="U1"))["text"]
    assert "no ML project yet" in json.dumps(ack_json(running.command("project")))


def test_checklist_answers_from_several_users(running: RunningApp, slack: LocalSlackAPI) -> None:
    create_project(running)
    message = post_checklist(running, slack)
    assert message["channel"] == "C1"
    text = _texts(message["blocks"])
    assert "Readiness checklist: Churn model" in json.dumps(message["blocks"])
    assert "0/40 answered" in text and "Is the business problem written down" in text
    assert len(message["blocks"]) <= 50

    click_in(running, message, "objectives.problem-statement", f"{ids.CHECKLIST_ANSWER}_yes", user="U1")
    click_in(running, message, "objectives.scope", f"{ids.CHECKLIST_ANSWER}_partial", user="U2")
    running.idle()
    updates = slack.calls_to("chat.update")
    assert updates and updates[-1].params["ts"] == "1700000001.000100"
    final = _texts(updates[-1].params["blocks"])
    assert "2/40 answered" in final
    assert "Answer: *Yes* by <@U1>" in final and "Answer: *Partial* by <@U2>" in final
    yes_button = _buttons(
        [b for b in updates[-1].params["blocks"] if b.get("block_id") == "objectives.problem-statement"]
    )
    assert yes_button[f"{ids.CHECKLIST_ANSWER}_yes"].get("style") == "primary"

    # Moving to another section re-renders the same message.
    click_in(running, message, "checklist_nav", f"{ids.CHECKLIST_PAGE}_monitoring")
    running.idle()
    assert "Is it decided who gets alerted" in _texts(slack.calls_to("chat.update")[-1].params["blocks"])

    # "Why it matters" shows the linked guidance privately.
    click_in(running, message, "objectives.problem-statement", ids.CHECKLIST_WHY)
    running.idle()
    why = [c for c in slack.calls_to("response_url") if "Why it matters" in c.params.get("text", "")]
    assert why and "Write the problem statement" in json.dumps(why[-1].params["blocks"])


def test_concurrent_clicks_end_in_the_stored_state(running: RunningApp, slack: LocalSlackAPI) -> None:
    create_project(running)
    message = post_checklist(running, slack)
    values = ["yes", "partial", "no", "n-a"]
    with ThreadPoolExecutor(8) as pool:
        list(
            pool.map(
                lambda n: click_in(
                    running,
                    message,
                    "objectives.scope",
                    f"{ids.CHECKLIST_ANSWER}_{values[n % 4]}",
                    user=f"U{n}",
                ),
                range(24),
            )
        )
    running.idle()
    with running.services.db.session() as s:
        assert s.scalar(select(func.count()).select_from(AnswerHistory)) == 24
        latest = s.scalars(
            select(AnswerHistory).order_by(AnswerHistory.answered_at.desc(), AnswerHistory.id.desc())
        ).first()
    final = _texts(slack.calls_to("chat.update")[-1].params["blocks"])
    label = {"yes": "Yes", "partial": "Partial", "no": "No", "n-a": "N/A"}[latest.value]
    assert f"Answer: *{label}* by <@{latest.answered_by}>" in final


def test_kpi_modal_valid_and_invalid(running: RunningApp, slack: LocalSlackAPI) -> None:
    create_project(running)
    message = post_checklist(running, slack, "checklist kpis")
    click_in(running, message, "kpis.defined", ids.KPI_OPEN)
    view = slack.wait_for("views.open", 1)[0].params["view"]
    assert view["callback_id"] == ids.KPI_MODAL

    bad = running.post(*view_submission(view, {"metric": "", "baseline": "lots", "target": "3"}))
    errors = json.loads(bad.body)
    assert errors["response_action"] == "errors"
    assert set(errors["errors"]) == {"metric", "baseline"}
    with running.services.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Kpi)) == 0

    good = running.post(
        *view_submission(
            view,
            {
                "metric": "monthly churn",
                "baseline": "4.2",
                "target": "3.5",
                "unit": "%",
                "deadline": "2099-03-31",
                "owner": "U3",
            },
        )
    )
    assert good.status == 200 and not good.body
    running.idle()
    with running.services.db.session() as s:
        kpi = s.scalars(select(Kpi)).one()
        assert (kpi.metric, kpi.baseline, kpi.target, kpi.owner_id) == ("monthly churn", 4.2, 3.5, "U3")
    announcements = [c.params["text"] for c in slack.calls_to("chat.postMessage")]
    assert any("recorded the KPI *monthly churn*" in t for t in announcements)
    assert "✅ KPI: *monthly churn*" in _texts(slack.calls_to("chat.update")[-1].params["blocks"])


def test_signoff_flow_with_wrong_user(running: RunningApp, slack: LocalSlackAPI) -> None:
    create_project(running)
    assert "@-mention" in ack_json(running.command("signoff dana"))["text"]
    ack_json(running.command("signoff <@U5|dana> objectives and KPIs"))
    dm = slack.wait_for("chat.postMessage", 2)
    request = next(c.params for c in dm if c.params["channel"] == "U5")
    assert "asks you to sign off" in _texts(request["blocks"])
    approve = _buttons(request["blocks"])[ids.SIGNOFF_APPROVE]

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
    status = _texts(ack_json(running.command("status"))["blocks"])
    assert "Stakeholder sign-off*: approved" in status

    # The stakeholder can withdraw the approval from the updated DM; nobody else can.
    revoke = _buttons(slack.calls_to("chat.update")[-1].params["blocks"])[ids.SIGNOFF_REVOKE]
    running.click({"action_id": ids.SIGNOFF_REVOKE, "value": revoke["value"]}, user="U6")
    running.click({"action_id": ids.SIGNOFF_REVOKE, "value": revoke["value"]}, user="U5")
    running.idle()
    with running.services.db.session() as s:
        assert s.scalars(select(Signoff)).one().status == "revoked"
    assert any("revoked their approval" in c.params["text"] for c in slack.calls_to("chat.postMessage"))
    assert "Stakeholder sign-off*: revoked" in _texts(ack_json(running.command("status"))["blocks"])


def test_request_changes_needs_a_comment(running: RunningApp, slack: LocalSlackAPI) -> None:
    create_project(running)
    ack_json(running.command("signoff <@U5> KPIs"))
    request = next(c.params for c in slack.wait_for("chat.postMessage", 2) if c.params["channel"] == "U5")
    changes = _buttons(request["blocks"])[ids.SIGNOFF_CHANGES]
    running.click({"action_id": ids.SIGNOFF_CHANGES, "value": changes["value"]}, user="U5")
    view = slack.wait_for("views.open", 1)[0].params["view"]
    empty = json.loads(running.post(*view_submission(view, {"comment": ""}, user="U5")).body)
    assert "comment" in empty["errors"]
    ok = running.post(*view_submission(view, {"comment": "Target is too ambitious"}, user="U5"))
    assert ok.status == 200
    running.idle()
    posts = [c.params["text"] for c in slack.calls_to("chat.postMessage")]
    assert any("requested changes to *KPIs*: Target is too ambitious" in t for t in posts)


def test_status_export_and_home(running: RunningApp, slack: LocalSlackAPI) -> None:
    create_project(running, "Fraud")
    message = post_checklist(running, slack, "checklist data-quality")
    click_in(running, message, "data-quality.audit", f"{ids.CHECKLIST_ANSWER}_no")
    running.idle()
    status = _texts(ack_json(running.command("status"))["blocks"])
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


def test_workspace_isolation_and_forged_values(running: RunningApp, slack: LocalSlackAPI) -> None:
    create_project(running, "Ours")
    with running.services.db.session() as s:
        pid = s.scalars(select(Project)).one().id
    forged = json.dumps({"p": pid, "i": "objectives.scope", "v": "yes"})
    # The same project id, clicked from another workspace, finds nothing.
    running.post(
        *payloads.block_action(
            {"action_id": f"{ids.CHECKLIST_ANSWER}_yes", "value": forged},
            team_id="TOTHER",
            user_id="UX",
            channel_id="C1",
            response_url=slack.response_url("forged"),
        )
    )
    for junk in ("not json", json.dumps({"p": "1; drop table"}), json.dumps([1, 2])):
        running.post(
            *payloads.block_action(
                {"action_id": f"{ids.CHECKLIST_ANSWER}_yes", "value": junk},
                team_id=TEAM,
                user_id="U1",
                channel_id="C1",
                response_url=slack.response_url("junk"),
            )
        )
    # A stale button naming an item that does not exist changes nothing either.
    stale = json.dumps({"p": pid, "i": "objectives.removed-item", "v": "yes"})
    running.post(
        *payloads.block_action(
            {"action_id": f"{ids.CHECKLIST_ANSWER}_yes", "value": stale},
            team_id=TEAM,
            user_id="U1",
            channel_id="C1",
            response_url=slack.response_url("stale"),
        )
    )
    running.idle()
    with running.services.db.session() as s:
        assert s.scalar(select(func.count()).select_from(AnswerHistory)) == 0
    replies = {c.params["_response_id"]: c.params["text"] for c in slack.calls_to("response_url")}
    assert "can't find" in replies["forged"] and "can't find" in replies["junk"]
    assert "no longer exists" in replies["stale"]


def test_answers_mention_the_projects_open_items(running: RunningApp, slack: LocalSlackAPI) -> None:
    create_project(running, "Churn")
    question = payloads.message_event(
        "<@UMLREADY> how do we pick a KPI for churn?", channel="C1", user="U1", ts="50.1", mention=True
    )
    running.event(question)
    post = slack.wait_for("chat.postMessage", 1)[0].params
    assert "In *Churn*, no KPI is recorded yet" in _texts(post["blocks"])
    assert ids.KPI_OPEN in _buttons(post["blocks"])
    # No project in the channel: no extra line, no KPI button.
    running.event({**question, "channel": "C9", "ts": "51.1"})
    other = slack.wait_for("chat.postMessage", 2)[1].params
    assert "In *" not in _texts(other["blocks"])
    assert ids.KPI_OPEN not in _buttons(other["blocks"])


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
