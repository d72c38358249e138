"""Buttons on answers: feedback and sharing."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_bolt import Ack, App, Respond

from bot import history, projects
from bot.slack import ids
from bot.slack.jobs import answers as answer_jobs
from bot.slack.jobs import replies
from bot.slack.request_context import channel_of, team_of, user_of

if TYPE_CHECKING:
    from bot.slack.services import Services

log = logging.getLogger(__name__)

GONE = "I can't find that answer any more; ask again with `/mlready ask`."


def answer_id_of(action: dict) -> int | None:
    try:
        value = int(action.get("value", ""))
    except (ValueError, TypeError):
        return None
    return value if projects.is_id(value) else None


def on_feedback(services: Services, helpful: bool, ack: Ack, body: dict, action: dict) -> None:
    team_id, user_id, channel = team_of(body), user_of(body), channel_of(body)
    answer_id = answer_id_of(action)
    with services.db.session() as session:
        stored = answer_id is not None and history.record_feedback(
            session, answer_id, team_id, user_id, helpful
        )
        text = (
            (
                "Thanks, glad it helped!"
                if helpful
                else "Thanks for telling me. The team that keeps the knowledge base will see it."
            )
            if stored
            else "I can't find that answer any more, so the feedback was not stored."
        )
        if channel:
            services.outbox.add(
                session, replies.EPHEMERAL, team_id, {"channel": channel, "user": user_id, "text": text}
            )
    ack()


def on_share(services: Services, ack: Ack, body: dict, action: dict, respond: Respond) -> None:
    team_id, channel = team_of(body), channel_of(body)
    answer_id = answer_id_of(action)
    with services.db.session() as session:
        # The answer must be this workspace's, shared where it was asked, by the person who asked
        # (a private answer is shown to its asker alone).
        record = history.get_answer(session, answer_id, team_id) if answer_id else None
        found = (
            record is not None
            and bool(channel)
            and record.channel_id == channel
            and record.user_id == user_of(body)
        )
        if found:
            services.outbox.add(
                session,
                answer_jobs.SHARE,
                team_id,
                {
                    "answer_id": answer_id,
                    "channel": channel,
                    "user": user_of(body),
                    "response_url": body.get("response_url"),
                },
            )
    ack()
    if not found:
        respond(response_type="ephemeral", replace_original=False, text=GONE)


def register(app: App, services: Services) -> None:
    @app.action(ids.FEEDBACK_HELPFUL)
    def helpful(ack: Ack, body: dict, action: dict) -> None:
        on_feedback(services, True, ack, body, action)

    @app.action(ids.FEEDBACK_NOT_HELPFUL)
    def not_helpful(ack: Ack, body: dict, action: dict) -> None:
        on_feedback(services, False, ack, body, action)

    @app.action(ids.SHARE_ANSWER)
    def share(ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        on_share(services, ack, body, action, respond)
