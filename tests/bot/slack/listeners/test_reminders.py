"""`/mlready remind` and the reminder buttons, end to end through the signed HTTP endpoint."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.db.models import ReminderSchedule, Signoff
from bot.reminders.schedule import as_utc
from bot.slack import ids
from fake_slack.web_api import LocalSlackAPI
from tests.slack_harness import (
    RunningApp,
    ack_json,
    block_buttons,
    block_texts,
    click_in,
    create_project,
    view_submission,
)


@pytest.fixture
def running(start_app, slack: LocalSlackAPI) -> RunningApp:
    slack.users["U1"] = {"id": "U1", "name": "owner", "tz": "Europe/Berlin", "is_bot": False}
    return start_app(reminder_interval_seconds=0)


def responses(slack: LocalSlackAPI, count: int) -> list[dict]:
    return [c.params for c in slack.wait_for("response_url", count)]


def schedule(running: RunningApp) -> ReminderSchedule | None:
    with running.services.db.session() as s:
        return s.scalars(select(ReminderSchedule)).first()


def test_remind_settings_show_change_and_reject(running: RunningApp, slack: LocalSlackAPI) -> None:
    assert "no ML project yet" in json.dumps(ack_json(running.command("remind")))
    create_project(running)

    assert running.command("remind").status == 200
    shown = block_texts(responses(slack, 1)[-1]["blocks"])
    assert "weekly: Mondays at 09:30 (Europe/Berlin)" in shown
    assert "the project owner's Slack timezone" in shown
    assert "Open now: KPI missing; Stakeholder sign-off missing." in shown
    assert "Next reminder:" in shown

    assert ack_json(running.command("remind weekly thu 16:45", user="U2")) == {}
    changed = block_texts(responses(slack, 2)[-1]["blocks"])
    assert "Reminders updated" in changed and "Thursdays at 16:45 (Europe/Berlin)" in changed
    row = schedule(running)
    assert row and (row.cadence, row.weekday, row.at_time, row.changed_by) == ("weekly", 3, "16:45", "U2")

    running.command("remind timezone America/New_York")
    assert "(America/New_York)" in block_texts(responses(slack, 3)[-1]["blocks"])
    running.command("remind off")
    assert "Reminders are off" in block_texts(responses(slack, 4)[-1]["blocks"])

    for bad, says in [
        ("remind weekly 10:00", "did not understand"),
        ("remind daily 24:30", "not a time of day"),
        ("remind timezone Nowhere/City", "not a timezone"),
    ]:
        text = ack_json(running.command(bad))["text"]
        assert says in text and "/mlready remind weekly mon 09:30" in text
    assert schedule(running).cadence == "off"  # rejected input changed nothing


def test_remind_now_posts_with_buttons_that_work(running: RunningApp, slack: LocalSlackAPI) -> None:
    create_project(running)
    running.command("remind now")
    assert "Reminder sent (KPI missing, Stakeholder sign-off missing)" in responses(slack, 1)[-1]["text"]
    posts = {c.params["channel"]: c.params for c in slack.calls_to("chat.postMessage")}
    assert set(posts) == {"C1", "U1"}  # the channel, and the owner's DM for the missing KPI
    channel = posts["C1"]
    text = block_texts(channel["blocks"])
    assert "Reminder for Churn model" in text and "*Who can fix it:* <@U1>" in text
    assert "*Guidance:*" in text and "*Why it matters:*" in text
    buttons = block_buttons(channel["blocks"])
    assert set(buttons) == {ids.KPI_OPEN, ids.REMINDER_SIGNOFF_OPEN, ids.CHECKLIST_WHY, ids.REMINDER_SNOOZE}

    running.command("remind now")  # same minute: not sent twice
    assert "Nothing to remind about" in responses(slack, 2)[-1]["text"]
    assert len(slack.calls_to("chat.postMessage")) == 2

    # Define KPI opens the KPI modal; Request sign-off opens its modal and sends the request.
    message = {**channel, "channel": "C1"}
    click_in(running, message, "reminder_actions", ids.KPI_OPEN)
    click_in(running, message, "reminder_actions", ids.REMINDER_SIGNOFF_OPEN)
    views = slack.wait_for("views.open", 2)
    assert [v.params["view"]["callback_id"] for v in views] == [ids.KPI_MODAL, ids.REMINDER_SIGNOFF_MODAL]
    modal = views[1].params["view"]
    assert ack_json(running.post(*view_submission(modal, {"stakeholder": ""}))).get("errors")
    assert ack_json(running.post(*view_submission(modal, {"stakeholder": "U9", "what": "Q1 goals"}))) == {}
    running.idle()
    with running.services.db.session() as s:
        signoff = s.scalars(select(Signoff)).one()
    assert (signoff.stakeholder_id, signoff.what, signoff.status) == ("U9", "Q1 goals", "requested")
    assert any(c.params["channel"] == "U9" for c in slack.calls_to("chat.postMessage"))

    # Snooze 3 days replaces the reminder and stores the snooze.
    click_in(running, message, "reminder_actions", ids.REMINDER_SNOOZE, user="U2")
    snoozed = next(r for r in responses(slack, 3) if "snoozed" in r.get("text", ""))
    assert snoozed["replace_original"] and "<@U2> snoozed reminders for *Churn model*" in snoozed["text"]
    row = schedule(running)
    assert row and row.snoozed_until is not None
    assert abs(as_utc(row.snoozed_until) - (datetime.now(UTC) + timedelta(days=3))) < timedelta(minutes=1)
