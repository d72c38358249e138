"""Reminder schedules: `/mlready remind` parsing, snooze, timezones and cadence across DST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.db.models import Project
from bot.reminders.schedule import (
    ScheduleError,
    due_period,
    latest_occurrence,
    next_occurrence,
    parse_remind,
)


def test_weekly_cadence_follows_the_owners_timezone_across_dst() -> None:
    # Berlin leaves summer time on 25 October 2026: 09:30 is 07:30 UTC before, 08:30 UTC after.
    berlin = ZoneInfo("Europe/Berlin")
    project = Project(created_at=datetime(2026, 10, 1, tzinfo=UTC))
    from bot.reminders.schedule import Schedule

    weekly = Schedule("weekly", 0, "09:30", "Europe/Berlin", "owner", None, None, "")
    before = latest_occurrence(weekly, datetime(2026, 10, 20, 12, 0, tzinfo=UTC))
    assert before == datetime(2026, 10, 19, 9, 30, tzinfo=berlin)
    assert before.astimezone(UTC).hour == 7
    assert due_period(weekly, project, datetime(2026, 10, 26, 8, 29, tzinfo=UTC)) == "2026-10-19"
    assert due_period(weekly, project, datetime(2026, 10, 26, 8, 31, tzinfo=UTC)) == "2026-10-26"
    after = next_occurrence(weekly, datetime(2026, 10, 20, tzinfo=UTC))
    assert after is not None and after.astimezone(UTC) == datetime(2026, 10, 26, 8, 30, tzinfo=UTC)
    daily = Schedule("everyday", 0, "10:00", "America/New_York", "set", None, None, "")
    assert due_period(daily, project, datetime(2026, 11, 2, 14, 59, tzinfo=UTC)) == "2026-11-01"
    assert due_period(daily, project, datetime(2026, 11, 2, 15, 0, tzinfo=UTC)) == "2026-11-02"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("weekly mon 09:30", ("set", "weekly", 0, "09:30")),
        ("weekly Friday 5pm", ("set", "weekly", 4, "17:00")),
        ("daily 10:00", ("set", "daily", 0, "10:00")),
        ("daily 9:05am", ("set", "daily", 0, "09:05")),
        ("off", ("off", "", 0, "")),
        ("now", ("now", "", 0, "")),
        ("", ("show", "", 0, "")),
    ],
)
def test_parse_remind(text: str, expected: tuple) -> None:
    r = parse_remind(text)
    assert (r.action, r.cadence, r.weekday, r.at_time) == expected


def test_parse_snooze_and_timezone() -> None:
    assert parse_remind("snooze 3d").snooze == timedelta(days=3)
    assert parse_remind("snooze").snooze == timedelta(days=3)
    assert parse_remind("snooze 12h").snooze == timedelta(hours=12)
    assert parse_remind("timezone Europe/Berlin").timezone == "Europe/Berlin"
    assert parse_remind("timezone owner").timezone == ""


@pytest.mark.parametrize(
    "text, says",
    [
        ("weekly 09:30", "did not understand"),
        ("weekly xyz 09:30", "not a day of the week"),
        ("weekly t 09:30", "not a day of the week"),
        ("daily 25:00", "not a time of day"),
        ("daily 13pm", "not a time of day"),
        ("snooze 0d", "between 1 hour and 90 days"),
        ("snooze forever", "not a duration"),
        ("timezone Mars/Olympus", "not a timezone"),
        ("hourly", "did not understand"),
    ],
)
def test_invalid_settings_say_what_to_write(text: str, says: str) -> None:
    with pytest.raises(ScheduleError) as err:
        parse_remind(text)
    assert says in str(err.value) and "/mlready remind weekly mon 09:30" in str(err.value)


def test_daily_skips_weekends_unless_every_day() -> None:
    from bot.reminders.schedule import EVERY_DAY, Schedule, parse_remind

    assert parse_remind("daily 10:00").cadence == "daily"
    assert parse_remind("daily 10:00 every-day").cadence == EVERY_DAY
    project = Project(created_at=datetime(2026, 11, 1, tzinfo=UTC))
    weekdays = Schedule("daily", 0, "10:00", "UTC", "set", None, None, "")
    every = Schedule(EVERY_DAY, 0, "10:00", "UTC", "set", None, None, "")
    sunday = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    assert due_period(weekdays, project, sunday) == "2026-12-04"  # Friday's, already sent by then
    assert due_period(every, project, sunday) == "2026-12-06"
    after = next_occurrence(weekdays, datetime(2026, 12, 4, 11, 0, tzinfo=UTC))
    assert after == datetime(2026, 12, 7, 10, 0, tzinfo=UTC)  # Friday -> Monday
    assert weekdays.describe() == "daily: Monday to Friday at 10:00 (UTC)"
    assert every.describe() == "daily: every day at 10:00 (UTC)"
