"""Block Kit builders, checked on their to_dict() output against Slack's limits."""

from __future__ import annotations

import json

from slack_sdk.models.blocks import Block

from bot.answers import Answer, Source
from bot.slack import blocks as ui
from bot.slack import ids


def _check_limits(blocks: list[Block]) -> list[dict]:
    dicts = ui.to_dicts(blocks)  # slack_sdk validates the models' limits here
    assert len(dicts) <= 50
    for b in dicts:
        if b["type"] == "section":
            assert len(b["text"]["text"]) <= 3000
        if b["type"] == "actions":
            for e in b["elements"]:
                assert len(e["text"]["text"]) <= 75
                assert len(e.get("value", "")) <= 2000
    return dicts


def _answer(text: str, n_sources: int = 2) -> Answer:
    sources = [
        Source(f"doc-{i}", f"Title {i} " + "x" * 150, "What to do", "kpis", 0.9) for i in range(n_sources)
    ]
    return Answer("q?", True, 0.8, text, sources)


def test_oversized_answer_is_split_within_limits() -> None:
    line = "• " + "Measure the baseline before you build anything at all. " * 20 + "[1]"
    huge = "\n".join([line] * 200)  # ~230k characters
    dicts = _check_limits(ui.answer_blocks(_answer(huge, n_sources=200), 7, shareable=True))
    assert dicts[-1]["type"] == "actions"
    assert any(
        "shortened" in e.get("text", "") for b in dicts if b["type"] == "context" for e in b["elements"]
    )


def test_single_enormous_line_and_escaping() -> None:
    text = "<script>&" + "a" * 10_000
    dicts = _check_limits(ui.answer_blocks(_answer(text), 3))
    joined = "".join(b["text"]["text"] for b in dicts if b["type"] == "section")
    assert "&lt;script&gt;&amp;" in joined and "<script>" not in joined
    assert joined.count("a") >= 10_000


def test_answer_buttons_carry_the_answer_id() -> None:
    dicts = _check_limits(ui.answer_blocks(_answer("• one [1]"), 42, shareable=True))
    actions = {e["action_id"]: e for e in dicts[-1]["elements"]}
    assert set(actions) == {ids.FEEDBACK_HELPFUL, ids.FEEDBACK_NOT_HELPFUL, ids.SHARE_ANSWER}
    assert {e["value"] for e in actions.values()} == {"42"}
    long_button = ui.button("b" * 200, "x", "v" * 5000)
    assert len(long_button.text.text) == 75 and len(long_button.value) == 2000


def test_declined_blocks_suggest_topics_and_checklist() -> None:
    declined = Answer("pizza?", False, 0.1, "Sorry", [], closest_topics=["Choosing a KPI"])
    text = json.dumps(_check_limits(ui.answer_blocks(declined, 1)))
    assert "Choosing a KPI" in text and "/mlready checklist" in text


def test_status_shows_coverage_and_section_bars(tmp_path) -> None:
    from bot import projects
    from bot.checklist import load_shipped_checklist
    from bot.db.migrate import open_database
    from bot.readiness import project_state, record_response
    from bot.slack.blocks import bar
    from bot.slack.status_blocks import status_blocks

    checklist = load_shipped_checklist()
    db = open_database(f"sqlite:///{tmp_path / 's.db'}")
    with db.session() as s:
        project = projects.create_project(s, "T1", "C1", "U1", "Churn")
        for item in checklist.section("objectives").items:
            record_response(s, project, checklist, item.id, "yes", "U1")
        blocks = status_blocks(project_state(s, project, checklist), {})
        text = json.dumps([b.to_dict() for b in blocks], ensure_ascii=False)
    n = len(checklist.section("objectives").items)
    total = sum(len(sec.items) for sec in checklist.sections if not sec.optional)
    assert "Readiness *0%*" in text and f"({n} of {total} applicable items answered)" in text
    assert f"{bar(1.0)} Objectives: 100%" in text and f"{bar(0.0)} KPIs and metrics: 0%" in text
    assert bar(0.3) == "▰▰▰▱▱▱▱▱▱▱"


def test_an_assignee_reminder_lists_only_their_items() -> None:
    from bot.checklist import load_shipped_checklist
    from bot.reminders.delivery import Reminder
    from bot.reminders.rules import ASSIGNED_OVERDUE, Finding
    from bot.reminders.schedule import Schedule
    from bot.slack import reminder_blocks as rb

    finding = Finding(
        ASSIGNED_OVERDUE,
        "2 assigned checklist item(s) are past their due date and still open.",
        "why",
        ("UA", "UB"),
        ("objectives.scope", "objectives.ml-justified"),
        ("Scope <b>?", "Baseline?"),
        assigned=(("UA", "Scope <b>?"), ("UB", "Baseline?")),
    )
    reminder = Reminder(1, "Churn", "T1", "C1", "UO", "assignee:UA", "2026-W50", (finding,))
    WEEKLY = Schedule("weekly", 0, "09:30", "UTC", "default", None, None, "")
    text = json.dumps(
        [b.to_dict() for b in rb.reminder_blocks(reminder, load_shipped_checklist(), {}, WEEKLY)]
    )
    assert "assigned to you are past their due date" in text
    assert "Scope &lt;b&gt;?" in text and "Baseline?" not in text and "<@UA>" in text and "<@UB>" not in text
