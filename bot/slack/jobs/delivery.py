"""Calls to Slack from jobs: a failure Slack may get over (429, 5xx, no connection) means the
job runs again later; any other error is final and logged with what it concerned."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from slack_sdk.errors import SlackApiError, SlackClientError

from bot.jobs import RetryLater

log = logging.getLogger(__name__)


def transient(exc: Exception) -> bool:
    if isinstance(exc, SlackApiError):
        status = exc.response.status_code
        return status == 429 or status >= 500
    return isinstance(exc, SlackClientError | OSError)


@contextlib.contextmanager
def to_slack(what: str, tell: str | None = None, could_not: str = "") -> Iterator[None]:
    """Around one Slack call of a job: transient failures retry the job, others are logged and,
    with a response URL in `tell`, the user hears "I could not <could_not>" and what to do."""
    try:
        yield
    except (SlackApiError, SlackClientError, OSError) as exc:
        if transient(exc):
            raise RetryLater(f"{what}: {exc.__class__.__name__}") from exc
        log.error("%s failed: %s", what, exc)
        if tell and isinstance(exc, SlackApiError):
            message = {
                "response_type": "ephemeral",
                "text": f"I could not {could_not} ({slack_error(exc)}). "
                "Invite me with `/invite @mlready` and retry.",
            }
            send_to_response_url(tell, message, f"telling the user after {what}")


def slack_error(exc: SlackApiError) -> str:
    return str(exc.response.get("error") or exc.response.status_code)


def send_to_response_url(url: str, message: dict, what: str) -> None:
    """POST a message to a response URL; 429/5xx and connection errors retry the job."""
    from slack_sdk.webhook import WebhookClient

    try:
        result = WebhookClient(url).send_dict(dict(message))
    except (SlackClientError, OSError) as exc:
        raise RetryLater(f"{what}: {exc.__class__.__name__}") from exc
    if result.status_code == 429 or result.status_code >= 500:
        raise RetryLater(f"{what}: HTTP {result.status_code}")
    if result.status_code != 200:
        log.error("%s failed: HTTP %s %s", what, result.status_code, (result.body or "")[:200])
