"""App Home: the user's projects with their scores and open blocking gaps, and how to use mlready."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import projects
from bot.commands import help_text
from bot.readiness import project_state
from bot.slack import project_blocks as pb

if TYPE_CHECKING:
    from bot.slack.app import Services

log = logging.getLogger(__name__)


def register(app: App, services: Services) -> None:
    @app.event("app_home_opened")
    def on_home_opened(event: dict, body: dict, client: WebClient) -> None:
        if event.get("tab") != "home" or not event.get("user"):
            return
        services.worker.submit(publish_home, services, client, body.get("team_id", ""), event["user"])


def publish_home(services: Services, client: WebClient, team_id: str, user_id: str) -> None:
    with services.db.session() as session:
        states = [
            project_state(session, p, services.checklist)
            for p in projects.user_projects(session, team_id, user_id)
        ]
        view = pb.home_view(help_text(), states)
    try:
        client.views_publish(user_id=user_id, view=view.to_dict())
    except SlackApiError as exc:
        log.error("publishing App Home for user %s failed: %s", user_id, exc)
