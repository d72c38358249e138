"""Builds the Bolt app: middleware, listeners, and the services they call."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient

from bot import history
from bot.answers import AnswerEngine
from bot.db.session import Database
from bot.settings import Settings
from bot.slack.answering import AnswerService
from bot.slack.client import make_client
from bot.slack.listeners import actions, commands, home, messages
from bot.slack.worker import Worker

log = logging.getLogger(__name__)


@dataclass
class Services:
    """What listeners need; handed to each listener group's register()."""

    answers: AnswerService
    worker: Worker
    db: Database


def build_app(
    settings: Settings,
    db: Database,
    engine_factory: Callable[[], AnswerEngine],
    client: WebClient | None = None,
) -> tuple[App, Services]:
    settings.require("slack_bot_token", "slack_signing_secret")
    assert settings.slack_bot_token and settings.slack_signing_secret
    client = client or make_client(
        settings.slack_bot_token.get_secret_value(), settings.slack_api_url, settings.slack_max_retries
    )
    app = App(
        client=client,
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        # Listeners only parse, ack and enqueue, so they run on the request thread and the
        # ack never waits for a free thread of Bolt's pool; slow work goes to `worker`.
        process_before_response=True,
        logger=logging.getLogger("bot.slack.bolt"),
    )
    services = Services(
        answers=AnswerService(engine_factory, db, settings.slack_max_retries),
        worker=Worker(settings.answer_workers, settings.answer_queue_size),
        db=db,
    )

    @app.middleware
    def skip_retried_events(body: dict, next: Callable[[], BoltResponse]) -> BoltResponse | None:
        """A retried delivery (X-Slack-Retry-Num) of an event already handled is acked only."""
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id:
            with db.session() as session:
                first = history.claim_event(session, str(event_id), str(body.get("team_id", "")))
            if not first:
                log.info("skipping event %s delivered again", event_id)
                return BoltResponse(status=200, body="")
        return next()

    messages.register(app, services)
    commands.register(app, services)
    actions.register(app, services)
    home.register(app, services)

    @app.error
    def on_error(error: Exception, body: dict) -> None:
        log.error(
            "listener failed for %s: %s", body.get("type") or body.get("command"), error, exc_info=error
        )

    return app, services
