"""@mentions, direct messages and follow-ups in threads the bot has answered."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from slack_bolt import App
from slack_sdk import WebClient

from bot import history
from bot.command_grammar import plain_text
from bot.slack.jobs.answers import Asked

if TYPE_CHECKING:
    from bot.slack.services import Services

log = logging.getLogger(__name__)

MENTION_RE = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")
# Plain user messages only: edits, deletions, joins and bot posts are not questions.
ANSWERABLE_SUBTYPES = {None, "thread_broadcast", "file_share"}


def question_text(text: str) -> str:
    """The question without @-mentions, with Slack's escapes and link markup undone."""
    return " ".join(plain_text(MENTION_RE.sub(" ", text or "")).split())


def _from_a_bot(event: dict) -> bool:
    return bool(event.get("bot_id") or event.get("bot_profile")) or event.get("subtype") == "bot_message"


def _ignored(event: dict) -> bool:
    """Bot posts, and events without a channel (Slack always sends one; junk may not)."""
    return _from_a_bot(event) or not isinstance(event.get("channel"), str)


def take_question(services: Services, body: dict, client: WebClient, asked: Asked) -> None:
    """Store the question as a job (or tell the asker to wait when too many are waiting)."""
    if not asked.question:
        return
    if not services.outbox.question(body, asked):
        log.warning("too many questions waiting; turning one away in channel %s", asked.channel_id)
        client.chat_postMessage(
            channel=asked.channel_id,
            thread_ts=asked.thread_ts,
            text="I'm answering a lot of questions right now; please ask again in a minute.",
        )


def on_mention(services: Services, event: dict, body: dict, client: WebClient) -> None:
    if _ignored(event):
        return
    asked = Asked(
        team_id=body.get("team_id", ""),
        channel_id=event["channel"],
        user_id=event.get("user", ""),
        question=question_text(event.get("text", "")),
        surface="mention",
        thread_ts=event.get("thread_ts") or event.get("ts"),
    )
    take_question(services, body, client, asked)


def on_message(services: Services, event: dict, body: dict, client: WebClient, context: dict) -> None:
    """A DM is a question; in a channel, only a reply in a thread the bot has answered is."""
    if _ignored(event) or event.get("subtype") not in ANSWERABLE_SUBTYPES:
        return
    text = event.get("text", "")
    bot_user = context.get("bot_user_id")
    if bot_user and f"<@{bot_user}" in text:
        return  # app_mention answers it
    team_id, channel, user = body.get("team_id", ""), event["channel"], event.get("user", "")
    thread_ts = event.get("thread_ts")
    if event.get("channel_type") == "im":
        take_question(
            services, body, client, Asked(team_id, channel, user, question_text(text), "dm", thread_ts)
        )
        return
    if not thread_ts:
        return
    with services.db.session() as session:
        followed = history.is_answered_thread(session, team_id, channel, thread_ts)
    if followed:
        asked = Asked(team_id, channel, user, question_text(text), "thread", thread_ts=thread_ts)
        take_question(services, body, client, asked)


def register(app: App, services: Services) -> None:
    @app.event("app_mention")
    def mention(event: dict, body: dict, client: WebClient) -> None:
        on_mention(services, event, body, client)

    @app.event("message")
    def message(event: dict, body: dict, client: WebClient, context: dict) -> None:
        on_message(services, event, body, client, context)
