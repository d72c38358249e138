"""Buttons on answers: feedback and sharing."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot import history, projects
from bot.answers import Answer, GuideLink, Source
from bot.slack import blocks as ui
from bot.slack import ids

if TYPE_CHECKING:
    from bot.slack.app import Services

log = logging.getLogger(__name__)


def _answer_id(action: dict) -> int | None:
    try:
        value = int(action.get("value", ""))
    except (ValueError, TypeError):
        return None
    return value if projects.is_id(value) else None


def register(app: App, services: Services) -> None:
    def feedback(ack: Ack, body: dict, action: dict, client: WebClient, helpful: bool) -> None:
        ack()
        team_id = (body.get("team") or {}).get("id", "")
        user_id = (body.get("user") or {}).get("id", "")
        answer_id = _answer_id(action)
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
        channel = (body.get("channel") or {}).get("id")
        if channel:
            services.worker.submit(_ephemeral, client, channel, user_id, text)

    @app.action(ids.FEEDBACK_HELPFUL)
    def on_helpful(ack: Ack, body: dict, action: dict, client: WebClient) -> None:
        feedback(ack, body, action, client, helpful=True)

    @app.action(ids.FEEDBACK_NOT_HELPFUL)
    def on_not_helpful(ack: Ack, body: dict, action: dict, client: WebClient) -> None:
        feedback(ack, body, action, client, helpful=False)

    @app.action(ids.SHARE_ANSWER)
    def on_share(ack: Ack, body: dict, action: dict, client: WebClient, respond: Respond) -> None:
        ack()
        team_id = (body.get("team") or {}).get("id", "")
        user_id = (body.get("user") or {}).get("id", "")
        channel = (body.get("channel") or {}).get("id", "")
        answer_id = _answer_id(action)
        with services.db.session() as session:
            record = history.get_answer(session, answer_id, team_id) if answer_id else None
            answer = _rebuild(record) if record else None
        if answer is None or not channel:
            respond(
                response_type="ephemeral",
                replace_original=False,
                text="I can't find that answer any more; ask again with `/mlready ask`.",
            )
            return
        services.worker.submit(_share, client, channel, user_id, answer, answer_id, respond)


def _rebuild(record) -> Answer:
    """The stored answer as shown, with its guide buttons: the first guide it cites leads and
    the others are related."""
    sources = [
        Source(s["doc_id"], s["title"], s["section"], s["category"], s["score"])
        for s in record.sources
        if s.get("doc_id")
    ]
    guides = list(dict.fromkeys((s.doc_id, s.title) for s in sources))
    return Answer(
        record.question,
        record.answered,
        record.confidence,
        record.answer,
        sources,
        guide=guides[0][0] if guides and record.answered else None,
        related=[GuideLink(d, t) for d, t in guides[1:3]] if record.answered else [],
    )


def _share(
    client: WebClient, channel: str, user_id: str, answer: Answer, answer_id: int, respond: Respond
) -> None:
    client.chat_postMessage(
        channel=channel,
        text=ui.fallback_text(answer),
        blocks=ui.to_dicts(ui.answer_blocks(answer, answer_id, shared_by=user_id)),
    )
    respond(delete_original=True)


def _ephemeral(client: WebClient, channel: str, user: str, text: str) -> None:
    client.chat_postEphemeral(channel=channel, user=user, text=text)
