"""Multi-workspace installation: /slack/install, /slack/oauth_redirect, and requests from the
installed workspace answered with its own token (slack_sdk's SQLAlchemy stores)."""

from __future__ import annotations

import html
import json
import re
import urllib.request

import pytest
from pydantic import SecretStr
from sqlalchemy import text

from bot.db.models import utcnow
from bot.slack.oauth import BOT_SCOPES, manifest_scopes
from fake_slack import payloads
from fake_slack.web_api import LocalSlackAPI
from tests.slack_harness import RunningApp


@pytest.fixture
def running(start_app) -> RunningApp:
    return start_app(
        slack_client_id="111.222", slack_client_secret=SecretStr("client-secret"), reminder_interval_seconds=0
    )


def fetch(running: RunningApp, path: str, cookie: str = "") -> tuple[int, dict, str]:
    request = urllib.request.Request(f"http://127.0.0.1:{running.port}{path}", headers={"Cookie": cookie})
    with urllib.request.urlopen(request, timeout=10) as resp:
        return resp.status, dict(resp.headers), resp.read().decode()


def install(running: RunningApp, team: str) -> None:
    status, headers, page = fetch(running, "/slack/install")
    url = html.unescape(re.search(r'href="([^"]+oauth/v2/authorize[^"]+)"', page).group(1))
    assert status == 200 and "client_id=111.222" in url and "scope=app_mentions:read," in url
    state = re.search(r"state=([\w-]+)", url).group(1)
    cookie = headers["set-cookie"].split(";")[0]
    status, _, done = fetch(running, f"/slack/oauth_redirect?code={team}&state={state}", cookie)
    assert status == 200 and "slack://app?team=T222" in done  # the success page opens Slack


def test_manifest_and_oauth_scopes_agree() -> None:
    assert manifest_scopes() == BOT_SCOPES


def test_install_then_requests_use_that_workspaces_token(running: RunningApp, slack: LocalSlackAPI) -> None:
    install(running, "T222")
    with running.services.db.engine.connect() as conn:
        rows = conn.execute(text("SELECT team_id, bot_token FROM slack_bots")).all()
    assert rows == [("T222", "xoxb-installed-T222")]

    body, ctype = payloads.slash_command(
        "project create Fraud model",
        team_id="T222",
        channel_id="C9",
        user_id="U5",
        response_url=slack.response_url("p"),
    )
    reply = running.post(body, ctype)
    assert reply.status == 200 and "created the ML project *Fraud model*" in json.loads(reply.body)["text"]

    # A reminder, sent outside any request, uses the installed workspace's token too.
    with running.services.db.session() as s:
        project_id = s.execute(text("SELECT id FROM projects")).scalar_one()
    outcomes = running.services.reminders.run_now(project_id, utcnow())
    assert {o.status for o in outcomes} == {"sent"}
    posts = slack.calls_to("chat.postMessage")
    assert posts and {c.token for c in posts} == {"xoxb-installed-T222"}
    assert {c.params["channel"] for c in posts} == {"C9", "U5"}


def test_a_state_not_issued_here_is_refused(running: RunningApp) -> None:
    with pytest.raises(urllib.error.HTTPError) as err:
        fetch(running, "/slack/oauth_redirect?code=T333&state=forged", "slack-app-oauth-state=forged")
    assert err.value.code == 401
    with running.services.db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM slack_bots")).scalar_one() == 0


def test_a_workspace_that_never_installed_gets_no_answer(running: RunningApp, slack: LocalSlackAPI) -> None:
    body, ctype = payloads.slash_command(
        "status", team_id="T999", channel_id="C1", user_id="U1", response_url=slack.response_url("x")
    )
    reply = running.post(body, ctype)
    assert reply.status in (200, 401) and "Traceback" not in reply.body
    assert slack.calls_to("chat.postMessage") == []
