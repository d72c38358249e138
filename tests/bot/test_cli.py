"""The real `mlready` command line, run as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import write_doc


def run(*args: str, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, **(env_extra or {}))
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def test_help_is_fast_and_does_not_import_the_model() -> None:
    started = time.perf_counter()
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from bot.cli import app; "
            "from typer.testing import CliRunner; r = CliRunner().invoke(app, ['--help']); "
            "print(r.output); print('ST', 'sentence_transformers' in sys.modules, "
            "'torch' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert time.perf_counter() - started < 10  # generous; bench/ measures the real figure
    assert "ST False False" in result.stdout
    for command in ("index", "ask", "eval", "check"):
        assert command in result.stdout


def test_index_with_bad_knowledge_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "team-playbooks"
    write_doc(bad, "kpis-team", category="astrology")
    index_dir = tmp_path / "index"
    result = run("index", "--knowledge", str(bad), env_extra={"MLREADY_INDEX_DIR": str(index_dir)})
    assert result.returncode == 1
    assert str(bad / "kpis-team.md") in result.stderr
    assert "field 'category'" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (index_dir / "CURRENT").exists()


def test_check_validates_extra_folder(tmp_path: Path) -> None:
    extra = tmp_path / "playbooks"
    write_doc(extra, "kpis-team-playbook")
    result = run("check", "--knowledge", str(extra))
    assert result.returncode == 0, result.stderr
    assert "OK:" in result.stdout


def test_bad_setting_is_named(tmp_path: Path) -> None:
    result = run("check", env_extra={"MLREADY_DECLINE_THRESHOLD": "lots"})
    assert result.returncode == 1
    assert "decline_threshold" in result.stderr
