"""App Home: the user's projects with their scores and open blocking gaps, and how to use mlready."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_bolt import App

from bot import history
from bot.slack.jobs import home as home_jobs

if TYPE_CHECKING:
    from bot.slack.services import Services

log = logging.getLogger(__name__)


def on_home_opened(services: Services, event: dict, body: dict) -> None:
    if event.get("tab") != "home" or not isinstance(event.get("user"), str):
        return
    team_id = body.get("team_id", "")
    with services.db.session() as session:
        event_id = history.event_id_of(body)
        if event_id is None or history.claim_event(session, event_id, team_id):
            services.outbox.add(session, home_jobs.PUBLISH, team_id, {"user": event["user"]})


def register(app: App, services: Services) -> None:
    @app.event("app_home_opened")
    def home_opened(event: dict, body: dict) -> None:
        on_home_opened(services, event, body)
