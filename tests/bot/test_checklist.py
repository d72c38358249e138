from __future__ import annotations

import pytest

from bot.checklist import ResponseValue, load_shipped_checklist, score

Y, P, N, NA = ResponseValue.yes, ResponseValue.partial, ResponseValue.no, ResponseValue.na


def test_nothing_answered_scores_zero_with_all_blocking_gaps() -> None:
    checklist = load_shipped_checklist()
    report = score(checklist, {})
    assert report.overall == 0.0
    assert report.answered == 0 and report.total == len(checklist.items())
    blocking = {i.id for i in checklist.items() if i.blocking}
    assert {g.item.id for g in report.gaps} == blocking
    assert {"objectives.problem-statement", "kpis.defined", "stakeholders.signoff"} <= blocking


def test_section_scores_and_weakest_section() -> None:
    checklist = load_shipped_checklist()
    answers = {item.id: Y for item in checklist.items()}
    kpi_items = [i.id for i in checklist.section("kpis").items]
    answers[kpi_items[0]] = P  # kpis: (0.5 + 1 + 1 + 1) / 4
    answers[kpi_items[1]] = NA  # n/a excluded: (0.5 + 1 + 1) / 3
    report = score(checklist, answers)
    kpis = next(s for s in report.sections if s.category == "kpis")
    assert kpis.score == pytest.approx(2.5 / 3)
    assert report.overall == pytest.approx(2.5 / 3)
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
    assert objectives.score == pytest.approx(3 / 4)


def test_all_na_section_does_not_drag_the_score() -> None:
    checklist = load_shipped_checklist()
    answers = {item.id: Y for item in checklist.items()}
    for item in checklist.section("responsible-ai").items:
        answers[item.id] = NA
    report = score(checklist, answers)
    assert report.overall == 1.0
