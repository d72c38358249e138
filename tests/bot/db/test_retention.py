"""Pruning the bookkeeping tables on SQLite and PostgreSQL, from the CLI and the scheduler."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot.db.migrate import open_database
from bot.db.models import AnsweredThread, Job, ProcessedEvent, utcnow
from bot.db.retention import Retention
from bot.reminders.delivery import ReminderRun
from bot.slack.reminder_scheduler import ReminderScheduler
from tests.conftest import run_cli

DAY = timedelta(days=1)


def fill(db, now) -> None:
    with db.session() as s:
        for age, n in ((8 * DAY, 1), (DAY, 2)):
            s.add(ProcessedEvent(event_id=f"Ev{n}", team_id="T1", received_at=now - age))
            s.add(
                AnsweredThread(team_id="T1", channel_id="C1", thread_ts=f"{n}.0", created_at=now - age * 12)
            )
            for status in ("done", "failed", "pending"):
                s.add(
                    Job(
                        kind="x",
                        team_id="T1",
                        payload={},
                        status=status,
                        attempts=1,
                        run_after=now - age,
                        created_at=now - age,
                        finished_at=now - age if status != "pending" else None,
                    )
                )


def counts(db) -> dict[str, int]:
    with db.session() as s:
        return {
            model.__tablename__: s.scalar(select(func.count()).select_from(model))
            for model in (ProcessedEvent, Job, AnsweredThread)
        }


def test_old_rows_are_pruned_and_recent_and_pending_ones_kept(database_url: str) -> None:
    db = open_database(database_url)
    now = utcnow()
    fill(db, now)
    retention = Retention(events=7 * DAY, threads=90 * DAY)
    with db.session() as s:
        removed = retention.prune(s, now)
    # events 8 days old go; threads 96 days old go, 12 days old stay; pending jobs always stay
    assert removed == {"processed_events": 1, "jobs": 2, "answered_threads": 1}
    assert counts(db) == {"processed_events": 1, "jobs": 4, "answered_threads": 1}
    db.dispose()


def test_the_scheduler_prunes_once_an_hour(tmp_path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'p.db'}")
    now = utcnow()
    scheduler = ReminderScheduler(
        ReminderRun(db, None, None, DAY),
        60,
        Retention(events=7 * DAY, threads=90 * DAY),
        db,  # type: ignore[arg-type]
    )
    fill(db, now)
    scheduler.prune_hourly(now)
    assert counts(db)["processed_events"] == 1
    with db.session() as s:
        s.add(ProcessedEvent(event_id="EvOld", team_id="T1", received_at=now - 9 * DAY))
    scheduler.prune_hourly(now + timedelta(minutes=30))
    assert counts(db)["processed_events"] == 2  # not yet an hour later
    scheduler.prune_hourly(now + timedelta(minutes=61))
    assert counts(db)["processed_events"] == 1


def test_cli_db_prune(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    db = open_database(url)
    fill(db, utcnow())
    result = run_cli("db", "prune", env={"MLREADY_DATABASE_URL": url, "MLREADY_EVENT_RETENTION_DAYS": "7"})
    assert result.returncode == 0, result.stderr
    assert "processed_events: 1 removed, jobs: 2 removed, answered_threads: 1 removed" in result.stdout
    assert counts(db)["jobs"] == 4
