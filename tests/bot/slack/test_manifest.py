"""The one manifest source against Slack's schema, and what the Slack CLI reads from the project."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from bot.slack.manifest import MANIFEST, load_manifest

ROOT = Path(__file__).resolve().parents[3]
SCHEMA = ROOT.parent / "shared" / "reference" / "slack-manifest-schema" / "manifest.schema.1.0.0.json"


@pytest.mark.skipif(not SCHEMA.is_file(), reason=f"Slack's manifest schema is not at {SCHEMA} (../shared)")
def test_manifest_matches_slacks_schema() -> None:
    jsonschema.validate(load_manifest(), json.loads(SCHEMA.read_text()))


def test_manifest_declares_what_the_app_listens_to() -> None:
    manifest = load_manifest()
    assert MANIFEST == ROOT / "manifest.yaml"
    commands = manifest["features"]["slash_commands"]
    assert [c["command"] for c in commands] == ["/mlready"] and commands[0]["should_escape"] is True
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert {"app_mention", "message.im", "app_home_opened"} <= set(
        manifest["settings"]["event_subscriptions"]["bot_events"]
    )
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert {"users:read", "chat:write", "commands", "files:write"} <= set(
        manifest["oauth_config"]["scopes"]["bot"]
    )


def test_the_slack_cli_gets_the_same_manifest_in_the_protocol_it_asks_for() -> None:
    hooks = json.loads((ROOT / "slack.json").read_text())["hooks"]
    assert hooks["get-hooks"] == "python3 -m slack_cli_hooks.hooks.get_hooks"
    module = hooks["get-manifest"].split(" -m ")[1]
    plain = subprocess.run(
        [sys.executable, "-m", module], capture_output=True, text=True, cwd=ROOT, check=True, timeout=60
    )
    assert json.loads(plain.stdout) == load_manifest()
    bounded = subprocess.run(
        [sys.executable, "-m", module, "--protocol", "message-boundaries", "--boundary", "XYZ"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
        timeout=60,
    )
    assert bounded.stdout.startswith("XYZ") and json.loads(bounded.stdout.split("XYZ")[1]) == load_manifest()
    # the start hook runs ./app.py, which is `mlready serve` (tested in test_serve.py)
    assert "serve" in (ROOT / "app.py").read_text()
