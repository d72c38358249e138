"""Prometheus metrics, served on `GET /metrics` in HTTP mode (prometheus-client)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

REQUESTS = Counter(
    "mlready_http_requests", "Requests to /slack/events by kind and HTTP status", ["kind", "status"]
)
ACK_SECONDS = Histogram(
    "mlready_ack_seconds",
    "Time from receiving a Slack request to acknowledging it",
    ["kind"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0),
)
ANSWERS = Counter("mlready_answers", "Questions answered or declined", ["outcome"])
REMINDERS = Counter(
    "mlready_reminders", "Reminder messages by outcome (sent, retry, failed, cancelled)", ["outcome"]
)
SLACK_API_ERRORS = Counter(
    "mlready_slack_api_errors",
    "Failed Slack Web API attempts (each retry counts) by kind",
    ["kind"],
)
SUMMARY_FALLBACKS = Counter(
    "mlready_summary_fallbacks",
    "Generated summaries not shown (the quoted answer went alone), by reason",
    ["reason"],
)
