"""The database layer on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import inspect

from bot import history
from bot.answers import Answer, Source
from bot.db.migrate import HEAD_REVISION, MIGRATIONS, current_revision, open_database, upgrade
from bot.db.session import Database, normalize_url
from bot.errors import MlreadyError
from bot.feedback_report import build_report, to_csv, to_markdown

TABLES = {"processed_events", "answered_threads", "answer_records", "answer_feedback"}


def test_head_revision_constant_matches_migrations() -> None:
    from alembic.script import ScriptDirectory

    from bot.db.migrate import alembic_config

    db = Database("sqlite://")
    assert ScriptDirectory.from_config(alembic_config(db.engine)).get_current_head() == HEAD_REVISION
    assert MIGRATIONS.is_dir()


def test_migrations_up_down_up(database_url: str) -> None:
    db = open_database(database_url)
    assert current_revision(db.engine) == HEAD_REVISION
    assert set(inspect(db.engine).get_table_names()) >= TABLES
    upgrade(db.engine, "head")  # idempotent
    from alembic import command

    from bot.db.migrate import alembic_config

    command.downgrade(alembic_config(db.engine), "base")
    assert not TABLES & set(inspect(db.engine).get_table_names())
    upgrade(db.engine)
    assert current_revision(db.engine) == HEAD_REVISION
    db.dispose()


def test_concurrent_event_claims_only_one_wins(database_url: str) -> None:
    db = open_database(database_url)
    results: list[bool] = []
    lock = threading.Lock()

    def claim() -> None:
        with db.session() as s:
            won = history.claim_event(s, "EvRACE", "T1")
        with lock:
            results.append(won)

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 7 + [True]
    db.dispose()


def test_answers_feedback_and_report(database_url: str) -> None:
    db = open_database(database_url)
    good = Answer(
        "How to pick a KPI?",
        True,
        0.7,
        "• Pick one. [1]",
        [Source("kpis-choosing-a-kpi", "Choosing a KPI", "What to do", "kpis", 1.0)],
    )
    off = Answer("Best pizza?", False, 0.1, "Sorry", [], closest_topics=["Choosing a KPI"])
    with db.session() as s:
        a1 = history.record_answer(s, good, team_id="T1", channel_id="C1", user_id="U1", surface="mention").id
        for _ in range(2):
            history.record_answer(s, off, team_id="T1", channel_id="C1", user_id="U2", surface="dm")
    with db.session() as s:
        assert history.record_feedback(s, a1, "T1", "U3", helpful=False)
        assert not history.record_feedback(s, a1, "T2", "U3", helpful=False)  # other workspace
        assert not history.record_feedback(s, 424242, "T1", "U3", helpful=True)
    with db.session() as s:
        rows = build_report(s)
        recent = build_report(s, since_days=1)
    assert [r.question for r in rows] == ["Best pizza?", "How to pick a KPI?"]
    assert (rows[0].count, rows[0].declined, rows[1].not_helpful) == (2, 2, 1)
    assert rows[1].sources == ["Choosing a KPI — What to do"]
    assert len(recent) == 2
    md = to_markdown(rows, 7)
    assert "the last 7 days" in md and "| 1 | Best pizza? | 2 | 2 | 0 |" in md
    assert to_csv(rows).splitlines()[0].startswith("question,asked,declined,not_helpful")
    db.dispose()


def test_url_forms() -> None:
    assert normalize_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("postgres://u:p@h:5/db") == "postgresql+psycopg://u:p@h:5/db"
    assert normalize_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("sqlite:///x.db") == "sqlite:///x.db"
    with pytest.raises(MlreadyError, match="MLREADY_DATABASE_URL"):
        normalize_url("not a url at all")


def test_sqlite_uses_wal(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'w.db'}")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    db.dispose()


def test_cli_db_upgrade_and_report(database_url: str, tmp_path: Path) -> None:
    env = dict(os.environ, MLREADY_DATABASE_URL=database_url)
    up = subprocess.run(
        [sys.executable, "-m", "bot.cli", "db", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert up.returncode == 0, up.stderr
    assert f"revision {HEAD_REVISION}" in up.stdout
    report = subprocess.run(
        [sys.executable, "-m", "bot.cli", "feedback", "report", "--since", "7", "--format", "csv"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert report.returncode == 0, report.stderr
    assert report.stdout.startswith("question,asked")


def test_reachability() -> None:
    assert Database("sqlite://").reachable()
    assert not Database("postgresql://postgres@127.0.0.1:1/nowhere").reachable()


def test_migrations_match_the_models(database_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import MetaData

    from bot.db.models import Base, slack_oauth_tables

    expected = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(expected)
    slack_oauth_tables(expected)
    db = open_database(database_url)
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), expected)
    db.dispose()
    assert diff == []


def test_checklist_responses_survive_the_rename(database_url: str) -> None:
    """0006 renames checklist answers to responses; rows recorded before it are kept."""
    from alembic import command
    from sqlalchemy import select, text

    from bot import projects
    from bot.db.migrate import alembic_config
    from bot.db.models import ChecklistResponse, ResponseHistory

    db = open_database(database_url)
    with db.session() as s:
        pid = projects.create_project(s, "T1", "C1", "U1", "churn").id
    command.downgrade(alembic_config(db.engine), "0005")
    with db.engine.begin() as conn:
        for table in ("checklist_answers", "answer_history"):
            conn.execute(
                text(
                    f"INSERT INTO {table} (project_id, item_id, value, note, answered_by, answered_at) "
                    "VALUES (:p, 'objectives.scope', 'yes', '', 'U2', :now)"
                ),
                {"p": pid, "now": "2026-01-02 03:04:05+00:00"},
            )
    upgrade(db.engine)
    with db.session() as s:
        current = s.get(ChecklistResponse, (pid, "objectives.scope"))
        assert current is not None and (current.value, current.responded_by) == ("yes", "U2")
        assert [h.responded_by for h in s.scalars(select(ResponseHistory))] == ["U2"]
    assert "ix_checklist_response_history_project" in {
        i["name"] for i in inspect(db.engine).get_indexes("checklist_response_history")
    }
    db.dispose()
