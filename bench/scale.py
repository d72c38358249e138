"""Scale-out proof: three `mlready serve --http` replicas on one PostgreSQL database.

Run from the repository root (about 3 minutes on 2 cores, index build included):

    .venv/bin/python bench/scale.py [--index DIR] [--phases load,kill,postgres,slack]

It starts everything it needs on loopback and removes it afterwards:
- a private PostgreSQL 15 instance (initdb + pg_ctl into a temporary folder, on a free port, as
  the `postgres` OS user when run as root); the shared server on port 5432 is never touched;
- the local Slack Web API as its own process (`python -m fake_slack.web_api`), driven through
  its control API (`/_control/calls`, `/_control/fail`);
- the index, built once with `mlready index` (or `--index DIR` to reuse one);
- three replicas, `python -m bot.cli serve --http --port P`, sharing the database and the index.
  They run with MLREADY_REMINDER_INTERVAL_SECONDS=0 (reminders from `mlready remind --once`, as
  cron would run it), so that the reminder check below is deterministic.

The clients play Slack and a load balancer: signed requests, round-robin over the replicas,
and on a refused connection the next replica. Phases:

1. load      500 requests from 50 clients: `/mlready ask`, checklist clicks, `/mlready status`.
2. kill      kill -9 one replica while requests flow; no acknowledged click or question may be
             lost: the killed replica's jobs are finished by the others after their lease.
3. postgres  the database restarted while requests flow: /readyz says 503 while it is down, the
             replicas recover by themselves, nothing acknowledged is lost.
4. slack     the Slack Web API answers 500 to everything for 30 s: every acknowledged question is
             still answered, once, after it recovers; a reminder that was due during the outage is
             sent afterwards by `mlready remind --once`.

Writes bench/out/scale.json (and the replicas' logs next to it) and prints a Markdown summary.
Exits with 1 when a check failed.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from bot.evaluation import percentile  # noqa: E402
from bot.slack import ids  # noqa: E402
from bot.slack.http_endpoint import CLICK_FAILED  # noqa: E402
from fake_slack import payloads  # noqa: E402

OUT = ROOT / "bench" / "out"
PY = sys.executable
PG_BIN = Path("/usr/lib/postgresql/15/bin")
SECRET = "scale-signing-secret"
TEAM = "TSCALE"
CHANNEL = "CSCALE"
OWNER = "USCALEOWNER"
REMIND_CHANNEL = "CREMIND"
REMIND_OWNER = "UREMINDOWNER"
SECTIONS = ["objectives", "data-quality", "monitoring"]  # one checklist message each
ACK_LIMIT_MS = 3000.0
QUESTIONS = [
    "how do we pick a KPI for churn?",
    "how much training data do we need?",
    "who should sign off our objectives?",
    "how do we detect data drift?",
    "what should we monitor once the model is in production?",
    "how do we keep stakeholders engaged?",
    "how do we integrate the model with the billing system?",
    "what is the best pizza in Naples?",  # off topic: declined, still recorded and delivered
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def base_env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "MLREADY_")) or k == "MLREADY_MODEL_PATH"
    }
    env.update(
        HF_HUB_OFFLINE="1",
        HF_HUB_DISABLE_PROGRESS_BARS="1",
        TOKENIZERS_PARALLELISM="false",
        PYTHONPATH=str(ROOT),
    )
    return env


# --------------------------------------------------------------------------- infrastructure


class PrivatePostgres:
    """A throw-away PostgreSQL 15 cluster in a temporary folder, on a free loopback port."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="mlready-scale-pg-"))
        self.data = self.dir / "data"
        self.logfile = self.dir / "postgres.log"
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        if self.as_root:  # initdb refuses to run as root
            shutil.chown(self.dir, "postgres", "postgres")

    def _run(self, *args: str) -> None:
        cmd = [*args]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed: {proc.stdout[-800:]} {proc.stderr[-800:]}")

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/mlready"

    def init(self) -> PrivatePostgres:
        self._run(
            str(PG_BIN / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
            "--no-instructions",
        )
        self.start()
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute("CREATE DATABASE mlready")
        return self

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=200"
        self._run(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.logfile),
            "-w",
            "-t",
            "60",
            "-o",
            options,
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def destroy(self) -> None:
        with contextlib.suppress(Exception):
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with psycopg.connect(self.url) as conn:
            return list(conn.execute(sql, params).fetchall())


class FakeSlack:
    """fake_slack/web_api.py as its own process, read and steered through its control API."""

    def __init__(self, work: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/api/"
        self.proc = subprocess.Popen(
            [PY, "-m", "fake_slack.web_api", "--port", str(self.port), "--team", TEAM],
            env=base_env(),
            cwd=work,
            stdout=subprocess.DEVNULL,
            stderr=(work / "local_api.log").open("w"),
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                self.calls("auth.none")
                return
            time.sleep(0.1)
        raise RuntimeError("the local Slack API did not start")

    def response_url(self, name: str) -> str:
        return self.url.replace("/api/", f"/response/{name}")

    def calls(self, method: str) -> list[dict]:
        query = urllib.parse.urlencode({"method": method})
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/_control/calls?{query}", timeout=30) as r:
            return json.loads(r.read())["calls"]

    def fail_for(self, seconds: float, status: int = 500) -> None:
        body = json.dumps({"seconds": seconds, "status": status}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/_control/fail", data=body, method="POST"
        )
        with urllib.request.urlopen(request, timeout=10):
            pass

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def http_get(url: str, timeout: float = 5) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


class Replica:
    def __init__(self, n: int, env: dict[str, str], work: Path) -> None:
        self.n, self.env, self.work = n, env, work
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.logfile = OUT / f"scale-replica-{n}.log"
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        self.proc = subprocess.Popen(
            [PY, "-m", "bot.cli", "serve", "--http", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env,
            cwd=self.work,
            stdout=subprocess.DEVNULL,
            stderr=self.logfile.open("a"),
        )

    def readyz(self) -> int | None:
        try:
            return http_get(f"http://127.0.0.1:{self.port}/readyz", timeout=3)
        except OSError:
            return None

    def wait_ready(self, timeout: float = 300) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"replica {self.n} exited with {self.proc.returncode}; see {self.logfile}")
            if self.readyz() == 200:
                return time.monotonic() - started
            time.sleep(0.3)
        raise RuntimeError(f"replica {self.n} was not ready in {timeout} s; see {self.logfile}")

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return None


# --------------------------------------------------------------------------- load


@dataclass
class Req:
    kind: str  # ask, click, status
    key: str  # the user id, unique per ask and click: how the database rows are matched
    build: Callable[[], tuple[str, str]]  # (body, content type), built when sent
    at: float = 0.0  # seconds after the phase start (paced phases)


@dataclass
class Result:
    kind: str
    key: str
    status: int | None  # None: no HTTP answer (connection reset, timeout)
    ms: float
    replica: int | None
    body: str = ""
    error: str = ""
    sent_at: float = 0.0  # seconds after the phase start
    tries: int = 1

    @property
    def acked(self) -> bool:
        return self.status == 200


class Balancer:
    """Client-side round-robin; a refused connection moves on to the next replica."""

    def __init__(self, replicas: list[Replica]) -> None:
        self.replicas = replicas
        self._next = itertools.count()

    def send(self, req: Req, t0: float) -> Result:
        body, ctype = req.build()
        start = next(self._next)
        began = time.perf_counter()
        tries = 0
        for step in range(len(self.replicas)):
            replica = self.replicas[(start + step) % len(self.replicas)]
            tries += 1
            request = urllib.request.Request(
                f"http://127.0.0.1:{replica.port}/slack/events",
                data=body.encode(),
                headers=payloads.signed_headers(SECRET, body, ctype),
                method="POST",
            )
            status, text, error = None, "", ""
            try:
                with urllib.request.urlopen(request, timeout=15) as resp:
                    status, text = resp.status, resp.read().decode()
            except urllib.error.HTTPError as exc:
                status, text = exc.code, exc.read().decode(errors="replace")
            except urllib.error.URLError as exc:
                if isinstance(exc.reason, ConnectionRefusedError):
                    continue  # never reached the replica: the next one gets it
                error = f"{type(exc.reason).__name__}: {exc.reason}"
            except (OSError, ConnectionError) as exc:  # reset or closed mid-request
                error = f"{type(exc).__name__}: {exc}"
            return Result(
                req.kind,
                req.key,
                status,
                (time.perf_counter() - began) * 1000,
                replica.n,
                text,
                error,
                began - t0,
                tries,
            )
        return Result(
            req.kind,
            req.key,
            None,
            (time.perf_counter() - began) * 1000,
            None,
            "",
            "every replica refused",
            began - t0,
            tries,
        )


def run_load(
    balancer: Balancer,
    reqs: list[Req],
    clients: int,
    paced: bool,
    events: list[tuple[float, Callable[[], None]]] = (),  # type: ignore[assignment]
) -> tuple[list[Result], float]:
    """Send `reqs` from `clients` threads (at their `at` offsets when paced); run `events` on time."""
    todo = collections.deque(reqs)
    lock = threading.Lock()
    results: list[Result] = []
    t0 = time.perf_counter()

    def client() -> None:
        while True:
            with lock:
                if not todo:
                    return
                req = todo.popleft()
            if paced:
                delay = t0 + req.at - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
            result = balancer.send(req, t0)
            with lock:
                results.append(result)

    def timeline() -> None:
        for at, action in sorted(events, key=lambda e: e[0]):
            delay = t0 + at - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            action()

    timer = threading.Thread(target=timeline, daemon=True)
    timer.start()
    with ThreadPoolExecutor(clients) as pool:
        for _ in range(clients):
            pool.submit(client)
    timer.join()
    return results, time.perf_counter() - t0


@dataclass
class Scenario:
    """What the clients can do: the checklist buttons and the Slack stand-in."""

    slack: FakeSlack
    buttons: list[tuple[str, str, str]]  # (message ts, action_id, value) of Yes/Partial/No/N/A
    project_id: int
    counters: dict[str, itertools.count] = field(
        default_factory=lambda: collections.defaultdict(itertools.count)
    )

    def plan(self, phase: str, count: int, rate: float | None = None) -> list[Req]:
        """40% asks, 40% checklist clicks, 20% /mlready status, interleaved."""
        reqs = []
        for i in range(count):
            kind = ("ask", "click", "ask", "click", "status")[i % 5]
            n = next(self.counters[phase + kind])
            at = i / rate if rate else 0.0
            if kind == "ask":
                reqs.append(Req("ask", f"UA{phase}{n:04d}", self._ask(phase, n), at))
            elif kind == "click":
                reqs.append(Req("click", f"UC{phase}{n:04d}", self._click(phase, n), at))
            else:
                reqs.append(Req("status", f"US{phase}{n:04d}", self._status(phase, n), at))
        return reqs

    def _ask(self, phase: str, n: int) -> Callable[[], tuple[str, str]]:
        return lambda: payloads.slash_command(
            f"ask {QUESTIONS[n % len(QUESTIONS)]}",
            team_id=TEAM,
            channel_id=CHANNEL,
            user_id=f"UA{phase}{n:04d}",
            response_url=self.slack.response_url(f"ask-UA{phase}{n:04d}"),
        )

    def _click(self, phase: str, n: int) -> Callable[[], tuple[str, str]]:
        ts, action_id, value = self.buttons[(n * 7 + len(phase)) % len(self.buttons)]
        return lambda: payloads.block_action(
            {"action_id": action_id, "value": value, "block_id": "b"},
            team_id=TEAM,
            user_id=f"UC{phase}{n:04d}",
            channel_id=CHANNEL,
            response_url=self.slack.response_url(f"click-UC{phase}{n:04d}"),
            message={"type": "message", "ts": ts},
        )

    def _status(self, phase: str, n: int) -> Callable[[], tuple[str, str]]:
        return lambda: payloads.slash_command(
            "status",
            team_id=TEAM,
            channel_id=CHANNEL,
            user_id=f"US{phase}{n:04d}",
            response_url=self.slack.response_url(f"status-US{phase}{n:04d}"),
        )


# --------------------------------------------------------------------------- checks


def latency(results: list[Result]) -> dict:
    answered = [r.ms for r in results if r.status is not None]
    if not answered:
        return {"n": 0}
    return {
        "n": len(answered),
        "p50_ms": round(percentile(answered, 50), 1),
        "p99_ms": round(percentile(answered, 99), 1),
        "max_ms": round(max(answered), 1),
        "under_3s": sum(ms < ACK_LIMIT_MS for ms in answered),
    }


def statuses(results: list[Result]) -> dict[str, int]:
    counts: collections.Counter[str] = collections.Counter()
    for r in results:
        counts[str(r.status) if r.status is not None else "no-response"] += 1
    return dict(sorted(counts.items()))


def ack_text(result: Result) -> str:
    with contextlib.suppress(ValueError):
        return str(json.loads(result.body).get("text", ""))
    return result.body


def delivered_asks(slack: FakeSlack, prefix: str) -> collections.Counter[str]:
    """Answers each asker sees: a reply that replaces the original ("Looking that up") shows as
    one message however often it is sent; any other reply is one more message."""
    seen: collections.Counter[str] = collections.Counter()
    replaced: set[str] = set()
    for c in slack.calls("response_url"):
        key = c["params"].get("_response_id", "")
        if not key.startswith(f"ask-{prefix}"):
            continue
        key = key.removeprefix("ask-")
        if c["params"].get("replace_original") in (True, "true"):
            if key in replaced:
                continue
            replaced.add(key)
        seen[key] += 1
    return seen


def wait_for_answers(slack: FakeSlack, phase: str, expected: set[str], timeout: float) -> float:
    """Seconds until every expected ask was delivered (or the timeout); then a short quiet period."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if expected <= set(delivered_asks(slack, f"UA{phase}")):
            break
        time.sleep(1)
    waited = time.monotonic() - started
    time.sleep(3)  # a duplicate delivery would show up here
    return waited


def check_phase(
    phase: str,
    results: list[Result],
    pg: PrivatePostgres,
    slack: FakeSlack,
    project_id: int,
    answer_timeout: float,
    expect_answer_from: Callable[[Result], bool] = lambda r: True,
) -> dict:
    """Compare what was acknowledged with the database and with what Slack received."""
    asks = [r for r in results if r.kind == "ask"]
    clicks = [r for r in results if r.kind == "click"]
    status = [r for r in results if r.kind == "status"]
    acked_asks = [r for r in asks if r.acked and ack_text(r).startswith("Looking that up")]
    busy = [r for r in asks if r.acked and not ack_text(r).startswith("Looking that up")]
    expected = {r.key for r in acked_asks if expect_answer_from(r)}
    waited = wait_for_answers(slack, phase, expected, answer_timeout)

    records = dict(
        pg.query(
            "SELECT user_id, count(*) FROM answer_records WHERE user_id LIKE %s GROUP BY user_id",
            (f"UA{phase}%",),
        )
    )
    history = dict(
        pg.query(
            "SELECT responded_by, count(*) FROM checklist_response_history "
            "WHERE project_id = %s AND responded_by LIKE %s GROUP BY responded_by",
            (project_id, f"UC{phase}%"),
        )
    )
    delivered = delivered_asks(slack, f"UA{phase}")
    sent = collections.Counter(
        c["params"]["_response_id"].removeprefix("ask-")
        for c in slack.calls("response_url")
        if c["params"].get("_response_id", "").startswith(f"ask-UA{phase}")
    )
    acked_keys = [r.key for r in acked_asks]
    # A click that failed on our side is acked and followed by a private "click again"
    # (bot/slack/http_endpoint.py): the person knows it was not saved, so it counts as refused.
    told_to_retry = {
        c["params"]["_response_id"].removeprefix("click-")
        for c in slack.calls("response_url")
        if c["params"].get("_response_id", "").startswith(f"click-UC{phase}")
        and c["params"].get("text") == CLICK_FAILED
    }
    acked_clicks = [r.key for r in clicks if r.acked and r.key not in told_to_retry]
    unacked_clicks = [r.key for r in clicks if not r.acked or r.key in told_to_retry]
    return {
        "requests": len(results),
        "statuses": statuses(results),
        "ack_latency": latency(results),
        "asks": {
            "sent": len(asks),
            "acked": len(acked_asks),
            "acked_busy": len(busy),
            "not_acked": len(asks) - len(acked_asks) - len(busy),
            "answer_record_exactly_once": sum(records.get(k, 0) == 1 for k in acked_keys),
            "answer_record_missing": sorted(k for k in acked_keys if records.get(k, 0) == 0),
            "answer_record_duplicated": sorted(k for k in acked_keys if records.get(k, 0) > 1),
            "delivered_exactly_once": sum(delivered.get(k, 0) == 1 for k in acked_keys),
            "delivery_missing": sorted(k for k in acked_keys if delivered.get(k, 0) == 0),
            "delivery_duplicated": sorted(k for k in acked_keys if delivered.get(k, 0) > 1),
            # sent again after a crash between posting and recording it, replacing the first
            "sent_again_replacing": sorted(k for k in acked_keys if sent.get(k, 0) > delivered.get(k, 0)),
            "unacked_but_recorded": sum(records.get(r.key, 0) > 0 for r in asks if not r.acked),
            "all_delivered_after_s": round(waited, 1),
        },
        "clicks": {
            "sent": len(clicks),
            "acked": len(acked_clicks),
            "stored_exactly_once": sum(history.get(k, 0) == 1 for k in acked_clicks),
            "acked_but_lost": sorted(k for k in acked_clicks if history.get(k, 0) == 0),
            "duplicated": sorted(k for k in history if history[k] > 1),
            "unacked": len(unacked_clicks),
            "unacked_but_stored": sum(history.get(k, 0) > 0 for k in unacked_clicks),
        },
        "status": {
            "sent": len(status),
            "acked_with_report": sum(r.acked and "Readiness of" in ack_text(r) for r in status),
        },
        "errors": sorted({r.error for r in results if r.error})[:10],
    }


def final_render_matches(slack: FakeSlack, pg: PrivatePostgres, project_id: int, messages: list[str]) -> dict:
    """The last chat.update of each checklist message shows the stored answers (renders serialized)."""
    previous = -1
    for _ in range(60):  # wait until the renders have settled
        count = len(slack.calls("chat.update"))
        if count == previous:
            break
        previous = count
        time.sleep(2)
    stored = dict(
        pg.query("SELECT item_id, value FROM checklist_responses WHERE project_id = %s", (project_id,))
    )
    updates = slack.calls("chat.update")
    checked, wrong = 0, []
    for ts in messages:
        mine = [u for u in updates if u["params"].get("ts") == ts]
        if not mine:
            continue
        for block in mine[-1]["params"]["blocks"]:
            if block.get("type") != "actions" or block.get("block_id") == "checklist_nav":
                continue
            shown = [
                e["action_id"].removeprefix(f"{ids.CHECKLIST_RESPONSE}_")
                for e in block.get("elements", [])
                if e.get("style") == "primary" and e["action_id"].startswith(ids.CHECKLIST_RESPONSE)
            ]
            if not any(e["action_id"].startswith(ids.CHECKLIST_RESPONSE) for e in block.get("elements", [])):
                continue
            checked += 1
            if shown != ([stored[block["block_id"]]] if block["block_id"] in stored else []):
                wrong.append(block["block_id"])
    return {"updates": len(updates), "items_checked": checked, "items_wrong": wrong}


# --------------------------------------------------------------------------- phases


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.work = Path(tempfile.mkdtemp(prefix="mlready-scale-"))
        self.pg: PrivatePostgres | None = None
        self.slack: FakeSlack | None = None
        self.replicas: list[Replica] = []
        self.results: dict[str, Any] = {}
        self.checks: list[tuple[str, bool, str]] = []

    def check(self, name: str, ok: bool, detail: str = "") -> None:
        self.checks.append((name, bool(ok), detail))
        log(f"{'PASS' if ok else 'FAIL'}  {name}{'  (' + detail + ')' if detail else ''}")

    # setup
    def setup(self) -> Scenario:
        OUT.mkdir(parents=True, exist_ok=True)
        for old in OUT.glob("scale-replica-*.log"):
            old.unlink()
        log("starting a private PostgreSQL 15 ...")
        self.pg = PrivatePostgres().init()
        log(f"PostgreSQL on 127.0.0.1:{self.pg.port} ({self.pg.dir})")
        self.slack = FakeSlack(self.work)
        log(f"local Slack Web API process on {self.slack.url}")
        env = dict(
            base_env(),
            SLACK_BOT_TOKEN="xoxb-scale",
            SLACK_SIGNING_SECRET=SECRET,
            MLREADY_SLACK_API_URL=self.slack.url,
            MLREADY_DATABASE_URL=self.pg.url,
            MLREADY_INDEX_DIR=str(self.args.index or self.work / "index"),
            MLREADY_REMINDER_INTERVAL_SECONDS="0",
        )
        self.env = env
        if self.args.index is None:
            log("building the index once (mlready index) ...")
            t = time.perf_counter()
            subprocess.run(
                [PY, "-m", "bot.cli", "index"], env=env, cwd=self.work, check=True, capture_output=True
            )
            self.results["index_build_s"] = round(time.perf_counter() - t, 1)
        log("starting 3 replicas ...")
        t = time.perf_counter()
        self.replicas = [Replica(n, env, self.work) for n in range(3)]
        for replica in self.replicas:
            replica.start()
        for replica in self.replicas:
            replica.wait_ready()
        self.results["replicas_ready_s"] = round(time.perf_counter() - t, 1)
        log(f"3 replicas ready after {self.results['replicas_ready_s']} s")
        self.balancer = Balancer(self.replicas)
        return self.prepare_project()

    def command(self, text: str, user: str = OWNER, channel: str = CHANNEL) -> Result:
        req = Req(
            "command",
            user,
            lambda: payloads.slash_command(
                text,
                team_id=TEAM,
                channel_id=channel,
                user_id=user,
                response_url=self.slack.response_url("setup"),
            ),
        )
        return self.balancer.send(req, time.perf_counter())

    def prepare_project(self) -> Scenario:
        assert self.pg and self.slack
        created = self.command("project create Scale proof")
        assert created.acked and "created the ML project" in ack_text(created), created
        project_id = self.pg.query("SELECT id FROM projects WHERE channel_id = %s", (CHANNEL,))[0][0]
        for section in SECTIONS:
            assert self.command(f"checklist {section}").acked
        deadline = time.monotonic() + 60
        posts: list[dict] = []
        while time.monotonic() < deadline:
            posts = [c for c in self.slack.calls("chat.postMessage") if c["params"].get("channel") == CHANNEL]
            if len(posts) >= len(SECTIONS):
                break
            time.sleep(0.3)
        assert len(posts) == len(SECTIONS), posts
        buttons = []
        for k, post in enumerate(posts):
            ts = f"17000{k:05d}.000100"  # each checklist message gets its own ts, as in Slack
            for block in post["params"]["blocks"]:
                for element in block.get("elements", []) if block.get("type") == "actions" else []:
                    if element.get("action_id", "").startswith(f"{ids.CHECKLIST_RESPONSE}_"):
                        buttons.append((ts, element["action_id"], element["value"]))
        self.messages = [f"17000{k:05d}.000100" for k in range(len(posts))]
        log(f"project {project_id} with {len(buttons)} answer buttons on {len(posts)} checklist messages")
        # A second project whose weekly reminder is due (created 8 days ago), for the Slack phase.
        from bot.db.migrate import open_database
        from bot.projects import create_project

        db = open_database(self.pg.url)
        with db.session() as session:
            project = create_project(session, TEAM, REMIND_CHANNEL, REMIND_OWNER, "Reminder proof")
            project.created_at = datetime.now(UTC) - timedelta(days=8)
        db.dispose()
        return Scenario(self.slack, buttons, project_id)

    # phases
    def phase_load(self, scenario: Scenario) -> None:
        assert self.pg and self.slack
        log(f"phase load: {self.args.requests} requests from {self.args.clients} clients ...")
        results, wall = run_load(
            self.balancer, scenario.plan("L", self.args.requests), self.args.clients, False
        )
        report = check_phase("L", results, self.pg, self.slack, scenario.project_id, answer_timeout=180)
        report["wall_s"] = round(wall, 1)
        report["per_replica"] = dict(sorted(collections.Counter(str(r.replica) for r in results).items()))
        report["render"] = final_render_matches(self.slack, self.pg, scenario.project_id, self.messages)
        self.results["load"] = report
        lat, asks, clicks = report["ack_latency"], report["asks"], report["clicks"]
        self.check(
            "load: every request acknowledged with 200",
            report["statuses"] == {"200": len(results)},
            str(report["statuses"]),
        )
        self.check(
            "load: every ack under 3 s",
            lat.get("under_3s") == len(results),
            f"p50 {lat.get('p50_ms')} / p99 {lat.get('p99_ms')} / max {lat.get('max_ms')} ms",
        )
        self.check(
            "load: every ask has exactly one answer record",
            asks["answer_record_exactly_once"] == asks["sent"] and asks["acked"] == asks["sent"],
            f"{asks['answer_record_exactly_once']}/{asks['sent']}",
        )
        self.check(
            "load: every ask delivered to Slack exactly once",
            asks["delivered_exactly_once"] == asks["sent"],
            f"{asks['delivered_exactly_once']}/{asks['sent']}",
        )
        self.check(
            "load: every acknowledged click has exactly one checklist_response_history row",
            clicks["stored_exactly_once"] == clicks["acked"] == clicks["sent"] and not clicks["duplicated"],
            f"{clicks['stored_exactly_once']}/{clicks['sent']}",
        )
        self.check(
            "load: every status answered with the readiness report",
            report["status"]["acked_with_report"] == report["status"]["sent"],
            f"{report['status']['acked_with_report']}/{report['status']['sent']}",
        )
        self.check(
            "load: each replica served requests", len(report["per_replica"]) == 3, str(report["per_replica"])
        )
        render = report["render"]
        self.check(
            "load: final checklist renders show the stored answers",
            render["items_checked"] > 0 and not render["items_wrong"],
            f"{render['items_checked']} items checked, wrong: {render['items_wrong']}",
        )

    def phase_kill(self, scenario: Scenario) -> None:
        assert self.pg and self.slack
        victim = self.replicas[1]
        killed_at: dict[str, float] = {}
        # As fast as the clients go, so that requests are in flight on the victim when it dies.
        count, kill_at = 400, 1.0
        log(f"phase kill: {count} requests, kill -9 replica {victim.n} at t={kill_at:g} s ...")

        def kill() -> None:
            killed_at["t"] = time.perf_counter()
            victim.kill9()
            log(f"replica {victim.n} killed (SIGKILL)")

        t_start = time.perf_counter()
        results, wall = run_load(
            self.balancer, scenario.plan("K", count), self.args.clients, False, [(kill_at, kill)]
        )
        kill_offset = killed_at["t"] - t_start
        # Every acknowledged question is a stored job: those the killed replica held are taken
        # over by the others once their lease (60 s) runs out, so all must be answered, once.
        report = check_phase(
            "K",
            results,
            self.pg,
            self.slack,
            scenario.project_id,
            answer_timeout=240,
            expect_answer_from=lambda r: True,
        )
        victim_asks = [
            r
            for r in results
            if r.kind == "ask" and r.acked and r.replica == victim.n and r.sent_at < kill_offset
        ]
        missing = set(report["asks"]["delivery_missing"])
        report["killed_at_s"] = round(kill_offset, 1)
        report["wall_s"] = round(wall, 1)
        report["asks_acked_by_killed_replica"] = len(victim_asks)
        report["asks_lost_with_killed_replica"] = sorted(r.key for r in victim_asks if r.key in missing)
        report["failed_over"] = sum(r.tries > 1 for r in results)
        report["in_flight_on_kill"] = sum(r.status is None for r in results)
        self.results["kill"] = report
        clicks = report["clicks"]
        self.check(
            "kill: no acknowledged click lost",
            not clicks["acked_but_lost"] and not clicks["duplicated"],
            f"{clicks['stored_exactly_once']}/{clicks['acked']} acknowledged clicks stored once; "
            f"{clicks['unacked']} not acknowledged, {clicks['unacked_but_stored']} of them stored",
        )
        self.check(
            "kill: requests failed over to the other replicas",
            report["failed_over"] > 0,
            f"{report['failed_over']} failed over, {report['in_flight_on_kill']} cut off in flight",
        )
        self.check(
            "kill: every acknowledged question answered once, those of the killed replica included",
            not missing and not report["asks"]["delivery_duplicated"],
            f"{len(victim_asks)} acknowledged by the killed replica; missing {sorted(missing)[:5]}, "
            f"duplicated {report['asks']['delivery_duplicated'][:5]}",
        )
        log("restarting the killed replica ...")
        victim.start()
        victim.wait_ready()

    def phase_postgres(self, scenario: Scenario) -> None:
        assert self.pg and self.slack
        count, rate, stop_at, down_for = 300, 10.0, 6.0, 10.0
        log(
            f"phase postgres: {count} requests at {rate:g}/s, PostgreSQL stopped at t={stop_at:g} s "
            f"for {down_for:g} s ..."
        )
        marks: dict[str, float] = {}
        probes: list[tuple[float, int, int | None]] = []
        probing = threading.Event()
        t_start = time.perf_counter()

        def probe() -> None:
            while not probing.is_set():
                for replica in self.replicas:
                    probes.append((time.perf_counter() - t_start, replica.n, replica.readyz()))
                time.sleep(0.25)

        def stop() -> None:
            self.pg.stop("fast")
            marks["down"] = time.perf_counter() - t_start
            log("PostgreSQL stopped")

        def start() -> None:
            marks["starting"] = time.perf_counter() - t_start
            self.pg.start()
            marks["up"] = time.perf_counter() - t_start
            log("PostgreSQL started again")

        prober = threading.Thread(target=probe, daemon=True)
        prober.start()
        results, wall = run_load(
            self.balancer,
            scenario.plan("P", count, rate),
            self.args.clients,
            True,
            [(stop_at, stop), (stop_at + down_for, start)],
        )
        # keep probing until every replica is ready again
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            recent = {n: s for _, n, s in probes[-len(self.replicas) :]}
            if all(s == 200 for s in recent.values()) and probes[-1][0] > marks["up"]:
                break
            time.sleep(0.5)
        probing.set()
        prober.join()
        report = check_phase("P", results, self.pg, self.slack, scenario.project_id, answer_timeout=180)
        # /readyz probes begun while the database was down (from the end of `pg_ctl stop` to the
        # start command), and the time from the start command to each replica's first 200
        down = [(t, n, s) for t, n, s in probes if marks["down"] <= t <= marks["starting"]]
        recovered = {}
        for replica in self.replicas:
            after = [t for t, n, s in probes if n == replica.n and t > marks["starting"] and s == 200]
            recovered[str(replica.n)] = round(after[0] - marks["starting"], 2) if after else None
        during = [r for r in results if marks["down"] <= r.sent_at <= marks["up"]]
        after_up = [r for r in results if r.sent_at > marks["up"] + 2]
        report.update(
            wall_s=round(wall, 1),
            down_at_s=round(marks["down"], 1),
            up_at_s=round(marks["up"], 1),
            postgres_start_took_s=round(marks["up"] - marks["starting"], 2),
            readyz_while_down=dict(collections.Counter(str(s) for _, _, s in down)),
            ready_again_after_s=recovered,
            statuses_while_down=statuses(during),
            statuses_after_recovery=statuses(after_up),
        )
        self.results["postgres"] = report
        asks, clicks = report["asks"], report["clicks"]
        self.check(
            "postgres: /readyz answered 503 on every replica while the database was down",
            bool(down) and all(s == 503 for _, _, s in down),
            str(report["readyz_while_down"]),
        )
        self.check(
            "postgres: every replica ready again without a restart",
            all(v is not None for v in recovered.values())
            and all(r.proc.poll() is None for r in self.replicas),
            f"ready again {recovered} s after `pg_ctl start` was issued",
        )
        self.check(
            "postgres: requests after recovery all acknowledged",
            set(report["statuses_after_recovery"]) == {"200"},
            str(report["statuses_after_recovery"]),
        )
        self.check(
            "postgres: no acknowledged click lost",
            not clicks["acked_but_lost"] and not clicks["duplicated"],
            f"{clicks['stored_exactly_once']}/{clicks['acked']} stored once; "
            f"{clicks['unacked']} refused while down",
        )
        # While the database is down a question cannot be stored, so it is not acknowledged as
        # taken: the asker is told to try again (acked_busy), and nothing is half-done.
        self.check(
            "postgres: every acknowledged ask recorded and delivered once",
            asks["answer_record_exactly_once"] == asks["acked"] == asks["delivered_exactly_once"]
            and asks["unacked_but_recorded"] == 0,
            f"{asks['answer_record_exactly_once']} recorded, {asks['delivered_exactly_once']} delivered "
            f"of {asks['acked']} acknowledged ({asks['acked_busy']} told to retry); "
            f"missing {asks['delivery_missing'][:5]}",
        )

    def phase_slack(self, scenario: Scenario) -> None:
        assert self.pg and self.slack
        count, rate, fail_at, outage = 300, 6.0, 5.0, 30.0
        log(
            f"phase slack: {count} requests at {rate:g}/s, "
            f"Slack answers 500 for {outage:g} s from t={fail_at:g} s ..."
        )
        marks: dict[str, float] = {}
        remind: dict[str, Any] = {}
        t_start, t_start_wall = time.perf_counter(), time.time()

        def fail() -> None:
            self.slack.fail_for(outage, 500)
            marks["fail"] = time.perf_counter() - t_start
            log("Slack API fails every call now")

        def remind_during_outage() -> None:
            # cron's run inside the outage; client retries off so that it surely ends inside it
            env = dict(self.env, MLREADY_SLACK_MAX_RETRIES="0")
            proc = subprocess.run(
                [PY, "-m", "bot.cli", "remind", "--once"],
                env=env,
                cwd=self.work,
                capture_output=True,
                text=True,
                timeout=120,
            )
            remind["during"] = {"exit": proc.returncode, "stdout": proc.stdout.strip().splitlines()}
            remind["during_ended_s"] = time.perf_counter() - t_start
            remind["during_wall"] = time.time()

        results, wall = run_load(
            self.balancer,
            scenario.plan("S", count, rate),
            self.args.clients,
            True,
            [(fail_at, fail), (fail_at + 1.0, remind_during_outage)],
        )
        recovered_at = marks["fail"] + outage
        report = check_phase("S", results, self.pg, self.slack, scenario.project_id, answer_timeout=300)
        failed_calls = sum(
            len(self.slack.calls(m)) for m in ("response_url!500", "chat.update!500", "chat.postMessage!500")
        )
        asked_during = [
            r for r in results if r.kind == "ask" and r.acked and marks["fail"] <= r.sent_at <= recovered_at
        ]
        deliveries = {
            c["params"]["_response_id"].removeprefix("ask-"): c["at"]
            for c in self.slack.calls("response_url")
        }
        # cron's next run, at least a minute after the failed one (the first retry waits 60 s)
        wait = remind["during_wall"] + 61 - time.time()
        if wait > 0:
            log(f"waiting {wait:.0f} s for the reminder's retry time ...")
            time.sleep(wait)
        proc = subprocess.run(
            [PY, "-m", "bot.cli", "remind", "--once"],
            env=self.env,
            cwd=self.work,
            capture_output=True,
            text=True,
            timeout=300,
        )
        remind["after"] = {"exit": proc.returncode, "stdout": proc.stdout.strip().splitlines()}
        posts = [c["params"]["channel"] for c in self.slack.calls("chat.postMessage")]
        failed_posts = [c["params"]["channel"] for c in self.slack.calls("chat.postMessage!500")]
        remind["posts"] = {dest: posts.count(dest) for dest in (REMIND_CHANNEL, REMIND_OWNER)}
        remind["failed_posts_during_outage"] = {
            dest: failed_posts.count(dest) for dest in (REMIND_CHANNEL, REMIND_OWNER)
        }
        remind["rows"] = [
            list(map(str, row))
            for row in self.pg.query(
                "SELECT d.rule, d.destination, d.status, d.attempts FROM reminder_deliveries d "
                "JOIN projects p ON p.id = d.project_id WHERE p.channel_id = %s ORDER BY d.id",
                (REMIND_CHANNEL,),
            )
        ]
        remind.pop("during_wall", None)
        remind["during_ended_s"] = round(remind["during_ended_s"], 1)
        report.update(
            wall_s=round(wall, 1),
            outage_s=[round(marks["fail"], 1), round(recovered_at, 1)],
            slack_calls_failed_with_500=failed_calls,
            asks_acked_during_outage=len(asked_during),
            last_answer_after_recovery_s=round(
                max((deliveries[r.key] for r in asked_during if r.key in deliveries), default=0)
                - (t_start_wall + recovered_at),
                1,
            )
            if asked_during
            else None,
            reminder=remind,
        )
        self.results["slack"] = report
        asks = report["asks"]
        self.check(
            "slack: every ack under 3 s during the outage",
            report["ack_latency"].get("under_3s") == len(results),
            str(report["statuses"]),
        )
        self.check(
            "slack: every acknowledged ask answered exactly once after the outage",
            asks["acked"] == asks["delivered_exactly_once"] == asks["answer_record_exactly_once"]
            and asks["acked"] > 0
            and asks["acked_busy"] == 0,
            f"{asks['delivered_exactly_once']}/{asks['acked']} delivered once ({len(asked_during)} asked "
            f"during the outage; {asks['acked_busy']} told to retry); missing {asks['delivery_missing'][:5]}",
        )
        self.check(
            "slack: no acknowledged click lost",
            not report["clicks"]["acked_but_lost"] and report["clicks"]["acked"] == report["clicks"]["sent"],
            f"{report['clicks']['stored_exactly_once']}/{report['clicks']['sent']}",
        )
        self.check(
            "slack: the reminder run during the outage failed and kept the reminder for later",
            remind["during"]["exit"] == 3 and sum(remind["failed_posts_during_outage"].values()) > 0,
            f"exit {remind['during']['exit']}",
        )
        self.check(
            "slack: the due reminder was sent after the outage, once per destination",
            remind["after"]["exit"] == 0 and remind["posts"] == {REMIND_CHANNEL: 1, REMIND_OWNER: 1},
            f"exit {remind['after']['exit']}, posts {remind['posts']}",
        )

    # teardown
    def teardown(self) -> None:
        codes = {}
        for replica in self.replicas:
            codes[str(replica.n)] = replica.stop()
        self.results["replica_exit_codes_on_sigterm"] = codes
        if self.slack:
            self.slack.stop()
        if self.pg:
            self.pg.destroy()
        shutil.rmtree(self.work, ignore_errors=True)


# --------------------------------------------------------------------------- report


def markdown(results: dict, checks: list[tuple[str, bool, str]]) -> str:
    lines = [
        "## Scale-out proof: 3 replicas, one PostgreSQL",
        "",
        f"{results['date']}, {results['cores']} cores. Total run time {results['total_s']} s ("
        + (f"index build {results['index_build_s']} s, " if "index_build_s" in results else "index reused, ")
        + f"3 replicas ready {results.get('replicas_ready_s')} s after start).",
        "",
        "| phase | requests | statuses | ack p50 / p99 / max (ms) | answered under 3 s |",
        "|---|---|---|---|---|",
    ]
    for name in ("load", "kill", "postgres", "slack"):
        phase = results.get(name)
        if not phase:
            continue
        lat = phase["ack_latency"]
        lines.append(
            f"| {name} | {phase['requests']} | {phase['statuses']} | "
            f"{lat.get('p50_ms')} / {lat.get('p99_ms')} / {lat.get('max_ms')} | {lat.get('under_3s')} |"
        )
    lines += [
        "",
        "| phase | asks acked / recorded once / delivered once | clicks acked / stored once | "
        "unacked clicks (stored) |",
        "|---|---|---|---|",
    ]
    for name in ("load", "kill", "postgres", "slack"):
        phase = results.get(name)
        if not phase:
            continue
        a, c = phase["asks"], phase["clicks"]
        lines.append(
            f"| {name} | {a['acked']} / {a['answer_record_exactly_once']} / {a['delivered_exactly_once']} | "
            f"{c['acked']} / {c['stored_exactly_once']} | {c['unacked']} ({c['unacked_but_stored']}) |"
        )
    notes = []
    if kill := results.get("kill"):
        clicks = kill["clicks"]
        notes.append(
            f"- kill: replica killed at t={kill['killed_at_s']} s; {kill['in_flight_on_kill']} requests "
            f"cut off in flight (no answer), {kill['failed_over']} failed over to the next replica; "
            f"{clicks['unacked_but_stored']} of the {clicks['unacked']} unacknowledged clicks were stored "
            f"anyway. Questions acknowledged by the killed replica: {kill['asks_acked_by_killed_replica']}, "
            f"lost with its in-memory queue: {len(kill['asks_lost_with_killed_replica'])}."
        )
    if pg := results.get("postgres"):
        notes.append(
            f"- postgres: down from t={pg['down_at_s']} to t={pg['up_at_s']} s; requests sent meanwhile: "
            f"{pg['statuses_while_down']}; /readyz probes while down: {pg['readyz_while_down']}; ready again "
            f"{pg['ready_again_after_s']} s after the start command (PostgreSQL took "
            f"{pg['postgres_start_took_s']} s to start)."
        )
    if sl := results.get("slack"):
        reminder = sl["reminder"]
        notes.append(
            f"- slack: 500s from t={sl['outage_s'][0]} to t={sl['outage_s'][1]} s; "
            f"{sl['slack_calls_failed_with_500']} calls answered 500; {sl['asks_acked_during_outage']} "
            f"questions asked during the outage, the last answer delivered "
            f"{sl['last_answer_after_recovery_s']} s after Slack recovered. `mlready remind --once` during "
            f"the outage exited {reminder['during']['exit']}, after it {reminder['after']['exit']}."
        )
    if notes:
        lines += ["", *notes]
    lines += ["", "| check | result | detail |", "|---|---|---|"]
    lines += [f"| {name} | {'pass' if ok else '**FAIL**'} | {detail} |" for name, ok, detail in checks]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, help="reuse this index folder instead of building one")
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--phases", default="load,kill,postgres,slack")
    args = parser.parse_args()
    phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    started = time.perf_counter()
    bench = Bench(args)
    bench.results.update(date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), cores=os.cpu_count())
    try:
        scenario = bench.setup()
        for name in phases:
            getattr(bench, f"phase_{name}")(scenario)
    except Exception as exc:
        bench.check("the bench ran to the end", False, f"{type(exc).__name__}: {exc}")
        import traceback

        traceback.print_exc()
    finally:
        bench.teardown()
    bench.results["total_s"] = round(time.perf_counter() - started, 1)
    bench.results["checks"] = [{"check": n, "ok": ok, "detail": d} for n, ok, d in bench.checks]
    bench.results["passed"] = all(ok for _, ok, _ in bench.checks)
    (OUT / "scale.json").write_text(json.dumps(bench.results, indent=2))
    print()
    print(markdown(bench.results, bench.checks))
    sys.exit(0 if bench.results["passed"] else 1)


if __name__ == "__main__":
    main()
