"""The app manifest: `manifest.yaml` at the project root is the one source. Pasted into
api.slack.com, validated by the tests against Slack's schema, and handed to the Slack CLI
as JSON by this module's `get-manifest` hook (slack.json)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from indexer.yaml_text import parse_yaml

MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yaml"


def load_manifest(path: Path = MANIFEST) -> dict:
    return parse_yaml(path.read_text(encoding="utf-8"))


def main(argv: list[str] | None = None) -> None:
    """The Slack CLI's get-manifest hook: the manifest as JSON, in the protocol the CLI asked for."""
    from slack_cli_hooks.protocol import build_protocol

    build_protocol(argv if argv is not None else sys.argv).respond(json.dumps(load_manifest()))


if __name__ == "__main__":
    main()
