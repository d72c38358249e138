"""What `/metrics` counts, read through the real endpoint before and after real traffic."""

from __future__ import annotations

import re

import pytest

from fake_slack.web_api import LocalSlackAPI
from tests.slack_harness import RunningApp


@pytest.fixture
def running(start_app) -> RunningApp:
    return start_app()


def scrape(running: RunningApp) -> dict[str, float]:
    reply = running.get("/metrics")
    assert reply.status == 200
    values = {}
    for line in reply.body.splitlines():
        match = re.match(r"^(mlready_\w+(?:\{[^}]*\})?) ([0-9.e+-]+)$", line)
        if match:
            values[match.group(1)] = float(match.group(2))
    return values


def test_metrics_count_requests_answers_declines_and_slack_errors(
    running: RunningApp, slack: LocalSlackAPI
) -> None:
    before = scrape(running)
    slack.fail_next("response_url", status=429, times=1, retry_after=1)
    slack.fail_next("response_url", status=500, times=1)
    assert running.command("ask how do we pick a KPI for churn?", response_name="a").status == 200
    # Like nothing in out_of_scope.yaml: a plain decline.
    assert running.command("ask asdfgh jkl qwerty", response_name="b").status == 200
    # Near enough to a passage to answer, but taken for a question in out_of_scope.yaml.
    assert (
        running.command("ask what training plan should i follow for a 10k run", response_name="c").status
        == 200
    )
    assert running.post("x=1", "application/x-www-form-urlencoded", sign=False).status == 401
    running.idle()
    slack.wait_for("response_url", 3)
    after = scrape(running)

    def grew(name: str) -> float:
        return after.get(name, 0) - before.get(name, 0)

    assert grew('mlready_http_requests_total{kind="command",status="200"}') == 3
    assert grew('mlready_http_requests_total{kind="rejected",status="401"}') == 1
    assert grew('mlready_ack_seconds_count{kind="command"}') == 3
    assert grew('mlready_answers_total{outcome="answered"}') == 1
    assert grew('mlready_answers_total{outcome="declined"}') == 1
    assert grew('mlready_answers_total{outcome="out_of_scope"}') == 1
    assert grew('mlready_slack_api_errors_total{kind="ratelimited"}') == 1
    assert grew('mlready_slack_api_errors_total{kind="server_error"}') == 1
