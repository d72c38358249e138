"""Logs: secrets never appear in them."""

from __future__ import annotations

from pathlib import Path

from bot.settings import Settings


def test_secrets_never_logged(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, SLACK_BOT_TOKEN="xoxb-very-secret")  # type: ignore[call-arg]
    assert "xoxb-very-secret" not in repr(settings) and "xoxb-very-secret" not in str(settings)
