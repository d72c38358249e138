"""Multi-workspace installation (OAuth v2) with slack_sdk's SQLAlchemy stores, and the
per-workspace Web API clients that code outside a request (reminders) needs."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Engine

from bot.errors import MlreadyError
from bot.settings import Settings
from bot.slack.client import make_client
from indexer.yaml_text import parse_yaml

MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yaml"
# The bot scopes the manifest declares; a test keeps the two in step.
BOT_SCOPES = [
    "app_mentions:read",
    "channels:history",
    "groups:history",
    "im:history",
    "mpim:history",
    "chat:write",
    "commands",
    "im:write",
    "users:read",
    "files:write",
    "dnd:read",  # reminders wait for people in do-not-disturb
]
STATE_EXPIRY_SECONDS = 600


def manifest_scopes(path: Path = MANIFEST) -> list[str]:
    return parse_yaml(path.read_text(encoding="utf-8"))["oauth_config"]["scopes"]["bot"]


def oauth_enabled(settings: Settings) -> bool:
    return bool(settings.slack_client_id and settings.slack_client_secret)


def installation_store(settings: Settings, engine: Engine) -> SQLAlchemyInstallationStore:
    assert settings.slack_client_id
    return SQLAlchemyInstallationStore(client_id=settings.slack_client_id, engine=engine)


def oauth_settings(settings: Settings, engine: Engine) -> OAuthSettings:
    assert settings.slack_client_id and settings.slack_client_secret
    return OAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.get_secret_value(),
        scopes=BOT_SCOPES,
        installation_store=installation_store(settings, engine),
        installation_store_bot_only=True,
        state_store=SQLAlchemyOAuthStateStore(expiration_seconds=STATE_EXPIRY_SECONDS, engine=engine),
    )


def client_factory(
    settings: Settings, engine: Engine, shared: WebClient | None = None
) -> Callable[[str], WebClient]:
    """team_id -> a WebClient with that workspace's bot token. With one workspace that is
    always `shared` (or a client made from SLACK_BOT_TOKEN)."""
    if not oauth_enabled(settings):
        if shared is None:
            settings.require("slack_bot_token")
            assert settings.slack_bot_token
            shared = make_client(
                settings.slack_bot_token.get_secret_value(),
                settings.slack_api_url,
                settings.slack_max_retries,
            )
        single = shared
        return lambda _team_id: single
    store = installation_store(settings, engine)
    clients: dict[str, WebClient] = {}
    lock = threading.Lock()

    def for_team(team_id: str) -> WebClient:
        bot = store.find_bot(enterprise_id=None, team_id=team_id)
        if bot is None or not bot.bot_token:
            raise MlreadyError(
                f"mlready is not installed in workspace {team_id}; install it at /slack/install"
            )
        with lock:
            if bot.bot_token not in clients:
                clients[bot.bot_token] = make_client(
                    bot.bot_token, settings.slack_api_url, settings.slack_max_retries
                )
            return clients[bot.bot_token]

    return for_team
