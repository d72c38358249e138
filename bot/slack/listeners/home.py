"""App Home: how to use mlready (project scores join it with the projects work)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.commands import help_text
from bot.slack import blocks as ui

if TYPE_CHECKING:
    from bot.slack.app import Services

log = logging.getLogger(__name__)


def register(app: App, services: Services) -> None:
    @app.event("app_home_opened")
    def on_home_opened(event: dict, client: WebClient) -> None:
        if event.get("tab") != "home":
            return
        services.worker.submit(_publish, client, event["user"])


def _publish(client: WebClient, user_id: str) -> None:
    try:
        client.views_publish(user_id=user_id, view=ui.home_view(help_text()).to_dict())
    except SlackApiError as exc:
        log.error("publishing App Home for user %s failed: %s", user_id, exc)
