"""The optional generated summary, against a local fake OpenAI-compatible endpoint."""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import pytest

from bot import metrics
from bot.errors import MlreadyError
from bot.settings import Settings
from bot.summary import (
    MAX_CHARS,
    REASONS,
    SYSTEM_PROMPT,
    Summarizer,
    Summary,
    SummaryRejected,
    summarizer_from_settings,
    verify,
)
from indexer.embedding import Embedder

QUESTION = "How do we detect data drift after launch?"
LINES = [
    "Measure drift per feature against a reference window, using the Population Stability Index (PSI) "
    "for binned or categorical features and the two-sample Kolmogorov-Smirnov (KS) test for continuous "
    "features.",
    "Treat PSI below 0.1 as stable, 0.1 to 0.25 as worth a look and above 0.25 as a significant shift.",
    "Weight alerts by feature importance, so drift in a minor feature produces a ticket and drift in a "
    "top feature pages the owner.",
]
GOOD_REPLY = (
    "Track drift for each feature against a reference window, using PSI for categorical features and a "
    "KS test for continuous ones [1]. A PSI above 0.25 signals a significant shift [2]. Weight alerts by "
    "feature importance so that only drift in top features pages the owner [3]."
)
GOOD_TEXT = (
    "Track drift for each feature against a reference window, using PSI for categorical features and a "
    "KS test for continuous ones. [1] A PSI above 0.25 signals a significant shift. [2] Weight alerts by "
    "feature importance so that only drift in top features pages the owner. [3]"
)
REPLIES = {
    "good": GOOD_REPLY,
    "slow": GOOD_REPLY,
    "uncited": "Track drift for each feature against a reference window. A PSI above 0.25 signals a "
    "significant shift [2].",
    "invented_number": "A PSI above 0.4 signals a significant shift [2].",
    "unknown_citation": "Weight alerts by feature importance [9].",
    "unknown_method": "Use SHAP values to find which features drifted [1].",
    "off_topic": "Ask the sponsor to sign off the project document before work begins [3].",
    "too_long": GOOD_REPLY * 20,
    "none": "NONE",
    "empty": "",
}
SLOW_SECONDS = 3.0  # the slow mode outlasts the 0.5 s client timeout of its test


def completion(content: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 0,
        "model": "fake-model",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


class FakeEndpoint:
    """POST /v1/chat/completions answering per `mode`, recording each request body and auth header."""

    def __init__(self) -> None:
        self.mode = "good"
        self.requests: list[dict[str, Any]] = []
        self.release = threading.Event()  # ends a slow reply early when the test is over
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.path != "/v1/chat/completions":
                    self._send(404, b'{"error": {"message": "not found"}}')
                    return
                endpoint.requests.append(
                    {"body": json.loads(body), "authorization": self.headers.get("Authorization")}
                )
                mode = endpoint.mode
                if mode == "slow":
                    endpoint.release.wait(SLOW_SECONDS)
                if mode == "status_500":
                    self._send(500, b'{"error": {"message": "internal error"}}')
                elif mode == "malformed":
                    self._send(200, b'{"id": "chatcmpl-test", "choices": [{"message": ')
                else:
                    self._send(200, json.dumps(completion(REPLIES[mode])).encode())

            def _send(self, status: int, payload: bytes) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output quiet

        return Handler


@pytest.fixture
def endpoint() -> Iterator[FakeEndpoint]:
    fake = FakeEndpoint()
    yield fake
    fake.stop()


def make(endpoint: FakeEndpoint, embedder: Embedder, timeout: float = 5.0) -> Summarizer:
    return Summarizer(endpoint.base_url, "test-model", "sk-test", timeout, embed=embedder.encode)


def fallback_counts() -> dict[str, float]:
    return {reason: metrics.SUMMARY_FALLBACKS.labels(reason)._value.get() for reason in REASONS}


def assert_one_fallback(before: dict[str, float], reason: str, caplog: pytest.LogCaptureFixture) -> None:
    after = fallback_counts()
    assert {r: after[r] - before[r] for r in REASONS if after[r] != before[r]} == {reason: 1}
    warnings = [r for r in caplog.records if r.name == "bot.summary" and r.levelno == logging.WARNING]
    assert len(warnings) == 1 and reason in warnings[0].getMessage()


def same(texts: list[str]) -> np.ndarray:
    """A stand-in embedding under which every text matches every other (cosine 1)."""
    return np.ones((len(texts), 4), dtype=np.float32)


# --- against the fake endpoint ---------------------------------------------------------------


def test_good_reply_is_verified_and_the_request_holds_only_question_and_lines(
    endpoint: FakeEndpoint, embedder: Embedder
) -> None:
    before = fallback_counts()
    summary = make(endpoint, embedder).summarize(QUESTION, LINES)

    assert summary == Summary(text=GOOD_TEXT, model="test-model")
    assert fallback_counts() == before
    [request] = endpoint.requests
    assert request["authorization"] == "Bearer sk-test"
    assert request["body"] == {
        "model": "test-model",
        "temperature": 0,
        "messages": [
            {"role": "system", "content": SYSTEM_PROMPT},
            {
                "role": "user",
                "content": f"Question: {QUESTION}\n\nNumbered lines:\n"
                f"[1] {LINES[0]}\n[2] {LINES[1]}\n[3] {LINES[2]}",
            },
        ],
    }


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("uncited", "uncited"),
        ("invented_number", "unsupported_number"),
        ("unknown_citation", "unknown_citation"),
        ("unknown_method", "unsupported_name"),
        ("off_topic", "low_similarity"),
        ("too_long", "too_long"),
        ("none", "empty"),
        ("empty", "empty"),
        ("status_500", "error"),
        ("malformed", "error"),
    ],
)
def test_doubtful_replies_fall_back_with_their_reason(
    endpoint: FakeEndpoint, embedder: Embedder, caplog: pytest.LogCaptureFixture, mode: str, reason: str
) -> None:
    endpoint.mode = mode
    before = fallback_counts()
    with caplog.at_level(logging.WARNING, logger="bot.summary"):
        assert make(endpoint, embedder).summarize(QUESTION, LINES) is None
    assert_one_fallback(before, reason, caplog)
    assert len(endpoint.requests) == 1  # no retries


def test_slow_endpoint_times_out(
    endpoint: FakeEndpoint, embedder: Embedder, caplog: pytest.LogCaptureFixture
) -> None:
    endpoint.mode = "slow"
    before = fallback_counts()
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="bot.summary"):
        assert make(endpoint, embedder, timeout=0.5).summarize(QUESTION, LINES) is None
    assert time.monotonic() - started < SLOW_SECONDS - 1
    assert_one_fallback(before, "timeout", caplog)


def test_unreachable_endpoint_and_failing_embedding_are_errors(
    endpoint: FakeEndpoint, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(texts: list[str]) -> np.ndarray:
        raise RuntimeError("model file missing")

    before = fallback_counts()
    with caplog.at_level(logging.WARNING, logger="bot.summary"):
        assert Summarizer(endpoint.base_url, "m", None, 5.0, embed=broken).summarize(QUESTION, LINES) is None
    assert_one_fallback(before, "error", caplog)

    closed = FakeEndpoint()
    closed.stop()  # nothing listens on its port any more
    caplog.clear()
    before = fallback_counts()
    with caplog.at_level(logging.WARNING, logger="bot.summary"):
        assert Summarizer(closed.base_url, "m", None, 5.0, embed=same).summarize(QUESTION, LINES) is None
    assert_one_fallback(before, "error", caplog)


def test_no_lines_means_no_request(endpoint: FakeEndpoint, caplog: pytest.LogCaptureFixture) -> None:
    before = fallback_counts()
    with caplog.at_level(logging.WARNING, logger="bot.summary"):
        assert Summarizer(endpoint.base_url, "m", None, 5.0, embed=same).summarize(QUESTION, []) is None
    assert_one_fallback(before, "empty", caplog)
    assert endpoint.requests == []


# --- settings --------------------------------------------------------------------------------


def test_summarizer_from_settings(endpoint: FakeEndpoint, embedder: Embedder) -> None:
    assert summarizer_from_settings(Settings(llm_base_url=None), embedder.encode) is None

    settings = Settings(llm_base_url=endpoint.base_url, llm_model="local-model", llm_api_key=None)
    summarizer = summarizer_from_settings(settings, embedder.encode)
    assert summarizer is not None
    assert summarizer.summarize(QUESTION, LINES) == Summary(text=GOOD_TEXT, model="local-model")
    assert endpoint.requests[0]["authorization"] == "Bearer unused"  # vLLM and Ollama need no key


def test_missing_openai_package_is_reported_only_when_configured(
    monkeypatch: pytest.MonkeyPatch, embedder: Embedder
) -> None:
    monkeypatch.setitem(sys.modules, "openai", None)  # makes `import openai` fail
    assert summarizer_from_settings(Settings(llm_base_url=None), embedder.encode) is None
    with pytest.raises(MlreadyError, match=r"pip install 'mlready\[llm\]'"):
        summarizer_from_settings(Settings(llm_base_url="http://127.0.0.1:9/v1"), embedder.encode)


# --- verification of replies, without an endpoint ------------------------------------------------


def rejected(reply: str, lines: list[str] = LINES) -> str:
    with pytest.raises(SummaryRejected) as info:
        verify(reply, lines, same)
    return info.value.reason


def test_citation_styles_are_normalised() -> None:
    reply = "- Track drift per feature with PSI or a KS test. [1, 2]\n- Page the owner for top features. [3]"
    assert verify(reply, LINES, same) == (
        "Track drift per feature with PSI or a KS test. [1][2] Page the owner for top features. [3]"
    )
    assert verify("Use a reference window [1]. PSI above 0.25 is a shift [2]", LINES, same) == (
        "Use a reference window. [1] PSI above 0.25 is a shift. [2]"
    )
    assert rejected("  None. ") == "empty"


def test_numbers_must_come_from_the_cited_lines() -> None:
    lines = ["The team labelled 1,400 tickets, and 35% of them were urgent."]
    assert verify("About 1400 tickets were labelled [1].", lines, same)
    assert verify("35% of the labelled tickets were urgent [1].", lines, same)
    assert verify("35 were urgent [1].", ["35 percent were urgent."], same)
    assert rejected("Only 35% were urgent [1].", ["Only 35 were urgent."]) == "unsupported_number"
    assert rejected("PSI above 0.25 is a shift [1].") == "unsupported_number"  # 0.25 is in line 2


def test_names_must_come_from_the_cited_lines() -> None:
    assert verify("Kolmogorov-Smirnov tests suit continuous features [1].", LINES, same)
    assert rejected("Drift can be measured with the Wasserstein distance [1].") == "unsupported_name"
    assert rejected("XGBoost handles drift on its own [1].") == "unsupported_name"  # CamelCase at start
    assert rejected("Report AUC for each feature [1].") == "unsupported_name"
    kpi_lines = ["Record each KPI with a baseline and an owner."]
    assert verify("KPIs need a baseline and an owner, e.g. a manager [1].", kpi_lines, same)


def test_citation_problems() -> None:
    assert rejected("[1] Measure drift per feature.") == "uncited"
    assert rejected("Measure drift per feature [1] and alert the owner.") == "uncited"
    assert rejected("Measure drift per feature [0].") == "unknown_citation"
    assert rejected("Measure drift per feature [1][4].") == "unknown_citation"


def test_length_limits() -> None:
    sentence = "Measure drift per feature against a reference window [1]. "
    assert verify(sentence * 5, LINES, same) == " ".join(
        ["Measure drift per feature against a reference window. [1]"] * 3
    )
    long_sentence = "Measure drift " + "per feature " * 60 + "[1]."
    assert len(long_sentence) > MAX_CHARS and rejected(long_sentence) == "too_long"


def test_sentence_merging_two_lines_is_compared_with_them_together(embedder: Embedder) -> None:
    # Measured: 0.50 against the closer line alone, 0.65 against both lines joined.
    lines = [
        "Split by time for any problem with a time order: train on earlier periods and validate on the "
        "most recent period, with a gap that matches the label delay.",
        "Split by group, such as customer, patient or device, when one entity has many rows, so that no "
        "entity appears on both sides.",
    ]
    reply = "Split by time or by customer so that no information leaks from test into training [1][2]."
    assert verify(reply, lines, embedder.encode).endswith("[1][2]")
    with pytest.raises(SummaryRejected, match="low_similarity"):
        verify(reply.replace("[1][2]", "[2]"), lines, embedder.encode)
