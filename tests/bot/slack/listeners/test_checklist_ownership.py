"""A checklist the team owns, through the signed endpoint on SQLite and PostgreSQL: templates,
a note / link per item, assignees told once, open items per person, the portfolio for admins."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import yaml
from sqlalchemy import select

from bot.db.models import ItemAssignment, ItemChange, Project
from bot.slack import ids
from bot.slack.jobs import checklist as checklist_jobs
from fake_slack.web_api import LocalSlackAPI
from tests.slack_harness import (
    RunningApp,
    ack_json,
    block_texts,
    click_in,
    create_project,
    post_checklist,
    view_submission,
)

ITEM = "objectives.problem-statement"


def _open_modal(
    running: RunningApp, slack: LocalSlackAPI, message: dict, action_id: str, user: str = "U1"
) -> dict:
    before = len(slack.calls_to("views.open"))
    click_in(running, message, ITEM, action_id, user=user)
    return slack.wait_for("views.open", before + 1)[-1].params["view"]


def test_note_link_and_assignee_end_to_end(start_app, database_url: str, slack: LocalSlackAPI) -> None:
    running = start_app(database_url=database_url)
    create_project(running)
    message = post_checklist(running, slack)

    view = _open_modal(running, slack, message, ids.EVIDENCE_OPEN)
    assert view["callback_id"] == ids.EVIDENCE_MODAL
    for url, expected in (("javascript:alert(1)", "https://"), ("https://e.example/" + "a" * 2000, "2,000")):
        reply = ack_json(running.post(*view_submission(view, {"note": "x", "url": url})))
        assert reply["response_action"] == "errors" and expected in reply["errors"]["url"]
    reply = ack_json(running.post(*view_submission(view, {"note": "y" * 1001, "url": ""})))
    assert "1,000" in reply["errors"]["note"]
    hostile = "Signed off in <!channel> review & <https://evil.example|here>"
    ok = running.post(
        *view_submission(view, {"note": hostile, "url": "https://wiki.example/p?a=1&b=2"}, user="U2")
    )
    assert ok.status == 200 and not ok.body
    running.idle()
    rendered = block_texts(slack.calls_to("chat.update")[-1].params["blocks"])
    assert "📝 Signed off in &lt;!channel&gt; review &amp; &lt;https://evil.example|here&gt;" in rendered
    assert "<https://wiki.example/p?a=1&amp;b=2|link>" in rendered

    # The modal opens again with what is saved.
    again = _open_modal(running, slack, message, ids.EVIDENCE_OPEN)
    assert again["blocks"][1]["element"]["initial_value"] == hostile

    view = _open_modal(running, slack, message, ids.ASSIGN_OPEN)
    past = (date.today() - timedelta(days=1)).isoformat()
    reply = ack_json(running.post(*view_submission(view, {"assignee": "U3", "due": past})))
    assert "past" in reply["errors"]["due"]
    due = (date.today() + timedelta(days=7)).isoformat()
    running.post(*view_submission(view, {"assignee": "U3", "due": due}))
    running.idle()
    dms = [c for c in slack.calls_to("chat.postMessage") if c.params["channel"] == "U3"]
    assert len(dms) == 1 and "assigned you a readiness item of *Churn model*" in dms[0].params["text"]
    assert "👤 Assigned to <@U3>, due <!date^" in block_texts(
        slack.calls_to("chat.update")[-1].params["blocks"]
    )

    # The same person with a new date is not told again; a job run twice sends one DM.
    running.post(*view_submission(view, {"assignee": "U3", "due": ""}))
    running.idle()
    with running.services.db.session() as s:
        pid = s.scalars(select(Project)).one().id
        running.services.outbox.add(
            s, checklist_jobs.ASSIGNED, "T111", {"project": pid, "item": ITEM, "assignee": "U3"}
        )
    running.idle()
    assert len([c for c in slack.calls_to("chat.postMessage") if c.params["channel"] == "U3"]) == 1

    status = block_texts(ack_json(running.command("status"))["blocks"])
    assert "*Open items by person*\n<@U3>: 1 open: Is the business problem written down" in status
    assert "📝 Signed off in &lt;!channel&gt;" in status

    # U3 never answered here, yet App Home shows them the project and what they own.
    running.event({"type": "app_home_opened", "user": "U3", "channel": "D3", "tab": "home"}, event_id="EvH3")
    home = block_texts(slack.wait_for("views.publish", 1)[-1].params["view"]["blocks"])
    assert "👤 Assigned to you: Is the business problem written down" in home
    assert "📝 Notes or links on 1 item(s)" in home

    ack_json(running.command("export"))
    running.idle()
    report = slack.calls_to("file_upload")[-1].params["content"]
    assert "https://wiki.example/p?a=1&b=2" in report and "| U3 |" in report
    assert "evidence: Signed off in" in report and "assigned to U3" in report
    with running.services.db.session() as s:
        kinds = [c.kind for c in s.scalars(select(ItemChange).order_by(ItemChange.id))]
        assert kinds == ["evidence", "assignment", "assignment"]


def test_forged_item_modals_change_nothing(running: RunningApp, slack: LocalSlackAPI) -> None:
    create_project(running, "Ours", channel="C1")
    create_project(running, "Theirs", channel="C2")
    message = post_checklist(running, slack)
    view = _open_modal(running, slack, message, ids.ASSIGN_OPEN)
    with running.services.db.session() as s:
        theirs = s.scalars(select(Project).where(Project.name == "Theirs")).one().id
    # A button of one project clicked in another project's channel opens nothing.
    before = len(slack.calls_to("views.open"))
    click_in(running, {**message, "channel": "C2"}, ITEM, ids.ASSIGN_OPEN)
    running.idle()
    assert len(slack.calls_to("views.open")) == before
    # Metadata naming an unknown item, or junk, is refused next to the field.
    meta = json.loads(view["private_metadata"])
    for forged in (json.dumps({**meta, "i": "objectives.nope"}), "junk", json.dumps({**meta, "p": 99999})):
        reply = ack_json(
            running.post(*view_submission({**view, "private_metadata": forged}, {"assignee": "U3"}))
        )
        assert reply["response_action"] == "errors", forged
    with running.services.db.session() as s:
        assert s.scalars(select(ItemAssignment)).all() == []
        assert theirs  # untouched


def test_templates_create_and_upgrade(
    start_app, database_url: str, slack: LocalSlackAPI, tmp_path: Path
) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    acme = {
        "name": "acme",
        "version": 1,
        "extends": "quick",
        "sections": [
            {
                "category": "monitoring",
                "title": "Monitoring",
                "items": [
                    {
                        "id": "monitoring.acme-pager",
                        "question": "Is the model on the team's pager rota?",
                        "help": "Name who is woken up.",
                        "kind": "yesno",
                        "blocking": True,
                    }
                ],
            }
        ],
    }
    (folder / "acme.yaml").write_text(yaml.safe_dump(acme), encoding="utf-8")
    running = start_app(database_url=database_url, checklist_dirs=str(folder))
    reply = ack_json(running.command("project create Churn —template quick"))  # a dash as Slack may send it
    assert reply["response_type"] == "in_channel" and "template `quick`" in reply["text"]
    message = post_checklist(running, slack, "checklist objectives")
    text = block_texts(message["blocks"])
    assert "Is the business problem written down" in text and "Is the first version scoped" not in text

    bad = ack_json(running.command("project create Other --template nope", channel="C2"))
    assert "no checklist template `nope`" in bad["text"] and "acme" in bad["text"]
    ack_json(running.command("project create Pager --template acme", channel="C3"))
    message = post_checklist(running, slack, "checklist monitoring", channel="C3")
    assert "Is the model on the team's pager rota?" in block_texts(message["blocks"])

    info = ack_json(running.command("project"))
    assert "template `quick` (version 1)" in block_texts(info["blocks"])
    same = ack_json(running.command("project upgrade"))
    assert "already runs the newest version" in same["text"]
    assert "Only the project owner" in ack_json(running.command("project upgrade", user="U9"))["text"]


def test_admins_see_the_portfolio_in_app_home(running: RunningApp, slack: LocalSlackAPI) -> None:
    create_project(running, "Churn", channel="C1")
    create_project(running, "Fraud", channel="C2")
    slack.users["UADMIN"] = {"id": "UADMIN", "name": "ada", "tz": "UTC", "is_admin": True}
    running.event(
        {"type": "app_home_opened", "user": "UADMIN", "channel": "D1", "tab": "home"}, event_id="Ev1"
    )
    home = block_texts(slack.wait_for("views.publish", 1)[-1].params["view"]["blocks"])
    assert "*Workspace portfolio* (2 active projects" in home
    assert "*Churn* <#C1>" in home and "*Fraud* <#C2>" in home
    assert "Failure causes most often open" in home and "open in 2 project(s)" in home
    running.event({"type": "app_home_opened", "user": "U5", "channel": "D5", "tab": "home"}, event_id="Ev2")
    plain = block_texts(slack.wait_for("views.publish", 2)[-1].params["view"]["blocks"])
    assert "Workspace portfolio" not in plain
