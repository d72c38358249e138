"""`mlready chat`: the terminal console driving the real app through the local Slack."""

from __future__ import annotations

import io
import re
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
    # The answer's first button is "Read the guide" ("1" clicks it in the latest message): the
    # console shows the modal with the whole guide.
    assert "[a1] 📖 Read the guide" in out
    window = out.split("── mlready (window: Guide)", 1)[1]
    assert "\nWhat to do\n" in window and "\nSources\n" in window and "*" not in window.split("──")[0]
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
        assert "only /mlready and /as are known" in out.getvalue()
    finally:
        console.close()


def label_of(console: Console, action_id: str) -> str:
    return next(k for k, b in reversed(console.buttons.items()) if b.action["action_id"] == action_id)


def test_console_windows_people_files_and_markup(
    shipped_index: Path, tmp_path: Path, engine: AnswerEngine
) -> None:
    out = io.StringIO()
    settings = Settings(index_dir=shipped_index, database_url=f"sqlite:///{tmp_path / 'c.db'}")
    console = Console(settings, out, engine_factory=lambda: engine, files=tmp_path / "files")
    try:
        console.handle("/mlready project create Churn model")
        assert "── mlready (in #cconsole)\n🎯 @you created the ML project Churn model" in out.getvalue()

        console.handle("/mlready checklist kpis")
        console.handle(label_of(console, "kpi_open"))
        for line in ("monthly churn", "lots", "3.5", "%", "", "@lee"):
            console.handle(line)
        text = out.getvalue()
        assert "── mlready (window: Define a KPI)" in text and "   Baseline (today) (required):" in text
        assert "⚠️ Baseline (today): Enter a number, e.g. 4.2" in text and console.form is not None
        console.handle("4.2")
        assert console.form is None
        assert "📈 @you recorded the KPI monthly churn: 4.2 → 3.5 %" in out.getvalue()
        assert "✅ KPI: monthly churn: 4.2 → 3.5 % (owner @lee)" in out.getvalue()

        console.handle("/mlready checklist objectives")
        console.handle(label_of(console, "checklist_answer_yes"))
        assert re.search(r"Answer: Yes by @you, \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC", out.getvalue())

        console.handle("/mlready signoff @dana objectives and KPIs")
        assert "── mlready (direct message to @dana)" in out.getvalue()
        console.handle("/as @dana")
        console.handle(label_of(console, "signoff_approve"))
        assert "✅ @dana approved objectives and KPIs." in out.getvalue()

        console.handle("/as @you")
        console.handle("/mlready export")
        saved = tmp_path / "files" / "Readiness-report-Churn-model.md"
        assert f"uploaded a file, saved to {saved}" in out.getvalue()
        assert saved.read_text(encoding="utf-8").startswith("# Readiness report: Churn model")

        console.handle("/mlready status")
        assert all(re.fullmatch(r"[a-z]\d{1,2}", key) for key in console.buttons)
        assert "<@" not in out.getvalue() and "<!date" not in out.getvalue()
    finally:
        console.close()
