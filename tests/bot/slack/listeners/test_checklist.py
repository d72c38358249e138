"""Checklist clicks, paging, "Why it matters" and the KPI modal end to end; forged values."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from bot.checklist import load_shipped_checklist
from bot.db.models import Kpi, Project, ResponseHistory
from bot.slack import ids
from fake_slack import payloads
from fake_slack.web_api import LocalSlackAPI
from tests.slack_harness import (
    TEAM,
    RunningApp,
    block_buttons,
    block_texts,
    click_in,
    create_project,
    post_checklist,
    view_submission,
)

# items that count before anyone opts in to an optional section (genai)
SCORED = sum(len(s.items) for s in load_shipped_checklist().sections if not s.optional)


def test_checklist_answers_from_several_users(running: RunningApp, slack: LocalSlackAPI) -> None:
    create_project(running)
    message = post_checklist(running, slack)
    assert message["channel"] == "C1"
    text = block_texts(message["blocks"])
    assert "Readiness checklist: Churn model" in json.dumps(message["blocks"])
    assert f"0/{SCORED} answered" in text and "Is the business problem written down" in text
    assert len(message["blocks"]) <= 50

    click_in(running, message, "objectives.problem-statement", f"{ids.CHECKLIST_RESPONSE}_yes", user="U1")
    click_in(running, message, "objectives.scope", f"{ids.CHECKLIST_RESPONSE}_partial", user="U2")
    running.idle()
    updates = slack.calls_to("chat.update")
    assert updates and updates[-1].params["ts"] == "1700000001.000100"
    final = block_texts(updates[-1].params["blocks"])
    assert f"2/{SCORED} answered" in final
    assert "Answer: *Yes* by <@U1>" in final and "Answer: *Partial* by <@U2>" in final
    yes_button = block_buttons(
        [b for b in updates[-1].params["blocks"] if b.get("block_id") == "objectives.problem-statement"]
    )
    assert yes_button[f"{ids.CHECKLIST_RESPONSE}_yes"].get("style") == "primary"

    # Moving to another section re-renders the same message.
    click_in(running, message, "checklist_nav", f"{ids.CHECKLIST_PAGE}_monitoring")
    running.idle()
    assert "Is it decided who gets alerted" in block_texts(slack.calls_to("chat.update")[-1].params["blocks"])

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
                    f"{ids.CHECKLIST_RESPONSE}_{values[n % 4]}",
                    user=f"U{n}",
                ),
                range(24),
            )
        )
    running.idle()
    with running.services.db.session() as s:
        assert s.scalar(select(func.count()).select_from(ResponseHistory)) == 24
        latest = s.scalars(
            select(ResponseHistory).order_by(ResponseHistory.responded_at.desc(), ResponseHistory.id.desc())
        ).first()
    final = block_texts(slack.calls_to("chat.update")[-1].params["blocks"])
    label = {"yes": "Yes", "partial": "Partial", "no": "No", "n-a": "N/A"}[latest.value]
    assert f"Answer: *{label}* by <@{latest.responded_by}>" in final


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
    assert "✅ KPI: *monthly churn*" in block_texts(slack.calls_to("chat.update")[-1].params["blocks"])


def test_workspace_isolation_and_forged_values(running: RunningApp, slack: LocalSlackAPI) -> None:
    create_project(running, "Ours")
    with running.services.db.session() as s:
        pid = s.scalars(select(Project)).one().id
    forged = json.dumps({"p": pid, "i": "objectives.scope", "v": "yes"})
    # The same project id, clicked from another workspace, finds nothing.
    running.post(
        *payloads.block_action(
            {"action_id": f"{ids.CHECKLIST_RESPONSE}_yes", "value": forged},
            team_id="TOTHER",
            user_id="UX",
            channel_id="C1",
            response_url=slack.response_url("forged"),
        )
    )
    for junk in ("not json", json.dumps({"p": "1; drop table"}), json.dumps([1, 2])):
        running.post(
            *payloads.block_action(
                {"action_id": f"{ids.CHECKLIST_RESPONSE}_yes", "value": junk},
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
            {"action_id": f"{ids.CHECKLIST_RESPONSE}_yes", "value": stale},
            team_id=TEAM,
            user_id="U1",
            channel_id="C1",
            response_url=slack.response_url("stale"),
        )
    )
    # This project's button, replayed in another channel of the same workspace, is refused.
    create_project(running, "Theirs", channel="C2")
    running.post(
        *payloads.block_action(
            {"action_id": f"{ids.CHECKLIST_RESPONSE}_yes", "value": forged},
            team_id=TEAM,
            user_id="U1",
            channel_id="C2",
            response_url=slack.response_url("elsewhere"),
        )
    )
    running.idle()
    with running.services.db.session() as s:
        assert s.scalar(select(func.count()).select_from(ResponseHistory)) == 0
    replies = {c.params["_response_id"]: c.params["text"] for c in slack.calls_to("response_url")}
    assert "can't find" in replies["forged"] and "can't find" in replies["junk"]
    assert "can't find" in replies["elsewhere"]
    assert "no longer exists" in replies["stale"]
