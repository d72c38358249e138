"""100 concurrent signed `/mlready ask` requests to `mlready serve --http` on loopback."""

from __future__ import annotations

import collections
import signal
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bot.evaluation import percentile
from fake_slack import payloads
from fake_slack.web_api import LocalSlackAPI

SECRET = "bench-secret"
REQUESTS = 100
CONCURRENCY = 100


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_slack_load(env: dict, work: Path) -> dict:
    slack = LocalSlackAPI(team_id="TBENCH").start()
    port = _free_port()
    server_env = dict(
        env, SLACK_BOT_TOKEN="xoxb-bench", SLACK_SIGNING_SECRET=SECRET, MLREADY_SLACK_API_URL=slack.url
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--http", "--host", "127.0.0.1", "--port", str(port)],
        env=server_env,
        stdout=subprocess.DEVNULL,
        stderr=(work / "server.log").open("w"),
    )
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        questions = [
            "how do we pick a KPI for churn?",
            "how much training data do we need?",
            "who should sign off our objectives?",
            "how do we detect data drift?",
        ]

        def one(i: int) -> tuple[int, float]:
            body, ctype = payloads.slash_command(
                f"ask {questions[i % len(questions)]}",
                team_id="TBENCH",
                channel_id="C1",
                user_id=f"U{i}",
                response_url=slack.response_url(f"r{i}"),
            )
            headers = payloads.signed_headers(SECRET, body, ctype)
            req = urllib.request.Request(
                f"http://127.0.0.1:{port}/slack/events", data=body.encode(), headers=headers, method="POST"
            )
            t = time.perf_counter()
            with urllib.request.urlopen(req, timeout=30) as resp:
                status = resp.status
            return status, (time.perf_counter() - t) * 1000

        started = time.perf_counter()
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            results = list(pool.map(one, range(REQUESTS)))
        slack.wait_for("response_url", REQUESTS, timeout=300)
        delivered_s = time.perf_counter() - started
        time.sleep(1)
        per_request = collections.Counter(c.params["_response_id"] for c in slack.calls_to("response_url"))
        acks = [ms for _, ms in results]
        return {
            "requests": REQUESTS,
            "concurrency": CONCURRENCY,
            "status_200": sum(s == 200 for s, _ in results),
            "ack_ms_p50": round(percentile(acks, 50), 1),
            "ack_ms_p99": round(percentile(acks, 99), 1),
            "ack_ms_max": round(max(acks), 1),
            "acked_under_3s": sum(ms < 3000 for ms in acks),
            "answers_delivered": len(per_request),
            "answers_delivered_exactly_once": sum(n == 1 for n in per_request.values()),
            "all_answers_delivered_s": round(delivered_s, 1),
        }
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        slack.stop()
