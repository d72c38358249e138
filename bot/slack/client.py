"""The Slack WebClient: base URL from settings and retries on 429, 5xx and connection errors."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot import metrics


class ErrorCounter(RetryHandler):
    """Counts every failed attempt for /metrics; never retries itself (the handlers after it do).

    slack_sdk asks the handlers about every response, so ok=false answers are seen here too.
    """

    def _can_retry(self, *, state, request, response=None, error=None) -> bool:  # type: ignore[override]
        if error is not None and response is None:
            metrics.SLACK_API_ERRORS.labels("connection").inc()
        elif response is not None and response.status_code == 429:
            metrics.SLACK_API_ERRORS.labels("ratelimited").inc()
        elif response is not None and response.status_code >= 500:
            metrics.SLACK_API_ERRORS.labels("server_error").inc()
        elif response is not None and isinstance(response.body, dict) and response.body.get("ok") is False:
            metrics.SLACK_API_ERRORS.labels("api_error").inc()
        return False


def retry_handlers(max_retries: int) -> list[RetryHandler]:
    # slack_sdk retries once by default; a burst of 429s needs more.
    return [
        ErrorCounter(max_retry_count=1_000_000),
        RateLimitErrorRetryHandler(max_retry_count=max_retries),
        ConnectionErrorRetryHandler(max_retry_count=max_retries),
        ServerErrorRetryHandler(max_retry_count=max_retries),
    ]


def make_client(token: str | None, base_url: str, max_retries: int) -> WebClient:
    if not base_url.endswith("/"):
        base_url += "/"
    return WebClient(token=token, base_url=base_url, retry_handlers=retry_handlers(max_retries), timeout=30)
