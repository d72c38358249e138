"""Reminder rules and delivery with a controllable clock: destinations, grace periods,
retries with backoff, exactly-once sends, dry runs, and the scheduler thread."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot import signoffs
from bot.checklist import load_shipped_checklist
from bot.db.migrate import open_database
from bot.db.models import Project, ReminderDelivery
from bot.db.session import Database
from bot.projects import create_project
from bot.readiness import KpiInput, add_kpi, record_response
from bot.reminders.delivery import ReminderRun
from bot.reminders.rules import ASSIGNED_OVERDUE, BLOCKING_GAPS, KPI_MISSING, SIGNOFF_MISSING
from bot.reminders.schedule import (
    apply_request,
    parse_remind,
    schedule_of,
)
from tests.conftest import FakeMessenger

CHECKLIST = load_shipped_checklist()


BLOCKING_YESNO = [i.id for i in CHECKLIST.items() if i.blocking and i.kind == "yesno"]


T0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = open_database(database_url)
    yield database
    database.dispose()


def make_project(db: Database, created: datetime = T0, channel: str = "C1") -> int:
    with db.session() as s:
        project = create_project(s, "T1", channel, "UOWNER", f"Project {channel}")
        project.created_at = created
        return project.id


def settle(db: Database, project_id: int, request: str, when: datetime) -> None:
    with db.session() as s:
        apply_request(s, s.get(Project, project_id), parse_remind(request), "U1", when)


def close_all_gaps(db: Database, project_id: int) -> None:
    with db.session() as s:
        project = s.get(Project, project_id)
        add_kpi(s, project, KpiInput(metric="churn", baseline=4.2, target=3.5), "UOWNER")
        signoff, _ = signoffs.request_signoff(s, project, "USTAKE", "UOWNER", "")
        signoffs.decide(s, signoff, project, "USTAKE", approve=True)
        for item_id in BLOCKING_YESNO:
            record_response(s, project, CHECKLIST, item_id, "yes", "UOWNER")


def test_each_rule_fires_with_its_destinations_and_stops_when_closed(db: Database) -> None:
    project_id = make_project(db)
    messenger = FakeMessenger()
    run = ReminderRun(db, CHECKLIST, messenger)
    # Monday 7 December 09:31 UTC: the first weekly period after creation; 7 days have passed.
    run.run(at(7, 9, 31))
    assert messenger.by_destination() == {
        "channel": [sorted([KPI_MISSING, SIGNOFF_MISSING, BLOCKING_GAPS])],
        "owner:UOWNER": [[KPI_MISSING]],
    }
    channel = messenger.sent[0]
    assert channel.period == "2026-12-07" and channel.target == "C1"
    gaps = next(f for f in channel.findings if f.rule == BLOCKING_GAPS)
    assert set(gaps.item_ids) == set(BLOCKING_YESNO)

    # A KPI closes kpi-missing; a pending request keeps signoff-missing and nudges the stakeholder.
    with db.session() as s:
        project = s.get(Project, project_id)
        add_kpi(s, project, KpiInput(metric="churn", baseline=4.2, target=3.5), "UOWNER")
        signoffs.request_signoff(s, project, "USTAKE", "UOWNER", "")
        for item_id in BLOCKING_YESNO[1:]:
            record_response(s, project, CHECKLIST, item_id, "yes", "UOWNER")
    messenger.sent.clear()
    run.run(at(14, 9, 31))
    assert messenger.by_destination() == {
        "channel": [sorted([SIGNOFF_MISSING, BLOCKING_GAPS])],
        "stakeholder:USTAKE": [[SIGNOFF_MISSING]],
    }
    assert next(f for f in messenger.sent[0].findings if f.rule == BLOCKING_GAPS).item_ids == (
        BLOCKING_YESNO[0],
    )

    close_all_gaps(db, project_id)
    messenger.sent.clear()
    assert run.run(at(21, 9, 31)) == [] and messenger.sent == []


def test_a_no_answer_waits_out_the_grace_period(db: Database) -> None:
    project_id = make_project(db, created=T0 - timedelta(days=30))
    close_all_gaps(db, project_id)
    with db.session() as s:
        record_response(s, s.get(Project, project_id), CHECKLIST, BLOCKING_YESNO[0], "no", "U2")
    messenger = FakeMessenger()
    run = ReminderRun(db, CHECKLIST, messenger, grace=timedelta(days=7))
    # The "no" was recorded just now (real clock); a week on it is still within the grace period.
    now = datetime.now(UTC)
    assert run.run(now + timedelta(days=6)) == []
    outcomes = run.run(now + timedelta(days=14))
    assert [o.rules for o in outcomes] == [(BLOCKING_GAPS,)]


def test_owner_timezone_is_looked_up_once_and_used(db: Database) -> None:
    project_id = make_project(db)
    messenger = FakeMessenger({"UOWNER": "Asia/Tokyo"})
    run = ReminderRun(db, CHECKLIST, messenger)
    # 09:30 in Tokyo on Monday 7 December is 00:30 UTC.
    assert run.run(at(7, 0, 29)) == []
    assert {o.period for o in run.run(at(7, 0, 31))} == {"2026-12-07"}
    with db.session() as s:
        schedule = schedule_of(s, s.get(Project, project_id))
    assert (schedule.timezone, schedule.timezone_source) == ("Asia/Tokyo", "owner")
    settle(db, project_id, "timezone America/Los_Angeles", at(7, 1))
    with db.session() as s:
        assert schedule_of(s, s.get(Project, project_id)).timezone_source == "set"


def test_daily_schedule_snooze_and_catch_up_after_downtime(db: Database) -> None:
    project_id = make_project(db)
    settle(db, project_id, "daily 10:00", T0)
    messenger = FakeMessenger()
    run = ReminderRun(db, CHECKLIST, messenger)
    run.run(at(1, 10, 0))  # Tuesday
    run.run(at(1, 18, 0))  # same period: nothing new
    assert [r.period for r in messenger.sent if r.destination == "channel"] == ["2026-12-01"]

    # Down from Tuesday evening to Saturday 11:00: one catch-up for Friday, not three (and
    # `daily` has no Saturday period).
    messenger.sent.clear()
    run.run(at(5, 11, 0))
    assert [r.period for r in messenger.sent if r.destination == "channel"] == ["2026-12-04"]

    # Snoozed for 3 days on Saturday 11:00: Sunday to Tuesday stay quiet, Wednesday fires.
    settle(db, project_id, "snooze 3d", at(5, 11, 0))
    messenger.sent.clear()
    for day in (6, 7, 8):
        run.run(at(day, 10, 1))
    assert messenger.sent == []
    run.run(at(9, 10, 1))
    assert [r.period for r in messenger.sent if r.destination == "channel"] == ["2026-12-09"]

    settle(db, project_id, "off", at(9, 12, 0))
    messenger.sent.clear()
    run.run(at(10, 10, 1))
    assert messenger.sent == []


def test_a_failed_send_stays_due_and_is_retried_with_backoff(db: Database) -> None:
    make_project(db)
    messenger = FakeMessenger()
    messenger.fail = 2  # the channel message and the owner DM both fail once
    run = ReminderRun(db, CHECKLIST, messenger)
    first = run.run(at(7, 9, 31))
    assert {o.status for o in first} == {"retry"} and messenger.sent == []
    with db.session() as s:
        rows = list(s.scalars(select(ReminderDelivery)))
    assert {r.status for r in rows} == {"pending"} and {r.attempts for r in rows} == {1}
    assert "Slack answered 500" in rows[0].last_error
    assert run.run(at(7, 9, 31) + timedelta(seconds=59)) == []  # the backoff (60 s) has not passed
    second = run.run(at(7, 9, 33))
    assert {o.status for o in second} == {"sent"}
    assert sorted(r.destination for r in messenger.sent) == ["channel", "owner:UOWNER"]
    assert run.run(at(7, 9, 40)) == []  # sent once, never again for this period
    with db.session() as s:
        assert {r.status for r in s.scalars(select(ReminderDelivery))} == {"sent"}


def test_a_gap_closed_while_a_retry_waits_is_cancelled(db: Database) -> None:
    project_id = make_project(db)
    messenger = FakeMessenger()
    messenger.fail = 10
    run = ReminderRun(db, CHECKLIST, messenger)
    run.run(at(7, 9, 31))
    close_all_gaps(db, project_id)
    messenger.fail = 0
    outcomes = run.run(at(7, 9, 40))
    assert {o.status for o in outcomes} == {"cancelled"} and messenger.sent == []


def test_remind_now_sends_at_once_but_not_twice_in_a_minute(db: Database) -> None:
    project_id = make_project(db)
    messenger = FakeMessenger()
    run = ReminderRun(db, CHECKLIST, messenger)
    outcomes = run.run_now(project_id, at(1, 15, 0, month=12))
    assert {o.status for o in outcomes} == {"sent"}
    assert run.run_now(project_id, at(1, 15, 0, month=12) + timedelta(seconds=20)) == []
    assert len(run.run_now(project_id, at(1, 15, 2, month=12))) == 2  # channel and owner DM


def test_dry_run_lists_without_writing(db: Database) -> None:
    make_project(db)
    run = ReminderRun(db, CHECKLIST, None)
    listed = run.dry_run(at(7, 9, 31))
    assert {(o.destination, o.status) for o in listed} == {
        ("channel", "would-send"),
        ("owner:UOWNER", "would-send"),
    }
    with db.session() as s:
        assert list(s.scalars(select(ReminderDelivery))) == []


def test_the_scheduler_thread_sends_due_reminders_and_stops(db: Database) -> None:
    import time

    from bot.slack.reminder_scheduler import ReminderScheduler

    project_id = make_project(db, created=datetime.now(UTC) - timedelta(days=30))
    settle(db, project_id, "daily 00:00", datetime.now(UTC) - timedelta(days=10))
    messenger = FakeMessenger()
    scheduler = ReminderScheduler(ReminderRun(db, CHECKLIST, messenger), interval=0.05).start()
    deadline = time.monotonic() + 20
    while len(messenger.sent) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    scheduler.stop()
    assert sorted(r.destination for r in messenger.sent) == ["channel", "owner:UOWNER"]


def test_overdue_assigned_items_go_to_each_assignee_once(db: Database) -> None:
    from bot.evidence import AssignmentInput, assign

    project_id = make_project(db)
    close_all_gaps(db, project_id)
    with db.session() as s:
        project = s.get(Project, project_id)
        for item_id, user in (
            ("objectives.scope", "UA"),
            ("objectives.ml-justified", "UB"),
            ("data-quality.schema", "UB"),
        ):
            assign(
                s, project, CHECKLIST, item_id, AssignmentInput(user, T0.date() + timedelta(days=2)), "UOWNER"
            )
        record_response(s, project, CHECKLIST, "data-quality.schema", "yes", "UB")  # closed: not late
    messenger = FakeMessenger()
    run = ReminderRun(db, CHECKLIST, messenger)
    run.run(at(7, 9, 31))
    assert messenger.by_destination() == {
        "assignee:UA": [[ASSIGNED_OVERDUE]],
        "assignee:UB": [[ASSIGNED_OVERDUE]],
    }
    for reminder in messenger.sent:
        mine = reminder.findings[0].for_assignee(reminder.target)
        expected = {"UA": ("Is the first version scoped",), "UB": ("Have you checked that ML is needed",)}
        assert [q.startswith(expected[reminder.target]) for q in mine.open_items] == [True]
    run.run(at(7, 9, 45))  # same period: nothing more
    assert len(messenger.sent) == 2
    with db.session() as s:  # answered since: the next period says nothing to UA
        record_response(s, s.get(Project, project_id), CHECKLIST, "objectives.scope", "n-a", "UA")
    run.run(at(14, 9, 31))
    assert [r.destination for r in messenger.sent[2:]] == ["assignee:UB"]


def test_a_dm_to_someone_away_waits_instead_of_counting_as_ignored(db: Database) -> None:
    make_project(db)
    messenger = FakeMessenger()
    messenger.away = {"UOWNER"}
    run = ReminderRun(db, CHECKLIST, messenger)
    outcomes = run.run(at(7, 9, 31))
    assert {(o.destination, o.status) for o in outcomes} == {("channel", "sent"), ("owner:UOWNER", "away")}
    with db.session() as s:
        waiting = s.scalars(
            select(ReminderDelivery).where(ReminderDelivery.destination == "owner:UOWNER")
        ).one()
        assert (waiting.status, waiting.attempts) == ("pending", 0)  # not a failure
    assert run.run(at(7, 10, 0)) == []  # asked again after an hour, not before
    messenger.away.clear()
    later = run.run(at(7, 10, 32))
    assert [(o.destination, o.status) for o in later] == [("owner:UOWNER", "sent")]
    assert messenger.by_destination()["owner:UOWNER"] == [[KPI_MISSING]]
