"""The Slack WebClient: base URL from settings and retries on 429, 5xx and connection errors."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)


def retry_handlers(max_retries: int) -> list[RetryHandler]:
    # slack_sdk retries once by default; a burst of 429s needs more.
    return [
        RateLimitErrorRetryHandler(max_retry_count=max_retries),
        ConnectionErrorRetryHandler(max_retry_count=max_retries),
        ServerErrorRetryHandler(max_retry_count=max_retries),
    ]


def make_client(token: str, base_url: str, max_retries: int) -> WebClient:
    if not base_url.endswith("/"):
        base_url += "/"
    return WebClient(token=token, base_url=base_url, retry_handlers=retry_handlers(max_retries), timeout=30)
