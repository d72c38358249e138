"""What a listener reads from a Slack request: who, where, which message, the modal's fields.

One home for these, so every listener reads a request the same way and none imports another.
"""

from __future__ import annotations

from slack_bolt import Ack

from bot.slack import blocks as ui
from bot.slack import checklist_blocks as cb


def team_of(body: dict) -> str:
    return (body.get("team") or {}).get("id") or body.get("team_id", "")


def user_of(body: dict) -> str:
    return (body.get("user") or {}).get("id") or body.get("user_id", "")


def channel_of(body: dict) -> str:
    return (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id", "")


def message_of(body: dict) -> tuple[str, str]:
    """(channel, ts) of the message a button was clicked in; empty strings elsewhere."""
    container = body.get("container") or {}
    return container.get("channel_id", ""), container.get("message_ts", "")


def modal_field(view: dict, block: str) -> str | None:
    """A modal input's value, whatever the element: text, date or user picker. A field of the
    wrong shape (a signed but forged submission) reads as empty."""
    node: object = view
    for key in ("state", "values", block, "value"):
        node = node.get(key) if isinstance(node, dict) else None
    if not isinstance(node, dict):
        return None
    value = node.get("value") or node.get("selected_date") or node.get("selected_user")
    return value if isinstance(value, str) else None


def ack_no_project(ack: Ack) -> None:
    """The answer to any project command in a channel (or DM) without a project."""
    ack(
        response_type="ephemeral",
        blocks=ui.to_dicts(cb.no_project_blocks()),
        text="This channel has no ML project yet.",
    )
