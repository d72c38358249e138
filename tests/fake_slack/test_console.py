"""`mlready chat`: the terminal console driving the real app through the local Slack."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from bot.answers import AnswerEngine
from bot.settings import Settings
from fake_slack.console import Console
from tests.conftest import clean_env


def test_chat_with_piped_input(shipped_index: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat"],
        input="/mlready help\nhow do we pick a KPI?\n1\nwhat is the capital of France?\n",
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        check=False,
        env=clean_env(MLREADY_INDEX_DIR=str(shipped_index)),
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "> /mlready help" in out and "/mlready checklist" in out
    assert "Sources" in out and "👍 Helpful" in out
    # Button 1 is "Read the guide": the console shows the modal with the whole guide.
    assert "[1] 📖 Read the guide" in out
    assert "── mlready (window: Guide)" in out and "*What to do*" in out and "*Sources*" in out
    assert "outside what I know" in out
    assert (tmp_path / "mlready.db").is_file()  # embedded default: SQLite in the working dir


def test_console_buttons_share_and_unknown(shipped_index: Path, tmp_path: Path, engine: AnswerEngine) -> None:
    out = io.StringIO()
    settings = Settings(index_dir=shipped_index, database_url=f"sqlite:///{tmp_path / 'c.db'}")
    console = Console(settings, out, engine_factory=lambda: engine)
    try:
        console.handle("/mlready ask how do we get sign-off from stakeholders?")
        text = out.getvalue()
        assert "Looking that up" in text and "Share in channel" in text
        share = next(n for n, b in console.buttons.items() if b.action["action_id"] == "answer_share")
        console.handle(str(share))
        assert "shared an answer" in out.getvalue()
        console.handle("99")
        assert "there is no button [99]" in out.getvalue()
        console.handle("/other thing")
        assert "only /mlready is known" in out.getvalue()
    finally:
        console.close()
