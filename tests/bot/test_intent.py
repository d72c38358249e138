"""Question intents and parts, read from the wording alone."""

from __future__ import annotations

import pytest

from bot.intent import Intent, classify, split_parts


@pytest.mark.parametrize(
    ("question", "intent"),
    [
        ("how do we pick a KPI for a churn model?", Intent.advice),
        ("what should we monitor once the model is live", Intent.advice),
        ("when should we kill the project?", Intent.advice),
        ("our sponsor left mid-project, what now", Intent.advice),
        ("how do we avoid mistakes with labels", Intent.advice),  # names a risk, asks what to do
        ("our AUC went up but conversion didn't move. why?", Intent.risks),
        ("what can go wrong with a feature store", Intent.risks),
        ("our goal has no number attached. is that a problem?", Intent.risks),
        ("biggest risks of a pricing model", Intent.risks),
        ("what is target leakage", Intent.definition),
        ("whats a guardrail metric", Intent.definition),
        ("kpi vs model metric", Intent.definition),
        ("what is the best way to version data", Intent.advice),
        ("we're about to launch, what are we missing?", Intent.readiness),
        ("are we ready to ship?", Intent.readiness),
        ("anything we're forgetting before go-live?", Intent.readiness),
        ("we have 300 labelled examples", Intent.general),
        ("users were never consulted. is that a problem and how do we involve them now?", Intent.general),
        ("how bad is this and should we profile everything first?", Intent.general),
    ],
)
def test_classify(question: str, intent: Intent) -> None:
    assert classify(question) == intent


def test_curly_apostrophes_read_like_straight_ones() -> None:
    assert classify("we\u2019re about to launch, what are we missing?") == Intent.readiness


def test_split_parts() -> None:
    assert split_parts("how much data do we need and how do we label it?") == [
        "how much data do we need",
        "how do we label it?",
    ]
    assert split_parts("what is leakage? how do we check for it? and who owns the fix?") == [
        "what is leakage",
        "how do we check for it",
        "who owns the fix?",
    ]
    # Context around one question, or a short tail, is one part.
    one = "we're a 4-person team at a logistics company. how do we pick a KPI?"
    assert split_parts(one) == [one]
    assert split_parts("how do we pick a KPI and why?") == ["how do we pick a KPI and why?"]
    many = "how is a; how is b; how is c; how is d"
    assert len(split_parts(many)) == 3
