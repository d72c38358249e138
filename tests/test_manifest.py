"""The shipped manifest against Slack's manifest schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[1]


SCHEMA = ROOT.parent / "shared" / "reference" / "slack-manifest-schema" / "manifest.schema.1.0.0.json"


def test_manifest_matches_slacks_schema() -> None:
    assert SCHEMA.is_file(), f"Slack's manifest schema is expected at {SCHEMA}"
    schema = json.loads(SCHEMA.read_text())
    manifest = yaml.safe_load((ROOT / "manifest.yaml").read_text())
    jsonschema.validate(manifest, schema)
    commands = [c["command"] for c in manifest["features"]["slash_commands"]]
    assert commands == ["/mlready"]
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert {"app_mention", "message.im"} <= set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
