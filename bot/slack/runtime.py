"""Assemble the running app from settings: database (migrated), answer engine, Bolt app."""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_bolt import App
from slack_sdk import WebClient

from bot.answers import AnswerEngine
from bot.db.migrate import open_database
from bot.settings import Settings
from bot.slack.app import build_app
from bot.slack.services import Services

log = logging.getLogger(__name__)


def create_runtime(
    settings: Settings,
    engine_factory: Callable[[], AnswerEngine] | None = None,
    client: WebClient | None = None,
) -> tuple[App, Services]:
    db = open_database(settings.database_url)

    def default_engine() -> AnswerEngine:
        from bot.knowledge_base import open_engine

        return open_engine(settings, notify=log.warning)

    return build_app(settings, db, engine_factory or default_engine, client)
