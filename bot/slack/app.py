"""The app factory: the Bolt app with its listeners, the services they call and the job runner,
assembled from settings (`create_runtime`) or from parts (`build_app`, used by tests)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from slack_bolt import App
from slack_sdk import WebClient

from bot.answers import AnswerEngine
from bot.db.migrate import open_database
from bot.db.session import Database
from bot.jobs import JobRunner
from bot.reminders.delivery import ReminderRun
from bot.settings import Settings
from bot.slack.client import make_client
from bot.slack.jobs import register_handlers
from bot.slack.jobs.answers import AnswerService
from bot.slack.jobs.context import JobContext
from bot.slack.listeners import (
    actions,
    checklist,
    commands,
    guides,
    home,
    messages,
    projects,
    reminders,
    signoff,
)
from bot.slack.oauth import client_factory, oauth_enabled, oauth_settings
from bot.slack.outbox import Outbox
from bot.slack.reminder_scheduler import SlackMessenger
from bot.slack.services import Services

log = logging.getLogger(__name__)


def build_app(
    settings: Settings,
    db: Database,
    engine_factory: Callable[[], AnswerEngine],
    client: WebClient | None = None,
    socket_mode: bool = False,
) -> tuple[App, Services]:
    oauth = oauth_enabled(settings)
    # With OAuth, each workspace's token comes from its installation instead of SLACK_BOT_TOKEN.
    # Socket Mode's events come over the app token's own connection: nothing to sign.
    settings.require(
        *(() if oauth else ("slack_bot_token",)), *(() if socket_mode else ("slack_signing_secret",))
    )
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    if client is None:
        token = (
            settings.slack_bot_token.get_secret_value() if settings.slack_bot_token and not oauth else None
        )
        client = make_client(token, settings.slack_api_url, settings.slack_max_retries)
    app = App(
        client=client,
        signing_secret=secret,
        request_verification_enabled=not socket_mode,
        # Listeners only parse, store and ack, so they run on the request thread and the ack
        # never waits for a free thread of Bolt's pool; slow work is a durable job (bot/jobs.py).
        process_before_response=True,
        logger=logging.getLogger("bot.slack.bolt"),
        oauth_settings=oauth_settings(settings, db.engine) if oauth else None,
    )
    from bot.knowledge_base import load_knowledge

    knowledge = load_knowledge(settings)
    runner = JobRunner(db, settings.answer_workers)
    services = Services(
        answers=AnswerService(engine_factory, db, settings.slack_max_retries, knowledge.templates),
        jobs=runner,
        outbox=Outbox(db, runner, settings.answer_queue_size),
        db=db,
        templates=knowledge.templates,
        docs={d.id: d for d in knowledge.docs},
        reminders=ReminderRun(db, knowledge.templates, None, timedelta(days=settings.reminder_grace_days)),
    )
    client_for = client_factory(settings, db.engine, shared=client)
    services.reminders.messenger = SlackMessenger(client_for, db, knowledge.templates, services.doc_titles)
    context = JobContext(db, client_for, knowledge.templates, services.docs, services.reminders)
    register_handlers(services.jobs, context, services.answers)
    services.jobs.start()

    # A retried delivery of an event (X-Slack-Retry-Num) is recognised by the listener that
    # handles it: it records the event id in the transaction that stores its job, so an event
    # whose handling failed is not marked, and a retry of one that was handled stores nothing.
    reminders.register(app, services)
    messages.register(app, services)
    commands.register(app, services)
    actions.register(app, services)
    guides.register(app, services)
    projects.register(app, services)
    checklist.register(app, services)
    signoff.register(app, services)
    home.register(app, services)

    @app.error
    def on_error(error: Exception, body: dict) -> None:
        log.error(
            "listener failed for %s: %s", body.get("type") or body.get("command"), error, exc_info=error
        )

    return app, services


def create_runtime(
    settings: Settings,
    engine_factory: Callable[[], AnswerEngine] | None = None,
    client: WebClient | None = None,
    socket_mode: bool = False,
) -> tuple[App, Services]:
    """The app on the configured database (migrated); the answer engine loads on first use."""
    db = open_database(settings.database_url)

    def default_engine() -> AnswerEngine:
        from bot.knowledge_base import open_engine

        return open_engine(settings, notify=log.warning)

    return build_app(settings, db, engine_factory or default_engine, client, socket_mode)
