"""The HTTP endpoint: signatures, size and time limits, malformed bodies, health and
readiness, and what the person sees when the database is away."""

from __future__ import annotations

import json
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot import metrics
from bot.db.models import AnswerRecord, ChecklistResponse, ProcessedEvent, Project
from bot.settings import Settings
from bot.slack import http_endpoint, ids
from bot.slack.http_endpoint import CLICK_FAILED, SUBMIT_FAILED
from fake_slack import payloads
from fake_slack.web_api import LocalSlackAPI
from tests.conftest import CuttableRelay
from tests.slack_harness import (
    KPI_Q,
    TEAM,
    RunningApp,
    click_in,
    create_project,
    mention,
    post_checklist,
    view_submission,
)


def test_bad_missing_and_stale_signatures_are_rejected(running: RunningApp, slack: LocalSlackAPI) -> None:
    body, ctype = payloads.slash_command(
        f"ask {KPI_Q}", team_id=TEAM, channel_id="C1", user_id="U1", response_url=slack.response_url()
    )
    assert running.post(body, ctype, secret="wrong-secret").status == 401
    assert running.post(body, ctype, sign=False).status == 401
    assert running.post(body, ctype, timestamp=int(time.time()) - 600).status == 401
    event_body, event_type = payloads.event_callback(mention(KPI_Q, ts="700.1"), team_id=TEAM)
    assert running.post(event_body, event_type, secret="wrong").status == 401
    time.sleep(0.3)
    running.idle()
    assert slack.calls == [] or all(c.method == "auth.test" for c in slack.calls)
    with running.services.db.session() as s:
        assert s.scalar(select(func.count()).select_from(AnswerRecord)) == 0
        assert s.scalar(select(func.count()).select_from(ProcessedEvent)) == 0


def test_malformed_bodies_get_4xx_and_the_app_keeps_serving(running: RunningApp) -> None:
    bad = [
        ("{not json", "application/json"),
        ("[1, 2, 3]", "application/json"),
        ('"just a string"', "application/json"),
        ("payload=%7Bnot-json", "application/x-www-form-urlencoded"),
        ("payload=%5B%5D", "application/x-www-form-urlencoded"),
        ("", "application/x-www-form-urlencoded"),
        ("\xff\xfe", "application/json"),
        ("[" * 100_000 + "]" * 100_000, "application/json"),  # nesting beyond Python's recursion limit
        ('{"type": "x"}', "application/x-www-form-urlencoded"),  # a form body starting with {
        ("payload=%7B%7D&payload=%7B%7D", "application/x-www-form-urlencoded"),  # payload twice
        ("command=%2Fmlready&text=a&text=b", "application/x-www-form-urlencoded"),
        ("command=/mlready&text=help", "text/plain"),
    ]
    for body, ctype in bad:
        reply = running.post(body, ctype)
        assert 400 <= reply.status < 500, (body, reply)
        assert "Traceback" not in reply.body
    assert running.get("/healthz").status == 200
    assert running.command("help").status == 200


def test_health_and_readiness(running: RunningApp, slack: LocalSlackAPI) -> None:
    assert json.loads(running.get("/healthz").body) == {"status": "ok"}
    assert running.get("/readyz").status == 503  # the engine loads on first use
    running.event(mention(KPI_Q, ts="1100.1"))
    slack.wait_for("chat.postMessage", 1)
    assert json.loads(running.get("/readyz").body) == {"ready": True}


def test_a_command_mentioning_payload_is_still_a_command(running: RunningApp, slack: LocalSlackAPI) -> None:
    """Bolt's parser takes any form body containing "payload" for an interaction; ours goes by key."""
    reply = running.command("ask what payload size should our model API accept?", response_name="p")
    assert reply.status == 200 and "Looking that up" in json.loads(reply.body)["text"]
    slack.wait_for("response_url", 1)
    project = running.command("project create payload team")
    assert project.status == 200 and "payload team" in json.loads(project.body)["text"]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_database_down_clicks_and_submits_get_a_private_try_again(
    database_url: str, relay: CuttableRelay, shipped_index: Path, engine, slack: LocalSlackAPI
) -> None:
    """With the database away, a click is answered at once and the person is told privately to
    click again; a modal gets an error on its field; /healthz does not touch the database."""
    through_relay = database_url.replace(":5432/", f":{relay.port}/")
    app = RunningApp(Settings(index_dir=shipped_index, database_url=through_relay), lambda: engine, slack)
    try:
        app.command(f"ask {KPI_Q}", response_name="warm")
        slack.wait_for("response_url", 1)
        app.idle()
        assert app.get("/readyz").status == 200
        create_project(app)
        message = post_checklist(app, slack, "checklist kpis")
        click_in(app, message, "kpis.defined", ids.KPI_OPEN)
        view = slack.wait_for("views.open", 1)[0].params["view"]
        relay.cut()
        block = next(b for b in message["blocks"] if b.get("block_id") == "kpis.guardrails")
        button = next(e for e in block["elements"] if e["action_id"].startswith(ids.CHECKLIST_RESPONSE))
        started = time.monotonic()
        click = app.click({"action_id": button["action_id"], "value": button["value"]}, response_name="down")
        assert click.status == 200 and time.monotonic() - started < 3
        told = slack.wait_for("response_url", 2, timeout=10)
        assert [c.params["text"] for c in told if c.params["_response_id"] == "down"] == [CLICK_FAILED]
        submit = app.post(*view_submission(view, {"metric": "churn", "baseline": "4", "target": "3"}))
        assert submit.status == 200
        assert json.loads(submit.body) == {"response_action": "errors", "errors": {"metric": SUBMIT_FAILED}}
        assert app.get("/healthz").status == 200
        assert app.get("/readyz").status == 503
        relay.restore()
        again = app.click({"action_id": button["action_id"], "value": button["value"]}, response_name="up")
        assert again.status == 200
        app.idle()
        with app.services.db.session() as s:
            assert s.get(ChecklistResponse, (message_project(s), "kpis.guardrails")) is not None

        # A hanging database: /readyz gives up after its timeout, /healthz answers meanwhile.
        relay.pause()
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(app.get, "/readyz")
            time.sleep(0.3)
            started = time.monotonic()
            assert app.get("/healthz").status == 200 and time.monotonic() - started < 0.5
            assert pending.result().status == 503
        relay.resume()
    finally:
        relay.resume()
        app.stop()


def message_project(session) -> int:
    return session.scalars(select(Project.id)).one()


def rejected_count() -> float:
    return sum(
        s.value
        for metric in metrics.REQUESTS.collect()
        for s in metric.samples
        if s.name.endswith("_total") and s.labels["kind"] == "rejected"
    )


def test_unsigned_junk_headers_get_401_counted_without_a_traceback(
    running: RunningApp, caplog: pytest.LogCaptureFixture
) -> None:
    before = rejected_count()
    body = "command=%2Fmlready&text=help"
    ctype = "application/x-www-form-urlencoded"
    cases = [
        {"x-slack-request-timestamp": "abc", "x-slack-signature": "v0=00"},
        {"x-slack-request-timestamp": "9" * 5000, "x-slack-signature": "v0=00"},
        {"x-slack-request-timestamp": str(int(time.time())), "x-slack-signature": "v0=\u00e9\u00e9"},
    ]
    for headers in cases:
        reply = running.post(body, ctype, sign=False, extra_headers=headers)
        assert reply.status == 401 and "Traceback" not in reply.body
    junk = running.post(b"\xff\xfe\x00payload", ctype, sign=False, extra_headers=cases[0])
    assert junk.status == 401
    assert rejected_count() - before == len(cases) + 1
    assert not [r for r in caplog.records if r.exc_info]


def raw_request(port: int, head: str, chunks: list[bytes]) -> int:
    """Send a request by hand (a lying Content-Length, or chunks) and return the status."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(head.encode())
        for chunk in chunks:
            try:
                conn.sendall(chunk)
            except OSError:  # the server answered and closed before the rest was sent
                break
        reply = conn.recv(200).decode(errors="replace")
    return int(reply.split()[1])


def test_an_oversized_body_is_refused_before_it_is_read(running: RunningApp) -> None:
    declared = (
        "POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Content-Length: 200000000\r\n\r\n"
    )
    assert raw_request(running.port, declared, [b"{"]) == 413  # answered without waiting for 200 MB
    streamed = (
        "POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    )
    piece = b"x" * 65536
    chunk = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    assert raw_request(running.port, streamed, [chunk] * 40) == 413  # 2.5 MB, no length given
    assert running.get("/healthz").status == 200


def test_a_dripping_body_is_cut_off(running: RunningApp, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http_endpoint, "BODY_TIMEOUT", 1.0)
    head = (
        "POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Content-Length: 100\r\n\r\n"
    )
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", running.port), timeout=10) as conn:
        conn.sendall(head.encode())
        conn.settimeout(0.4)
        reply = b""
        for _ in range(20):  # one byte every 0.4 s, far slower than Slack
            conn.sendall(b"{")
            try:
                reply = conn.recv(200)
            except TimeoutError:
                continue
            break
    assert reply.split()[1] == b"408" and time.monotonic() - started < 3
