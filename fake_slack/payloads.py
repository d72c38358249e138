"""Slack-shaped request bodies, signed as Slack signs them.

`mlready chat` drives the app with these, and the tests send them to the HTTP endpoint.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from collections.abc import Mapping
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

APP_ID = "AMLREADY"
_counter = itertools.count(1)


def signed_headers(secret: str, body: str, content_type: str, timestamp: int | None = None) -> dict[str, str]:
    ts = str(timestamp if timestamp is not None else int(time.time()))
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {"content-type": content_type, "x-slack-request-timestamp": ts, "x-slack-signature": signature}


TYPED_MENTION_RE = re.compile(r"(?<![\w<|])@([a-z0-9][a-z0-9._-]*)")
TYPED_URL_RE = re.compile(r"https?://[^\s<>|&]+")


def as_slack_sends(typed: str, users: Mapping[str, str], should_escape: bool) -> str:
    """What Slack sends as a slash command's `text` for what a person typed: &, < and > are
    always escaped; with `should_escape: true`, an @name Slack knows (`users`: name → id) becomes
    `<@U…|name>` and a URL `<https://…>`. An @name Slack does not know stays plain text."""
    text = typed.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if not should_escape:
        return text
    text = TYPED_URL_RE.sub(lambda m: f"<{m.group(0)}>", text)

    def mention(match: re.Match[str]) -> str:
        user_id = users.get(match.group(1))
        return f"<@{user_id}|{match.group(1)}>" if user_id else match.group(0)

    return TYPED_MENTION_RE.sub(mention, text)


def slash_command(
    text: str, *, team_id: str, channel_id: str, user_id: str, response_url: str, command: str = "/mlready"
) -> tuple[str, str]:
    body = urlencode(
        {
            "token": "unused",
            "team_id": team_id,
            "team_domain": "local",
            "channel_id": channel_id,
            "channel_name": "console",
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "response_url": response_url,
            "trigger_id": f"trigger.{next(_counter)}",
        }
    )
    return body, "application/x-www-form-urlencoded"


def event_callback(event: dict, *, team_id: str, event_id: str | None = None) -> tuple[str, str]:
    n = next(_counter)
    body = json.dumps(
        {
            "token": "unused",
            "team_id": team_id,
            "api_app_id": APP_ID,
            "type": "event_callback",
            "event_id": event_id or f"Ev{int(time.time())}{n:06d}",
            "event_time": int(time.time()),
            "event": {"event_ts": event.get("ts", ""), **event},
            "authorizations": [{"team_id": team_id, "user_id": "UMLREADY", "is_bot": True}],
        }
    )
    return body, "application/json"


def message_event(
    text: str,
    *,
    channel: str,
    user: str,
    ts: str,
    channel_type: str = "channel",
    thread_ts: str | None = None,
    mention: bool = False,
    **extra: object,
) -> dict:
    event: dict = {
        "type": "app_mention" if mention else "message",
        "channel": channel,
        "user": user,
        "text": text,
        "ts": ts,
        "channel_type": channel_type,
        **extra,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def _action_payload(action: dict, team_id: str, user_id: str, **where: object) -> tuple[str, str]:
    payload = {
        "type": "block_actions",
        "team": {"id": team_id, "domain": "local"},
        "user": {"id": user_id, "username": user_id.lower(), "team_id": team_id},
        "api_app_id": APP_ID,
        "token": "unused",
        "trigger_id": f"trigger.{next(_counter)}",
        **where,
        "actions": [{"type": "button", "action_ts": str(time.time()), "block_id": "b", **action}],
    }
    return urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"


def block_action(
    action: dict,
    *,
    team_id: str,
    user_id: str,
    channel_id: str,
    response_url: str,
    message: dict | None = None,
) -> tuple[str, str]:
    return _action_payload(
        action,
        team_id,
        user_id,
        container={
            "type": "message",
            "channel_id": channel_id,
            "message_ts": (message or {}).get("ts", "0"),
        },
        channel={"id": channel_id, "name": "console"},
        message=message or {"type": "message", "ts": "0", "text": ""},
        response_url=response_url,
    )


def view_block_action(action: dict, *, team_id: str, user_id: str, view: dict) -> tuple[str, str]:
    """A click on a button inside a modal: Slack sends the view, and no channel or message."""
    return _action_payload(
        action, team_id, user_id, container={"type": "view", "view_id": view["id"]}, view=view
    )


def view_submission(view: dict, values: dict[str, dict], *, team_id: str, user_id: str) -> tuple[str, str]:
    """A modal's Submit. `values` is Slack's `view.state.values`: block id → action id → the
    element's state, e.g. {"deadline": {"value": {"type": "datepicker", "selected_date": "2026-12-31"}}}."""
    payload = {
        "type": "view_submission",
        "team": {"id": team_id, "domain": "local"},
        "user": {"id": user_id, "team_id": team_id},
        "api_app_id": APP_ID,
        "trigger_id": f"trigger.{next(_counter)}",
        "view": {**view, "state": {"values": values}},
    }
    return urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
