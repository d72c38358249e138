"""The Slack app end to end: signed requests to the real HTTP endpoint under uvicorn,
the real Bolt app and WebClient, and the local Slack Web API recording every call."""

from __future__ import annotations

import json
import time

from sqlalchemy import func, select

from bot.db.models import AnswerRecord, ProcessedEvent
from fake_slack import payloads
from fake_slack.web_api import LocalSlackAPI
from tests.slack_harness import KPI_Q, TEAM, RunningApp, mention


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
