"""`mlready remind` as cron runs it: the real CLI against the local Slack Web API, and several
runs at the same moment on PostgreSQL sending each reminder exactly once."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.checklist import load_shipped_checklist
from bot.db.migrate import open_database
from bot.db.models import ReminderDelivery
from bot.projects import create_project
from bot.reminders.delivery import ReminderRun
from fake_slack.web_api import LocalSlackAPI
from tests.conftest import CliRun, FakeMessenger, run_cli

NOW = "2026-12-07T09:31:00+00:00"
CREATED = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # after that Monday's 09:30


def seed(url: str, count: int) -> None:
    db = open_database(url)
    with db.session() as s:
        for n in range(count):
            project = create_project(s, "T1", f"C{n:03d}", f"U{n:03d}", f"Project {n}")
            project.created_at = CREATED
    db.dispose()


def mlready(url: str, slack: LocalSlackAPI | None, *args: str) -> CliRun:
    """`mlready remind ARGS`, in this process; test_concurrent_runs_* runs real processes."""
    env = {"MLREADY_DATABASE_URL": url}
    if slack is not None:
        env.update(SLACK_BOT_TOKEN="xoxb-test", MLREADY_SLACK_API_URL=slack.url)
    return run_cli("remind", *args, env=env, drop=() if slack is not None else ("SLACK_BOT_TOKEN",))


def test_remind_once_dry_run_and_errors(tmp_path, slack: LocalSlackAPI) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    seed(url, 2)
    dry = mlready(url, None, "--dry-run", "--now", NOW)
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.count("would-send") == 4 and "kpi-missing" in dry.stdout
    assert slack.calls_to("chat.postMessage") == []

    early = mlready(url, slack, "--once", "--now", "2026-12-07T09:29:00+00:00")
    assert early.returncode == 0 and "Nothing due." in early.stdout

    sent = mlready(url, slack, "--once", "--now", NOW)
    assert sent.returncode == 0, sent.stderr
    assert sent.stdout.count("sent") == 4
    posts = slack.calls_to("chat.postMessage")
    assert sorted(c.params["channel"] for c in posts) == ["C000", "C001", "U000", "U001"]
    channel_post = next(c for c in posts if c.params["channel"] == "C000")
    actions = next(b for b in channel_post.params["blocks"] if b["type"] == "actions")
    assert [e["text"]["text"] for e in actions["elements"]] == [
        "Define KPI",
        "Request sign-off",
        "Why it matters",
        "Snooze 3 days",
    ]
    again = mlready(url, slack, "--once", "--now", NOW)
    assert "Nothing due." in again.stdout and len(slack.calls_to("chat.postMessage")) == 4

    bad = mlready(url, slack, "--once", "--now", "next monday")
    assert bad.returncode == 2 and "ISO date-time" in bad.stderr
    naive = mlready(url, slack, "--once", "--now", "2026-12-07T09:31:00")
    assert naive.returncode == 2 and "UTC offset" in naive.stderr
    no_token = mlready(url, None, "--once", "--now", NOW)
    assert no_token.returncode == 1 and "SLACK_BOT_TOKEN" in no_token.stderr
    bare = mlready(url, slack)
    assert bare.returncode == 2 and "--once" in bare.stderr


def test_slack_failing_then_recovering_exit_code_and_retry(tmp_path, slack: LocalSlackAPI) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    seed(url, 1)
    # With no client retries, one 500 per message: the run gives up for now and says so.
    slack.fail_next("chat.postMessage", status=500, times=2)
    failed = subprocess.run(
        [sys.executable, "-m", "bot.cli", "remind", "--once", "--now", NOW],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(
            os.environ,
            MLREADY_DATABASE_URL=url,
            SLACK_BOT_TOKEN="xoxb-test",
            MLREADY_SLACK_API_URL=slack.url,
            MLREADY_SLACK_MAX_RETRIES="0",
        ),
    )
    assert failed.returncode == 3 and failed.stdout.count("retry") == 2
    later = mlready(url, slack, "--once", "--now", "2026-12-07T09:40:00+00:00")
    assert later.returncode == 0 and later.stdout.count("sent") == 2
    assert len(slack.calls_to("chat.postMessage")) == 2


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_concurrent_runs_send_each_reminder_once(database_url: str, slack: LocalSlackAPI) -> None:
    projects = 12
    seed(database_url, projects)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "remind", "--once", "--now", NOW],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(
                os.environ,
                MLREADY_DATABASE_URL=database_url,
                SLACK_BOT_TOKEN="xoxb-test",
                MLREADY_SLACK_API_URL=slack.url,
            ),
        )
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, [err for _, err in outputs]
    posts = Counter(c.params["channel"] for c in slack.calls_to("chat.postMessage"))
    assert len(posts) == 2 * projects and set(posts.values()) == {1}
    assert sum(out.count("sent ") for out, _ in outputs) == 2 * projects


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_racing_runners_in_threads_claim_each_row_once(database_url: str) -> None:
    projects = 20
    seed(database_url, projects)
    checklist = load_shipped_checklist()
    messenger = FakeMessenger()
    barrier = threading.Barrier(4)
    moment = datetime.fromisoformat(NOW)

    def runner() -> None:
        db = open_database(database_url)
        run = ReminderRun(db, checklist, messenger)
        barrier.wait()
        # plan and send_due directly: run() would serialize the threads on the process lock
        run.plan(moment)
        run.send_due(moment)
        db.dispose()

    threads = [threading.Thread(target=runner) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    sent = Counter((r.project_id, r.destination) for r in messenger.sent)
    assert len(sent) == 2 * projects and set(sent.values()) == {1}
    db = open_database(database_url)
    with db.session() as s:
        assert {r.status for r in s.scalars(select(ReminderDelivery))} == {"sent"}
    db.dispose()
