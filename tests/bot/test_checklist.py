from __future__ import annotations

import pytest

from bot.checklist import Checklist, ResponseValue, load_shipped_checklist, score

Y, P, N, NA = ResponseValue.yes, ResponseValue.partial, ResponseValue.no, ResponseValue.na


def required_items(checklist: Checklist) -> list:
    return [i for s in checklist.sections if not s.optional for i in s.items]


def test_nothing_answered_scores_zero_with_all_blocking_gaps() -> None:
    checklist = load_shipped_checklist()
    report = score(checklist, {})
    assert report.overall == 0.0
    assert report.answered == 0 and report.total == len(required_items(checklist))
    blocking = {i.id for i in required_items(checklist) if i.blocking}
    assert {g.item.id for g in report.gaps} == blocking
    assert {"objectives.problem-statement", "kpis.defined", "stakeholders.signoff"} <= blocking


def test_section_scores_and_weakest_section() -> None:
    checklist = load_shipped_checklist()
    answers = {item.id: Y for item in checklist.items()}
    kpi_items = [i.id for i in checklist.section("kpis").items]
    answers[kpi_items[0]] = P  # one partial among the kpis items
    answers[kpi_items[1]] = NA  # n/a excluded from the mean
    report = score(checklist, answers)
    kpis = next(s for s in report.sections if s.category == "kpis")
    counted = len(kpi_items) - 1
    assert kpis.score == pytest.approx((counted - 0.5) / counted)
    assert report.overall == pytest.approx((counted - 0.5) / counted)
    assert report.weakest == "kpis"
    assert report.gaps == []


def test_no_on_blocking_item_is_a_gap_partial_is_not() -> None:
    checklist = load_shipped_checklist()
    answers = {item.id: Y for item in checklist.items()}
    answers["objectives.problem-statement"] = N
    answers["data-quality.audit"] = P
    report = score(checklist, answers)
    assert [g.item.id for g in report.gaps] == ["objectives.problem-statement"]
    assert report.gaps[0].response == N
    objectives = next(s for s in report.sections if s.category == "objectives")
    n = len(checklist.section("objectives").items)
    assert objectives.score == pytest.approx((n - 1) / n)


def test_all_na_section_does_not_drag_the_score() -> None:
    checklist = load_shipped_checklist()
    answers = {item.id: Y for item in checklist.items()}
    for item in checklist.section("responsible-ai").items:
        answers[item.id] = NA
    report = score(checklist, answers)
    assert report.overall == 1.0


TINY = Checklist.model_validate(
    {
        "version": 1,
        "sections": [
            {
                "category": "infrastructure",
                "title": "Infrastructure",
                "items": [
                    {
                        "id": "infrastructure.a",
                        "question": "A?",
                        "help": "h",
                        "kind": "yesno",
                        "blocking": True,
                    },
                    {
                        "id": "infrastructure.tests",
                        "question": "Tested?",
                        "help": "h",
                        "kind": "yesno",
                        "blocking": False,
                        "scale": "automation",
                    },
                ],
            },
            {
                "category": "genai",
                "title": "LLM",
                "optional": True,
                "items": [
                    {"id": "genai.a", "question": "Eval?", "help": "h", "kind": "yesno", "blocking": True},
                    {"id": "genai.b", "question": "Cost?", "help": "h", "kind": "yesno", "blocking": False},
                ],
            },
        ],
    }
)


def test_an_optional_section_counts_only_once_answered() -> None:
    untouched = score(TINY, {"infrastructure.a": Y, "infrastructure.tests": Y})
    assert [s.category for s in untouched.sections] == ["infrastructure"]
    assert untouched.overall == 1.0 and untouched.gaps == [] and untouched.total == 2
    started = score(TINY, {"infrastructure.a": Y, "infrastructure.tests": Y, "genai.b": Y})
    assert started.overall == 0.5 and started.weakest == "genai"
    assert [g.item.id for g in started.gaps] == ["genai.a"]
    not_for_us = score(TINY, {"infrastructure.a": Y, "infrastructure.tests": Y, "genai.a": NA, "genai.b": NA})
    assert not_for_us.overall == 1.0 and not_for_us.gaps == []


def test_technical_items_use_the_ml_test_score_scale() -> None:
    tests = TINY.item("infrastructure.tests")
    assert tests is not None and [tests.labels[v] for v in (Y, P, N, NA)] == [
        "Automated",
        "By hand",
        "No",
        "N/A",
    ]
    by_hand = score(TINY, {"infrastructure.a": Y, "infrastructure.tests": P})
    assert by_hand.overall == pytest.approx(0.75)  # by hand counts 0.5, as in the ML Test Score
    plain = TINY.item("infrastructure.a")
    assert plain is not None and plain.labels[Y] == "Yes"


def test_coverage_counts_answers_among_the_items_that_apply() -> None:
    checklist = load_shipped_checklist()
    items = required_items(checklist)
    answers = {items[0].id: Y, items[1].id: N, items[2].id: NA}
    report = score(checklist, answers)
    assert report.overall == 0.0  # the band still follows the weakest section
    assert report.coverage == pytest.approx(2 / (len(items) - 1))
    assert score(checklist, {}).coverage == 0.0
