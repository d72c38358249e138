"""The app factory: a failing listener gets a reply, not Slack's dispatch_failed."""

from __future__ import annotations

import json

import pytest

from tests.slack_harness import RunningApp


def test_a_command_whose_listener_fails_gets_a_reply_not_dispatch_failed(
    running: RunningApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    from bot import projects

    def database_away(*_args: object, **_kwargs: object) -> None:
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

    monkeypatch.setattr(projects, "channel_project", database_away)
    reply = running.command("status")
    assert reply.status == 200
    body = json.loads(reply.body)
    assert body["response_type"] == "ephemeral" and "try again in a minute" in body["text"]
    assert "Traceback" not in reply.body and "OperationalError" not in reply.body
