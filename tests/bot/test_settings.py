"""Settings from the environment, `.env` and secret files."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import Settings


def test_secret_files_fill_what_the_environment_leaves_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "SLACK_BOT_TOKEN").write_text("xoxb-from-a-file\n", encoding="utf-8")
    (tmp_path / "mlready_database_url").write_text("postgresql://mlready@db/mlready", encoding="utf-8")
    (tmp_path / "SLACK_SIGNING_SECRET").write_text("from-file", encoding="utf-8")
    monkeypatch.setenv("MLREADY_SECRETS_DIR", str(tmp_path))
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "from-env")
    for name in ("SLACK_BOT_TOKEN", "MLREADY_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no .env here
    settings = Settings()
    assert (
        settings.slack_bot_token is not None
        and settings.slack_bot_token.get_secret_value() == "xoxb-from-a-file"
    )
    assert settings.database_url == "postgresql://mlready@db/mlready"
    assert settings.slack_signing_secret is not None
    assert settings.slack_signing_secret.get_secret_value() == "from-env"  # the environment wins


def test_a_missing_secrets_folder_is_no_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLREADY_SECRETS_DIR", str(tmp_path / "absent"))
    monkeypatch.chdir(tmp_path)
    assert Settings().health_port == 8080
