"""`mlready serve` as a real process: required settings, readiness, metrics port, JSON logs,
and a graceful SIGTERM while answers are in flight."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from fake_slack import payloads
from fake_slack.web_api import LocalSlackAPI
from tests.conftest import clean_env
from tests.slack_harness import SECRET, TEAM, free_port


def test_serve_without_required_settings_names_them(tmp_path: Path) -> None:
    for args, missing in (
        (["serve", "--http"], "SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET"),
        (["serve"], "SLACK_APP_TOKEN"),
    ):
        result = subprocess.run(
            [sys.executable, "-m", "bot.cli", *args],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
            env=clean_env(),
            check=False,
        )
        assert result.returncode == 1
        assert missing in result.stderr
        assert "Traceback" not in result.stderr


def get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def post(port: int, body: str, content_type: str) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/slack/events",
        data=body.encode(),
        headers=payloads.signed_headers(SECRET, body, content_type),
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        return resp.status


def test_serve_http_ready_metrics_json_logs_and_graceful_sigterm(
    tmp_path: Path, shipped_index: Path, slack: LocalSlackAPI
) -> None:
    port, metrics_port = free_port(), free_port()
    env = dict(
        os.environ,
        MLREADY_METRICS_PORT=str(metrics_port),
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET=SECRET,
        MLREADY_SLACK_API_URL=slack.url,
        MLREADY_DATABASE_URL=f"sqlite:///{tmp_path / 'serve.db'}",
        MLREADY_INDEX_DIR=str(shipped_index),
        MLREADY_LOG_FORMAT="json",
        MLREADY_REMINDER_INTERVAL_SECONDS="0",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--http", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        status = 0
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                status, _ = get(port, "/readyz")
            except OSError:
                status = 0
            if status == 200:
                break
            time.sleep(0.3)
        assert status == 200, proc.stderr.read() if proc.poll() is not None else "not ready in time"
        assert get(port, "/healthz")[0] == 200

        slack.fail_next("response_url", status=429, times=3, retry_after=1)
        questions = [f"how do we pick a KPI for churn, case {n}?" for n in range(5)]
        for n, question in enumerate(questions):
            body, ctype = payloads.slash_command(
                f"ask {question}",
                team_id=TEAM,
                channel_id="C1",
                user_id="U1",
                response_url=slack.response_url(f"q{n}"),
            )
            assert post(port, body, ctype) == 200
        assert get(port, "/metrics")[0] == 404  # not where Slack's requests come in
        scraped = get(metrics_port, "/metrics")[1]
        assert 'mlready_http_requests_total{kind="command",status="200"} 5.0' in scraped
        assert 'mlready_ack_seconds_count{kind="command"} 5.0' in scraped

        # Slack answers the first deliveries with 429 (Retry-After: 1 s), so answers are
        # certainly still in flight when SIGTERM arrives.
        assert len(slack.calls_to("response_url")) < 5
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    delivered = {c.params["_response_id"] for c in slack.calls_to("response_url")}
    assert len(slack.calls_to("response_url!429")) == 3
    assert delivered == {f"q{n}" for n in range(5)}

    records = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    assert any("listens on" in r["message"] for r in records)
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
    other = [line for line in stderr.splitlines() if line.strip() and not line.startswith("{")]
    assert other == [], other


def test_slack_run_serves_socket_mode_with_a_health_port_and_no_signing_secret(
    tmp_path: Path, shipped_index: Path, slack: LocalSlackAPI
) -> None:
    from urllib.parse import parse_qsl

    from fake_slack.socket_mode import LocalSocketMode

    socket = LocalSocketMode()
    slack.socket_url = socket.url
    health = free_port()
    # As `slack run` starts it: the CLI sets the development app's tokens and its start hook
    # (slack-cli-hooks) runs ./app.py.
    env = clean_env(
        SLACK_APP_TOKEN="xapp-test",
        SLACK_BOT_TOKEN="xoxb-test",
        MLREADY_SLACK_API_URL=slack.url,
        MLREADY_DATABASE_URL=f"sqlite:///{tmp_path / 'socket.db'}",
        MLREADY_INDEX_DIR=str(shipped_index),
        MLREADY_HEALTH_PORT=str(health),
        MLREADY_HEALTH_HOST="127.0.0.1",
        MLREADY_REMINDER_INTERVAL_SECONDS="0",
    )
    proc = subprocess.Popen(
        [sys.executable, "-X", "dev", "-m", "slack_cli_hooks.hooks.start"],
        cwd=Path(__file__).resolve().parents[3],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline, status = time.monotonic() + 120, 0
        while time.monotonic() < deadline and proc.poll() is None and status != 200:
            try:
                status, _ = get(health, "/readyz")
            except OSError:
                time.sleep(0.3)
        assert status == 200, proc.stderr.read() if proc.poll() is not None else "not ready in time"
        assert get(health, "/healthz")[0] == 200
        assert socket.wait_connected()
        body, _ = payloads.slash_command(
            "help", team_id=TEAM, channel_id="C1", user_id="U1", response_url=slack.response_url("s")
        )
        ack = socket.send("slash_commands", dict(parse_qsl(body)))
        assert "mlready* helps your team" in json.dumps(ack["payload"])
        scraped = get(health, "/metrics")[1]
        assert "# TYPE mlready_" in scraped
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        socket.stop()
    assert proc.returncode == 0, stderr
    assert "connected in Socket Mode" in stderr and "SLACK_SIGNING_SECRET" not in stderr
