"""The Slack messenger of reminders asks Slack whether a person is away, as Slack answers it."""

from __future__ import annotations

import time

from bot.checklist import load_shipped_checklist
from bot.slack.client import make_client
from bot.slack.reminder_scheduler import SlackMessenger
from fake_slack.web_api import LocalSlackAPI


def test_away_means_presence_away_a_snooze_or_scheduled_dnd_hours(slack: LocalSlackAPI) -> None:
    now = int(time.time())
    slack.users.update(
        {
            "UAWAY": {"id": "UAWAY", "name": "away", "presence": "away"},
            "USNOOZE": {"id": "USNOOZE", "name": "snooze", "dnd": {"snooze_enabled": True}},
            "UNIGHT": {
                "id": "UNIGHT",
                "name": "night",
                "dnd": {"dnd_enabled": True, "next_dnd_start_ts": now - 60, "next_dnd_end_ts": now + 3600},
            },
            "ULATER": {
                "id": "ULATER",
                "name": "later",
                "dnd": {"dnd_enabled": True, "next_dnd_start_ts": now + 3600, "next_dnd_end_ts": now + 7200},
            },
        }
    )
    client = make_client("xoxb-test", slack.url, 0)
    messenger = SlackMessenger(lambda _team: client, None, load_shipped_checklist(), {})  # type: ignore[arg-type]
    away = {u: messenger.is_away("T111", u) for u in ("UAWAY", "USNOOZE", "UNIGHT", "ULATER", "UHERE")}
    assert away == {"UAWAY": True, "USNOOZE": True, "UNIGHT": True, "ULATER": False, "UHERE": False}
    assert {c.method for c in slack.calls} == {"users.getPresence", "dnd.info"}
