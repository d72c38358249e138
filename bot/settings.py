"""Settings from the environment or a `.env` file (pydantic-settings)."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SecretsSettingsSource,
    SettingsConfigDict,
)

from bot.checklist import shipped_checklist_path
from bot.errors import MlreadyError
from indexer.knowledge import shipped_knowledge_dir

if TYPE_CHECKING:
    from bot.db.retention import Retention

# Tuned on bench/devset.yaml (see bench/RESULTS.md): below this cosine similarity between
# the question and the closest passage, a question is declined as off-topic.
DEFAULT_DECLINE_THRESHOLD = 0.345
SLACK_API_URL = "https://slack.com/api/"
DEFAULT_SECRETS_DIR = "/run/secrets"


def _paths(setting: str) -> list[Path]:
    parts = setting.replace(",", os.pathsep).split(os.pathsep)
    return [Path(p).expanduser() for p in parts if p.strip()]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MLREADY_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # Knowledge and answers
    index_dir: Path = Field(default=Path(".mlready/index"))
    knowledge_dirs: str = Field(default="", description="extra knowledge folders, separated by ':' or ','")
    model_path: Path | None = None
    # The readiness checklist (same schema as knowledge/checklist.yaml); the shipped one when unset
    checklist_file: Path | None = None
    # Folders of a workspace's checklist templates (*.yaml), separated by ':' or ','
    checklist_dirs: str = ""
    decline_threshold: float = Field(default=DEFAULT_DECLINE_THRESHOLD, ge=0.0, le=1.0)

    # Optional generated summary above the quoted lines, from any OpenAI-compatible
    # chat-completions endpoint; off unless the base URL is set
    llm_base_url: str | None = None
    llm_model: str = "gpt-4o-mini"
    llm_api_key: SecretStr | None = None
    llm_timeout_seconds: float = Field(default=8.0, gt=0, le=120)

    # Logs on stderr: text lines, or one JSON object per line
    log_format: Literal["text", "json"] = "text"

    # Database
    database_url: str = "sqlite:///mlready.db"

    # Slack (the three Slack names are Slack's own, without the MLREADY_ prefix)
    slack_bot_token: SecretStr | None = Field(default=None, validation_alias=AliasChoices("SLACK_BOT_TOKEN"))
    slack_signing_secret: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_SIGNING_SECRET")
    )
    slack_app_token: SecretStr | None = Field(default=None, validation_alias=AliasChoices("SLACK_APP_TOKEN"))
    # Both set: several workspaces install the app through /slack/install (OAuth v2)
    slack_client_id: str | None = Field(default=None, validation_alias=AliasChoices("SLACK_CLIENT_ID"))
    slack_client_secret: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_CLIENT_SECRET")
    )
    slack_api_url: str = SLACK_API_URL
    slack_max_retries: int = Field(default=5, ge=0, le=20)

    # Answering work runs off the request path, in its own bounded queue
    answer_workers: int = Field(default=2, ge=1, le=32)
    # Questions waiting to be answered, across all replicas (they share the job table)
    answer_queue_size: int = Field(default=500, ge=1, le=100_000)

    # HTTP mode: connections uvicorn serves at once (beyond that it answers 503), seconds an idle
    # keep-alive connection stays open, and a separate port (on 127.0.0.1 unless set) for
    # /metrics, so it need not be reachable where Slack's requests come in
    http_max_connections: int = Field(default=200, ge=1, le=10_000)
    http_keep_alive_seconds: float = Field(default=5, gt=0, le=300)
    metrics_port: int | None = Field(default=None, ge=1, le=65_535)
    metrics_host: str = "127.0.0.1"
    # Socket Mode has no HTTP endpoint of its own: /healthz, /readyz and /metrics are served on
    # this side port instead (0 = not at all), for probes and scrapers inside the cluster
    health_port: int = Field(default=8080, ge=0, le=65_535)
    health_host: str = "0.0.0.0"

    # Bookkeeping kept this many days: handled event ids and finished jobs, and threads in
    # which follow-ups are answered without a mention; pruned by `mlready serve` and `mlready db prune`
    event_retention_days: float = Field(default=7, gt=0, le=3650)
    thread_retention_days: float = Field(default=90, gt=0, le=3650)

    # Reminders: how often `mlready serve` looks for due ones (0 = never; use `mlready remind
    # --once` from cron instead), and how long a blocking item may stay open before a nudge
    reminder_interval_seconds: float = Field(default=60, ge=0, le=86_400)
    reminder_grace_days: float = Field(default=7, gt=0, le=365)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """The environment, then `.env`, then one file per setting in MLREADY_SECRETS_DIR
        (/run/secrets by default, where Docker and Kubernetes mount secrets), named like the
        variable: `SLACK_BOT_TOKEN`, `MLREADY_DATABASE_URL` (any case)."""
        folder = Path(os.environ.get("MLREADY_SECRETS_DIR", DEFAULT_SECRETS_DIR))
        if not folder.is_dir():
            return init_settings, env_settings, dotenv_settings
        return (
            init_settings,
            env_settings,
            dotenv_settings,
            SecretsSettingsSource(settings_cls, secrets_dir=folder),
        )

    @property
    def extra_knowledge_dirs(self) -> list[Path]:
        return _paths(self.knowledge_dirs)

    @property
    def template_dirs(self) -> list[Path]:
        return _paths(self.checklist_dirs)

    @property
    def retention(self) -> Retention:
        from bot.db.retention import Retention  # SQLAlchemy: only for the commands that prune

        return Retention(
            events=timedelta(days=self.event_retention_days),
            threads=timedelta(days=self.thread_retention_days),
        )

    @property
    def checklist_path(self) -> Path:
        return self.checklist_file.expanduser() if self.checklist_file else shipped_checklist_path()

    def all_knowledge_dirs(self, extra: list[Path] | None = None) -> list[Path]:
        dirs = [shipped_knowledge_dir(), *self.extra_knowledge_dirs, *(extra or [])]
        unique: list[Path] = []
        for d in dirs:
            if d.resolve() not in {u.resolve() for u in unique}:
                unique.append(d)
        return unique

    def require(self, *names: str) -> None:
        """Stop with a message naming each missing required setting."""
        env_names = {
            "slack_bot_token": "SLACK_BOT_TOKEN",
            "slack_signing_secret": "SLACK_SIGNING_SECRET",
            "slack_app_token": "SLACK_APP_TOKEN",
            "slack_client_id": "SLACK_CLIENT_ID",
            "slack_client_secret": "SLACK_CLIENT_SECRET",
        }
        missing = [env_names.get(n, f"MLREADY_{n.upper()}") for n in names if not getattr(self, n)]
        if missing:
            raise MlreadyError(
                "missing required setting(s): "
                + ", ".join(missing)
                + "; set them in the environment or in a .env file (see README, 'Settings')"
            )
