"""Buttons on answers that show more of a guide: Read the guide (a paged modal), Related guides,
the worked example and the questions for the team (posted privately)."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.answers import EXAMPLE_SECTION, QUESTIONS_SECTION
from bot.slack import guide_blocks, ids
from bot.slack.action_values import GuideRef
from bot.slack.jobs import replies
from bot.slack.request_context import team_of
from indexer.knowledge import KnowledgeDoc

if TYPE_CHECKING:
    from bot.slack.services import Services

log = logging.getLogger(__name__)

READ_ACTION = re.compile(rf"^{ids.GUIDE_READ}(?:_related_[12])?$")
PAGE_ACTION = re.compile(rf"^{ids.GUIDE_PAGE}_(?:prev|next)$")
UNKNOWN_GUIDE = "I can't find that guide any more; ask your question again to get fresh links."


def _guide(action: dict, docs: dict[str, KnowledgeDoc]) -> tuple[GuideRef, KnowledgeDoc] | None:
    """The guide a button names, if the value is one this app wrote and the guide exists."""
    ref = GuideRef.parse(action.get("value"))
    doc = docs.get(ref.doc) if ref else None
    return (ref, doc) if ref and doc else None


def _tell(respond: Respond, text: str) -> None:
    respond(response_type="ephemeral", replace_original=False, text=text)


def open_guide(
    ack: Ack, body: dict, action: dict, client: WebClient, respond: Respond, docs: dict[str, KnowledgeDoc]
) -> None:
    ack()
    found = _guide(action, docs)
    if found is None:
        _tell(respond, UNKNOWN_GUIDE)
        return
    # A trigger id is valid for 3 s only, so the modal opens here rather than in a job.
    client.views_open(trigger_id=body["trigger_id"], view=guide_blocks.guide_modal(found[1]).to_dict())


def turn_page(ack: Ack, body: dict, action: dict, client: WebClient, docs: dict[str, KnowledgeDoc]) -> None:
    ack()
    found = _guide(action, docs)
    view = body.get("view") or {}
    shown = GuideRef.parse(view.get("private_metadata"))
    # The page buttons live in the modal: they may only turn the pages of the guide it shows.
    if found is None or shown is None or shown.doc != found[0].doc or not view.get("id"):
        log.warning("ignored a guide page click with a value that does not match its modal")
        return
    client.views_update(
        view_id=view["id"],
        hash=view.get("hash"),
        view=guide_blocks.guide_modal(found[1], found[0].page).to_dict(),
    )


def post_part(services: Services, section: str, ack: Ack, body: dict, action: dict, respond: Respond) -> None:
    """The worked example or the team questions, sent privately by a job after the ack."""
    found = _guide(action, services.docs)
    if found is None or not body.get("response_url"):
        ack()
        _tell(respond, UNKNOWN_GUIDE)
        return
    text, blocks = guide_blocks.guide_part_blocks(found[1], section)
    message = {
        "response_type": "ephemeral",
        "replace_original": False,
        "text": text,
        "blocks": [b.to_dict() for b in blocks],
    }
    services.outbox.send(
        replies.RESPOND, team_of(body), {"response_url": body["response_url"], "message": message}
    )
    ack()


def register(app: App, services: Services) -> None:
    # Thin wrappers: Bolt injects arguments by name, so the callbacks take only Bolt's names.
    docs = services.docs

    @app.action(READ_ACTION)
    def on_read(ack: Ack, body: dict, action: dict, client: WebClient, respond: Respond) -> None:
        open_guide(ack, body, action, client, respond, docs)

    @app.action(PAGE_ACTION)
    def on_page(ack: Ack, body: dict, action: dict, client: WebClient) -> None:
        turn_page(ack, body, action, client, docs)

    @app.action(ids.GUIDE_EXAMPLE)
    def on_example(ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        post_part(services, EXAMPLE_SECTION, ack, body, action, respond)

    @app.action(ids.GUIDE_QUESTIONS)
    def on_questions(ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        post_part(services, QUESTIONS_SECTION, ack, body, action, respond)
