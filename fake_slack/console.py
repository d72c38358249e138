"""`mlready chat`: the real Bolt app in-process, against the local Slack API, in a terminal.

Type a question (sent as a direct message), a `/mlready ...` command, or a button's label to
click it (`b2`; a bare `2` is a button of the latest message). A window (modal) asks for each of
its fields in turn and is then submitted; `/cancel` closes it. `/as @dana` acts as someone else.
Files the app uploads are saved under ./mlready-files. Works with piped input too.
"""

from __future__ import annotations

import itertools
import json
import re
import secrets
import string
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
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
FILES = Path("mlready-files")
LABEL_RE = re.compile(r"^([a-z]{1,2})?(\d{1,2})$")
# <@U1>, <@U1|dana>, <#C1|general>, <!here>, <!date^1700000000^{date_short}|fallback>, <url|label>
MARKUP_RE = re.compile(r"<([@#!]?)([^<>|]*)(?:\|([^<>]*))?>")


@dataclass
class _Button:
    action: dict
    message: dict
    response_url: str
    view: dict | None = None  # set for a button inside a modal


@dataclass
class _Field:
    block_id: str
    action_id: str
    label: str
    kind: str  # plain_text_input, datepicker, users_select
    optional: bool
    initial: str | None


@dataclass
class _Form:
    """A modal being filled in, one field per line typed."""

    view: dict
    fields: list[_Field]
    values: dict[str, str] = field(default_factory=dict)
    todo: list[int] = field(default_factory=list)  # indexes of the fields still to ask


class Console:
    def __init__(
        self,
        settings: Settings,
        out: TextIO = sys.stdout,
        engine_factory: Callable[[], AnswerEngine] | None = None,
        files: Path = FILES,
    ) -> None:
        self.out = out
        self.color = bool(getattr(out, "isatty", lambda: False)())
        self.files = files
        self.api = LocalSlackAPI(team_id=TEAM).start()
        self.api.users[USER] = {"id": USER, "name": "you", "tz": "UTC", "is_bot": False, "is_admin": True}
        self.user = USER
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
        self.buttons: dict[str, _Button] = {}
        self.latest = ""  # the tag of the latest message with buttons
        self.form: _Form | None = None
        self._tags = itertools.cycle(string.ascii_lowercase)
        self._responses = itertools.count(1)
        self._seen = 0
        self._ts = itertools.count(int(time.time()))
        self._uploads: dict[str, str] = {}  # file id -> its content, until the upload completes

    def close(self) -> None:
        self.services.jobs.shutdown()
        self.api.stop()

    # people
    def _user_named(self, name: str) -> str:
        """The id of @name in the local directory, added on first use (as if they had joined)."""
        name = name.lstrip("@").lower()
        for user_id, user in self.api.users.items():
            if user.get("name") == name:
                return user_id
        user_id = "U" + re.sub(r"[^A-Z0-9]", "", name.upper())[:20] or "UPERSON"
        self.api.users[user_id] = {"id": user_id, "name": name, "tz": "UTC", "is_bot": False}
        return user_id

    def _name_of(self, user_id: str) -> str:
        return "@" + self.api.users.get(user_id, {}).get("name", user_id)

    # input
    def handle(self, line: str) -> None:
        line = line.strip()
        if self.form is not None:
            self._fill(line)
        elif not line:
            return
        elif LABEL_RE.match(line):
            self.click(line)
        elif line.startswith("/as "):
            self.user = self._user_named(line[4:].strip())
            self._say(f"(you are now {self._name_of(self.user)})")
            return
        elif line.startswith("/"):
            command, _, text = line.partition(" ")
            if command != "/mlready":
                self._say(f"(only /mlready and /as are known here, not {command})")
                return
            for name in re.findall(r"@([a-z0-9._-]+)", text.lower()):
                self._user_named(name)  # people mentioned exist in this pretend workspace
            users = {u["name"]: uid for uid, u in self.api.users.items() if u.get("name")}
            body = payloads.slash_command(
                payloads.as_slack_sends(text, users, should_escape=True),  # as manifest.yaml asks
                team_id=TEAM,
                channel_id=COMMAND_CHANNEL,
                user_id=self.user,
                response_url=self.api.response_url(str(next(self._responses))),
            )
            self._dispatch(*body)
        else:
            event = payloads.message_event(
                line, channel=DM_CHANNEL, user=self.user, ts=f"{next(self._ts)}.000200", channel_type="im"
            )
            self._dispatch(*payloads.event_callback(event, team_id=TEAM))
        self._settle()

    def _settle(self) -> None:
        self.services.jobs.wait_idle(timeout=120)
        time.sleep(0.05)  # let the local API record the last call
        self._render_new_calls()

    def click(self, label: str) -> None:
        match = LABEL_RE.match(label)
        key = f"{match.group(1) or self.latest}{match.group(2)}" if match else label
        button = self.buttons.get(key)
        if button is None:
            self._say(f"(there is no button [{label}])")
            return
        if button.view is not None:
            self._dispatch(
                *payloads.view_block_action(button.action, team_id=TEAM, user_id=self.user, view=button.view)
            )
            return
        body = payloads.block_action(
            button.action,
            team_id=TEAM,
            user_id=self.user,
            channel_id=button.message.get("channel", COMMAND_CHANNEL),
            response_url=button.response_url,
            message=button.message,
        )
        self._dispatch(*body)

    # modals
    def _open_form(self, view: dict) -> None:
        fields = []
        for block in view.get("blocks", []):
            element = block.get("element") or {}
            if block.get("type") != "input":
                continue
            initial = (
                element.get("initial_value") or element.get("initial_date") or element.get("initial_user")
            )
            fields.append(
                _Field(
                    block["block_id"],
                    element.get("action_id", "value"),
                    block["label"]["text"],
                    element.get("type", "plain_text_input"),
                    bool(block.get("optional")),
                    initial,
                )
            )
        if fields:
            self.form = _Form(view, fields, todo=list(range(len(fields))))
            self._say(
                "   (fill in the window: one line per field; Enter keeps what is shown; /cancel closes it)"
            )
            self._ask()

    def _ask(self) -> None:
        assert self.form is not None
        f = self.form.fields[self.form.todo[0]]
        hint = {"datepicker": "YYYY-MM-DD", "users_select": "@name"}.get(f.kind, "")
        shown = f" [{self._show_value(f, f.initial)}]" if f.initial else ""
        need = "optional" if f.optional else "required"
        self._say(f"   {f.label} ({need}{', ' + hint if hint else ''}){shown}:")

    def _show_value(self, f: _Field, value: str | None) -> str:
        return self._name_of(value) if value and f.kind == "users_select" else value or ""

    def _fill(self, line: str) -> None:
        form = self.form
        assert form is not None
        if line == "/cancel":
            self.form = None
            self._say("(window closed, nothing sent)")
            return
        f = form.fields[form.todo[0]]
        value = line or f.initial or ""
        if value == "-":
            value = ""
        if f.kind == "users_select" and value:
            value = value if re.fullmatch(r"[UW][A-Z0-9]+", value) else self._user_named(value)
        form.values[f.block_id] = value
        form.todo.pop(0)
        if form.todo:
            self._ask()
            return
        self._submit(form)

    def _submit(self, form: _Form) -> None:
        values = {}
        for f in form.fields:
            value = form.values.get(f.block_id) or None
            state: dict = {"type": f.kind}
            key = {"datepicker": "selected_date", "users_select": "selected_user"}.get(f.kind, "value")
            state[key] = value
            values[f.block_id] = {f.action_id: state}
        body, content_type = payloads.view_submission(form.view, values, team_id=TEAM, user_id=self.user)
        response = self._post(body, content_type)
        reply = json.loads(response.body) if response.status == 200 and response.body else {}
        errors = reply.get("errors") if reply.get("response_action") == "errors" else None
        if response.status != 200:
            self.form = None
            self._say(f"(the app answered HTTP {response.status})")
        elif errors:
            for block_id, message in errors.items():
                label = next((f.label for f in form.fields if f.block_id == block_id), block_id)
                self._say(f"   ⚠️ {label}: {message}")
            form.todo = [i for i, f in enumerate(form.fields) if f.block_id in errors] or [0]
            self._ask()
        else:
            self.form = None
            self._say("(window submitted)")
            self._settle()

    # transport
    def _post(self, body: str, content_type: str):
        headers = payloads.signed_headers(self.secret, body, content_type)
        return self.app.dispatch(BoltRequest(body=body, headers=headers))

    def _dispatch(self, body: str, content_type: str) -> None:
        response = self._post(body, content_type)
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
            self._audience(message), {"channel": COMMAND_CHANNEL, **message}, self.api.response_url("ack")
        )

    @staticmethod
    def _audience(message: dict, channel: str = COMMAND_CHANNEL) -> str:
        if message.get("response_type") == "in_channel":
            return f"mlready (in #{channel.lower()})"
        return "mlready (only visible to you)"

    def _render_new_calls(self) -> None:
        calls = self.api.calls[self._seen :]
        self._seen += len(calls)
        for call in calls:
            self._render_call(call)

    def _render_call(self, call: Call) -> None:
        p = call.params
        if call.method == "chat.postMessage":
            channel = str(p.get("channel", ""))
            if p.get("thread_ts"):
                where = "in the thread"
            elif channel.startswith(("U", "W", "D")):
                where = f"direct message to {self._name_of(channel) if channel[0] in 'UW' else 'you'}"
            else:
                where = f"in #{channel.lower()}"
            message = {**p, "ts": f"{next(self._ts)}.000300"}
            self._render(f"mlready ({where})", message, self.api.response_url("msg"))
        elif call.method == "chat.postEphemeral":
            self._render("mlready (only visible to you)", p, self.api.response_url("eph"))
        elif call.method == "response_url":
            if p.get("delete_original"):
                return
            self._render(
                self._audience(p), {"channel": COMMAND_CHANNEL, **p}, self.api.response_url(p["_response_id"])
            )
        elif call.method == "chat.update":
            self._render("mlready (message updated)", p, self.api.response_url("upd"))
        elif call.method == "views.publish":
            view = p.get("view")
            view = json.loads(view) if isinstance(view, str) else view
            self._render(f"mlready (App Home of {self._name_of(str(p.get('user_id')))})", view, "")
        elif call.method in ("views.open", "views.update", "views.push"):
            view = p.get("view")
            view = json.loads(view) if isinstance(view, str) else view
            if isinstance(view, dict) and view.get("type") == "modal":
                view = {**view, "id": p.get("view_id") or f"VCONSOLE{next(self._responses)}", "hash": "h"}
                title = (view.get("title") or {}).get("text", "")
                self._render(f"mlready (window: {title})", view, self.api.response_url("view"), view)
                self._open_form(view)
        elif call.method == "file_upload":
            self._uploads[p["file_id"]] = p["content"]
        elif call.method == "files.completeUploadExternal":
            self._save_files(p)

    def _save_files(self, p: dict) -> None:
        files = p.get("files", "[]")
        files = json.loads(files) if isinstance(files, str) else files
        for f in files:
            content = self._uploads.pop(f["id"], None)
            if content is None:
                continue
            self.files.mkdir(parents=True, exist_ok=True)
            name = re.sub(r"[^\w.-]+", "-", f.get("title") or f["id"]).strip("-") or f["id"]
            path = self.files / (name if "." in name else name + ".md")
            path.write_text(content, encoding="utf-8")
            channel = str(p.get("channel_id", COMMAND_CHANNEL)).lower()
            comment = self._readable(p.get("initial_comment", "")) if p.get("initial_comment") else ""
            self._say(f"── mlready (in #{channel}) uploaded a file, saved to {path}\n{comment}".rstrip())

    def _render(self, title: str, message: dict, response_url: str, view: dict | None = None) -> None:
        lines = [f"── {title}"]
        blocks = message.get("blocks") or []
        if not blocks and message.get("text"):
            lines.append(self._readable(message["text"]))
        tag = ""
        number = itertools.count(1)
        for block in blocks:
            kind = block.get("type")
            if kind in ("section", "header"):
                text = self._readable(block["text"]["text"])
                lines.append(self._bold(text) if kind == "header" else text)
            elif kind == "context":
                lines.append("   " + " ".join(self._readable(e.get("text", "")) for e in block["elements"]))
            elif kind == "divider":
                lines.append("   ───")
            elif kind == "input" and view is not None:
                lines.append(f"   ▢ {block['label']['text']}")
            elif kind == "actions":
                if not tag:  # a tag comes round again after 26 messages: its old buttons go
                    tag = next(self._tags)
                    for stale in [k for k in self.buttons if LABEL_RE.match(k).group(1) == tag]:
                        del self.buttons[stale]
                labels = []
                for element in block.get("elements", []):
                    if element.get("type") != "button":
                        continue
                    key = f"{tag}{next(number)}"
                    self.buttons[key] = _Button(
                        element,
                        {**message, "channel": message.get("channel", DM_CHANNEL)},
                        response_url,
                        view,
                    )
                    labels.append(f"[{key}] {element['text']['text']}")
                lines.append("   " + "   ".join(labels))
        if tag:
            self.latest = tag
        self._say("\n".join(lines))

    # mrkdwn as a person reads it
    def _readable(self, text: str) -> str:
        def markup(match: re.Match[str]) -> str:
            sigil, target, label = match.groups()
            if sigil == "@":
                if target == BOT_USER_ID:
                    return "@mlready"
                return f"@{label}" if label else self._name_of(target)
            if sigil == "#":
                return f"#{label or target.lower()}"
            if sigil == "!":
                if target.startswith("date^"):
                    return _date(target, label)
                return "@" + (label or target).lstrip("@")
            return f"{label} ({target})" if label and label != target else target

        text = MARKUP_RE.sub(markup, text)
        text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        text = re.sub(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])", lambda m: self._bold(m.group(1)), text)
        return re.sub(r"(?<![\w_])_([^_\n]+)_(?![\w_])", lambda m: self._italic(m.group(1)), text)

    def _bold(self, text: str) -> str:
        return f"\033[1m{text}\033[0m" if self.color else text

    def _italic(self, text: str) -> str:
        return f"\033[3m{text}\033[0m" if self.color else text


def _date(target: str, fallback: str | None) -> str:
    """Slack's <!date^TS^FORMAT|fallback>, in UTC (the console has no reader's timezone)."""
    parts = target.split("^")
    try:
        moment = datetime.fromtimestamp(int(parts[1]), UTC)
    except (IndexError, ValueError):
        return fallback or target
    fmt = parts[2] if len(parts) > 2 else "{date_short}"
    if "{time}" in fmt:
        return f"{moment:%Y-%m-%d %H:%M} UTC"
    return f"{moment:%Y-%m-%d}"


def run_console(settings: Settings, lines: Iterable[str], out: TextIO, interactive: bool) -> None:
    console = Console(settings, out)
    try:
        if interactive:
            console._say(
                "mlready chat: type a question, a /mlready command, a button label (b2, or 2 for the "
                "latest message), /as @name to act as someone else; Ctrl-D to quit."
            )
        for line in lines:
            if line.strip() in ("quit", "exit"):
                break
            if not interactive and (line.strip() or console.form is not None):
                console._say(f"> {line.strip()}")
            console.handle(line)
    finally:
        console.close()
