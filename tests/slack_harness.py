"""The app in HTTP mode under uvicorn on loopback, the local Slack API, and signed requests."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import uvicorn
import yaml
from pydantic import SecretStr

from bot.answers import AnswerEngine
from bot.settings import Settings
from bot.slack.app import create_runtime
from bot.slack.http_endpoint import create_asgi_app
from fake_slack import payloads
from fake_slack.web_api import BOT_USER_ID, LocalSlackAPI

SECRET = "test-signing-secret"
MANIFEST = yaml.safe_load((Path(__file__).resolve().parents[1] / "manifest.yaml").read_text(encoding="utf-8"))
COMMAND_ESCAPES: bool = MANIFEST["features"]["slash_commands"][0]["should_escape"]
TEAM = "T111"
KPI_Q = "how do we pick a KPI for churn?"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Reply:
    status: int
    body: str
    seconds: float


class RunningApp:
    def __init__(
        self, settings: Settings, engine_factory: Callable[[], AnswerEngine], slack: LocalSlackAPI
    ) -> None:
        self.slack = slack
        self.settings = settings.model_copy(
            update={
                "slack_bot_token": SecretStr("xoxb-test"),
                "slack_signing_secret": SecretStr(SECRET),
                "slack_api_url": slack.url,
            }
        )
        self.app, self.services = create_runtime(self.settings, engine_factory)
        asgi = create_asgi_app(
            self.app, SECRET, ready=lambda: self.services.answers.loaded and self.services.db.reachable()
        )
        self.port = free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(asgi, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.time() + 10
        while not self.server.started and time.time() < deadline:
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.services.jobs.shutdown()
        self.services.db.dispose()

    def post(
        self,
        body: str | bytes,
        content_type: str,
        *,
        sign: bool = True,
        secret: str = SECRET,
        timestamp: int | None = None,
        extra_headers: dict[str, str] | None = None,
    ) -> Reply:
        headers = (
            payloads.signed_headers(
                secret, body if isinstance(body, str) else body.decode(), content_type, timestamp
            )
            if sign
            else {"content-type": content_type}
        )
        headers.update(extra_headers or {})
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/slack/events",
            data=body.encode() if isinstance(body, str) else body,
            headers=headers,
            method="POST",
        )
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=30) as resp:
                return Reply(resp.status, resp.read().decode(), time.perf_counter() - started)
        except urllib.error.HTTPError as exc:
            return Reply(exc.code, exc.read().decode(), time.perf_counter() - started)

    def get(self, path: str) -> Reply:
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=10) as r:
                return Reply(r.status, r.read().decode(), time.perf_counter() - started)
        except urllib.error.HTTPError as exc:
            return Reply(exc.code, exc.read().decode(), time.perf_counter() - started)

    # Slack-shaped requests
    def command(
        self, typed: str, user: str = "U1", channel: str = "C1", response_name: str = "1", raw: bool = False
    ) -> Reply:
        """`/mlready <typed>` as Slack sends it for the shipped manifest (`should_escape`): &, <, >
        escaped, and @name of a user in the local Slack's directory as a mention. `raw` sends
        `typed` as the text field unchanged (hostile input)."""
        users = {u["name"]: uid for uid, u in self.slack.users.items() if u.get("name")}
        text = typed if raw else payloads.as_slack_sends(typed, users, COMMAND_ESCAPES)
        return self.post(
            *payloads.slash_command(
                text,
                team_id=TEAM,
                channel_id=channel,
                user_id=user,
                response_url=self.slack.response_url(response_name),
            )
        )

    def event(
        self, event: dict, event_id: str | None = None, extra_headers: dict[str, str] | None = None
    ) -> Reply:
        return self.post(
            *payloads.event_callback(event, team_id=TEAM, event_id=event_id), extra_headers=extra_headers
        )

    def click(
        self, action: dict, user: str = "U1", channel: str = "C1", response_name: str = "click"
    ) -> Reply:
        return self.post(
            *payloads.block_action(
                action,
                team_id=TEAM,
                user_id=user,
                channel_id=channel,
                response_url=self.slack.response_url(response_name),
            )
        )

    def idle(self, timeout: float = 60) -> None:
        assert self.services.jobs.wait_idle(timeout)
        time.sleep(0.05)


def block_texts(blocks: list[dict]) -> str:
    out = []
    for b in blocks:
        if b["type"] == "section":
            out.append(b["text"]["text"])
        elif b["type"] == "context":
            out += [e.get("text", "") for e in b["elements"]]
        elif b["type"] == "actions":
            out += [e["text"]["text"] for e in b["elements"]]
    return "\n".join(out)


def block_buttons(blocks: list[dict]) -> dict[str, dict]:
    return {e["action_id"]: e for b in blocks if b["type"] == "actions" for e in b["elements"]}


def mention(text: str, ts: str, **kw: object) -> dict:
    return payloads.message_event(
        f"<@{BOT_USER_ID}> {text}", channel="C1", user="U1", ts=ts, mention=True, **kw
    )


def ack_json(reply) -> dict:
    assert reply.status == 200, reply
    return json.loads(reply.body) if reply.body else {}


def view_submission(view: dict, values: dict, user: str = "U1") -> tuple[str, str]:
    """Submit `view` with `values` (block id → what was typed or picked), each in the element
    state Slack sends for that block's input."""

    def element(block: str, value: str) -> dict:
        if block in ("deadline", "due"):
            return {"type": "datepicker", "selected_date": value}
        if block in ("owner", "stakeholder", "assignee"):
            return {"type": "users_select", "selected_user": value}
        return {"type": "plain_text_input", "value": value}

    state = {block: {"value": element(block, v)} for block, v in values.items()}
    return payloads.view_submission({**view, "id": "V1"}, state, team_id=TEAM, user_id=user)


def create_project(running: RunningApp, name: str = "Churn model", channel: str = "C1") -> None:
    body = ack_json(running.command(f"project create {name}", channel=channel))
    assert body["response_type"] == "in_channel" and name in body["text"]


def post_checklist(
    running: RunningApp, slack: LocalSlackAPI, text: str = "checklist", channel: str = "C1"
) -> dict:
    before = len(slack.calls_to("chat.postMessage"))
    running.command(text, channel=channel)
    return slack.wait_for("chat.postMessage", before + 1)[-1].params


def click_in(
    running: RunningApp,
    message: dict,
    item_id: str,
    action_id: str,
    user: str = "U1",
    ts: str = "1700000001.000100",
) -> None:
    block = next(b for b in message["blocks"] if b.get("block_id") == item_id)
    element = next(e for e in block["elements"] if e["action_id"] == action_id)
    running.post(
        *payloads.block_action(
            {"action_id": action_id, "value": element["value"]},
            team_id=TEAM,
            user_id=user,
            channel_id=message["channel"],
            response_url=running.slack.response_url("c"),
            message={"ts": ts, "type": "message"},
        )
    )
