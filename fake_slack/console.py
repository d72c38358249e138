"""`mlready chat`: the real Bolt app in-process, against the local Slack API, in a terminal.

Type a question (sent as a direct message), a `/mlready ...` command, or the number of a
button to click it. Works with piped input too.
"""

from __future__ import annotations

import itertools
import json
import secrets
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TextIO

from pydantic import SecretStr
from slack_bolt import BoltRequest

from bot.answers import AnswerEngine
from bot.settings import Settings
from bot.slack.app import create_runtime
from fake_slack import payloads
from fake_slack.web_api import BOT_USER_ID, Call, LocalSlackAPI

USER = "UCONSOLE"
DM_CHANNEL = "DCONSOLE"
COMMAND_CHANNEL = "CCONSOLE"  # where /mlready commands are typed
TEAM = "TLOCAL"


@dataclass
class _Button:
    action: dict
    message: dict
    response_url: str
    view: dict | None = None  # set for a button inside a modal


class Console:
    def __init__(
        self,
        settings: Settings,
        out: TextIO = sys.stdout,
        engine_factory: Callable[[], AnswerEngine] | None = None,
    ) -> None:
        self.out = out
        self.api = LocalSlackAPI(team_id=TEAM).start()
        self.secret = secrets.token_hex(16)
        local = settings.model_copy(
            update={
                "slack_bot_token": SecretStr("xoxb-local-console"),
                "slack_signing_secret": SecretStr(self.secret),
                "slack_api_url": self.api.url,
                "slack_max_retries": 1,
            }
        )
        self.app, self.services = create_runtime(local, engine_factory)
        self.buttons: dict[int, _Button] = {}
        self._numbers = itertools.count(1)
        self._responses = itertools.count(1)
        self._seen = 0
        self._ts = itertools.count(int(time.time()))

    def close(self) -> None:
        self.services.jobs.shutdown()
        self.api.stop()

    # input
    def handle(self, line: str) -> None:
        line = line.strip()
        if not line:
            return
        if line.isdigit():
            self.click(int(line))
        elif line.startswith("/"):
            command, _, text = line.partition(" ")
            if command != "/mlready":
                self._say(f"(only /mlready is known here, not {command})")
                return
            body = payloads.slash_command(
                text,
                team_id=TEAM,
                channel_id=COMMAND_CHANNEL,
                user_id=USER,
                response_url=self.api.response_url(str(next(self._responses))),
            )
            self._dispatch(*body)
        else:
            event = payloads.message_event(
                line, channel=DM_CHANNEL, user=USER, ts=f"{next(self._ts)}.000200", channel_type="im"
            )
            self._dispatch(*payloads.event_callback(event, team_id=TEAM))
        self.services.jobs.wait_idle(timeout=120)
        time.sleep(0.05)  # let the local API record the last call
        self._render_new_calls()

    def click(self, number: int) -> None:
        button = self.buttons.get(number)
        if button is None:
            self._say(f"(there is no button [{number}])")
            return
        if button.view is not None:
            self._dispatch(
                *payloads.view_block_action(button.action, team_id=TEAM, user_id=USER, view=button.view)
            )
            return
        body = payloads.block_action(
            button.action,
            team_id=TEAM,
            user_id=USER,
            channel_id=button.message.get("channel", COMMAND_CHANNEL),
            response_url=button.response_url,
            message=button.message,
        )
        self._dispatch(*body)

    def _dispatch(self, body: str, content_type: str) -> None:
        headers = payloads.signed_headers(self.secret, body, content_type)
        response = self.app.dispatch(BoltRequest(body=body, headers=headers))
        if response.status != 200:
            self._say(f"(the app answered HTTP {response.status})")
        elif response.body:
            self._render_ack(response.body)

    # output
    def _say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def _render_ack(self, body: str) -> None:
        try:
            message = json.loads(body)
        except ValueError:
            self._say(body)
            return
        self._render(
            "mlready (only visible to you)",
            {"channel": COMMAND_CHANNEL, **message},
            self.api.response_url("ack"),
        )

    def _render_new_calls(self) -> None:
        calls = self.api.calls[self._seen :]
        self._seen += len(calls)
        for call in calls:
            self._render_call(call)

    def _render_call(self, call: Call) -> None:
        p = call.params
        if call.method == "chat.postMessage":
            where = "in the thread" if p.get("thread_ts") else f"in {p.get('channel')}"
            message = {**p, "ts": f"{next(self._ts)}.000300"}
            self._render(f"mlready ({where})", message, self.api.response_url("msg"))
        elif call.method == "chat.postEphemeral":
            self._render("mlready (only visible to you)", p, self.api.response_url("eph"))
        elif call.method == "response_url":
            if p.get("delete_original"):
                return
            self._render(
                "mlready (only visible to you)",
                {"channel": COMMAND_CHANNEL, **p},
                self.api.response_url(p["_response_id"]),
            )
        elif call.method == "chat.update":
            self._render("mlready (message updated)", p, self.api.response_url("upd"))
        elif call.method in ("views.open", "views.update"):
            view = p.get("view")
            view = json.loads(view) if isinstance(view, str) else view
            if isinstance(view, dict) and view.get("type") == "modal":
                view = {**view, "id": p.get("view_id") or f"VCONSOLE{next(self._responses)}", "hash": "h"}
                title = (view.get("title") or {}).get("text", "")
                self._render(f"mlready (window: {title})", view, self.api.response_url("view"), view)

    def _render(self, title: str, message: dict, response_url: str, view: dict | None = None) -> None:
        lines = [f"── {title}"]
        blocks = message.get("blocks") or []
        if not blocks and message.get("text"):
            lines.append(_plain(message["text"]))
        for block in blocks:
            kind = block.get("type")
            if kind in ("section", "header"):
                lines.append(_plain(block["text"]["text"]))
            elif kind == "context":
                lines.append("   " + " ".join(_plain(e.get("text", "")) for e in block["elements"]))
            elif kind == "divider":
                lines.append("   ───")
            elif kind == "actions":
                labels = []
                for element in block.get("elements", []):
                    if element.get("type") != "button":
                        continue
                    n = next(self._numbers)
                    self.buttons[n] = _Button(
                        element,
                        {**message, "channel": message.get("channel", DM_CHANNEL)},
                        response_url,
                        view,
                    )
                    labels.append(f"[{n}] {element['text']['text']}")
                lines.append("   " + "   ".join(labels))
        self._say("\n".join(lines))


def _plain(text: str) -> str:
    return (
        text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
        .replace(f"<@{BOT_USER_ID}>", "@mlready")
    )


def run_console(settings: Settings, lines: Iterable[str], out: TextIO, interactive: bool) -> None:
    console = Console(settings, out)
    try:
        if interactive:
            console._say(
                "mlready chat: type a question, a /mlready command, or a button number; Ctrl-D to quit."
            )
        for line in lines:
            if line.strip() in ("quit", "exit"):
                break
            if not interactive and line.strip():
                console._say(f"> {line.strip()}")
            console.handle(line)
    finally:
        console.close()
