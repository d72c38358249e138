"""Builds the Bolt app: middleware, listeners, and the services they call."""

from __future__ import annotations

import contextlib
import logging
import threading
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient
from sqlalchemy import text

from bot import history
from bot.answers import AnswerEngine
from bot.checklist import Checklist
from bot.db.session import Database
from bot.reminders.delivery import ReminderRun
from bot.settings import Settings
from bot.slack.answering import AnswerService
from bot.slack.client import make_client
from bot.slack.listeners import actions, checklist, commands, guides, home, messages, reminders, signoff
from bot.slack.oauth import client_factory, oauth_enabled, oauth_settings
from bot.slack.reminders import SlackMessenger
from bot.slack.worker import Worker
from indexer.knowledge import KnowledgeDoc

log = logging.getLogger(__name__)

HANDLED_EVENTS = {"message", "app_mention", "app_home_opened"}


@dataclass
class Services:
    """What listeners need; handed to each listener group's register()."""

    answers: AnswerService
    worker: Worker
    db: Database
    checklist: Checklist
    docs: dict[str, KnowledgeDoc]
    reminders: ReminderRun
    _stripes: list[threading.Lock] = field(default_factory=lambda: [threading.Lock() for _ in range(64)])

    @property
    def doc_titles(self) -> dict[str, str]:
        return {doc_id: doc.meta.title for doc_id, doc in self.docs.items()}

    @contextlib.contextmanager
    def message_lock(self, channel: str, ts: str) -> Iterator[None]:
        """One render of a message at a time, so the last update shows the stored state;
        across processes on PostgreSQL through an advisory lock."""
        key = f"{channel}:{ts}"
        with self._stripes[zlib.crc32(key.encode()) % len(self._stripes)]:
            if self.db.engine.dialect.name != "postgresql":
                yield
                return
            with self.db.engine.connect() as conn:
                conn.execute(text("SELECT pg_advisory_lock(hashtext(:k))"), {"k": key})
                try:
                    yield
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(hashtext(:k))"), {"k": key})
                    conn.commit()


def build_app(
    settings: Settings,
    db: Database,
    engine_factory: Callable[[], AnswerEngine],
    client: WebClient | None = None,
) -> tuple[App, Services]:
    oauth = oauth_enabled(settings)
    # With OAuth, each workspace's token comes from its installation instead of SLACK_BOT_TOKEN.
    settings.require(*(() if oauth else ("slack_bot_token",)), "slack_signing_secret")
    assert settings.slack_signing_secret
    if client is None:
        token = (
            settings.slack_bot_token.get_secret_value() if settings.slack_bot_token and not oauth else None
        )
        client = make_client(token, settings.slack_api_url, settings.slack_max_retries)
    app = App(
        client=client,
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        # Listeners only parse, ack and enqueue, so they run on the request thread and the
        # ack never waits for a free thread of Bolt's pool; slow work goes to `worker`.
        process_before_response=True,
        logger=logging.getLogger("bot.slack.bolt"),
        oauth_settings=oauth_settings(settings, db.engine) if oauth else None,
    )
    from bot.knowledge_base import load_knowledge

    knowledge = load_knowledge(settings)
    services = Services(
        answers=AnswerService(engine_factory, db, settings.slack_max_retries, knowledge.checklist),
        worker=Worker(settings.answer_workers, settings.answer_queue_size),
        db=db,
        checklist=knowledge.checklist,
        docs={d.id: d for d in knowledge.docs},
        reminders=ReminderRun(db, knowledge.checklist, None, timedelta(days=settings.reminder_grace_days)),
    )
    client_for = client_factory(settings, db.engine, shared=client)
    services.reminders.messenger = SlackMessenger(client_for, db, knowledge.checklist, services.doc_titles)

    @app.middleware
    def skip_retried_events(body: dict, next: Callable[[], BoltResponse]) -> BoltResponse | None:
        """A retried delivery (X-Slack-Retry-Num) of an event already handled is acked only."""
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        event_type = (body.get("event") or {}).get("type")
        # Only events a listener handles are remembered; Slack's ids are short, others are junk.
        if isinstance(event_id, str) and 0 < len(event_id) <= 64 and event_type in HANDLED_EVENTS:
            with db.session() as session:
                first = history.claim_event(session, str(event_id), str(body.get("team_id", "")))
            if not first:
                log.info("skipping event %s delivered again", event_id)
                return BoltResponse(status=200, body="")
        return next()

    reminders.register(app, services)
    messages.register(app, services)
    commands.register(app, services)
    actions.register(app, services)
    guides.register(app, services)
    checklist.register(app, services)
    signoff.register(app, services)
    home.register(app, services)

    @app.error
    def on_error(error: Exception, body: dict) -> None:
        log.error(
            "listener failed for %s: %s", body.get("type") or body.get("command"), error, exc_info=error
        )

    return app, services
