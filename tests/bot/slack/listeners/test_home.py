"""App Home is published when opened."""

from __future__ import annotations

import json

from fake_slack.web_api import LocalSlackAPI
from tests.slack_harness import RunningApp


def test_app_home_is_published(running: RunningApp, slack: LocalSlackAPI) -> None:
    running.event({"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"})
    view = slack.wait_for("views.publish", 1)[0].params
    assert view["user_id"] == "U1"
    assert view["view"]["type"] == "home"
    assert "/mlready ask" in json.dumps(view["view"])
