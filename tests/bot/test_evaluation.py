"""`mlready eval` figures, usefulness included, and batch answers from `mlready ask --json -`."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from bot.cli import app
from bot.evaluation import ASKS_FOR_ADVICE, EvalQuestion, evaluate, load_questions
from indexer.retriever import Retriever


def test_advice_questions_are_told_by_their_wording() -> None:
    for q in ("how do we pick a KPI", "what should we monitor", "when should we retrain", "should we hire"):
        assert ASKS_FOR_ADVICE.search(q), q
    for q in ("what is leakage", "why did conversion drop", "our labels disagree"):
        assert not ASKS_FOR_ADVICE.search(q), q


def test_usefulness_figures(engine) -> None:
    kpi = engine.ask("how do we pick a KPI for a churn model?")
    questions = [
        EvalQuestion(
            q="how do we pick a KPI for a churn model?", cats=["kpis"], ideal=[kpi.lines[0].id, "x#y-1"]
        ),
        EvalQuestion(q="what is target leakage?", cats=["data-quality"]),
        EvalQuestion(q="what's the weather in Paris?", expect="none"),
    ]
    result = evaluate(engine, questions, Retriever.hybrid)
    assert result.advice_questions == 1  # only the how-question counts for advice
    assert result.advice_share == round(
        sum(line.section == "What to do" for line in kpi.lines) / len(kpi.lines), 4
    )
    assert result.answers_without_advice == 0
    assert result.ideal_questions == 1 and result.ideal_recall == 0.5
    assert result.offtopic_declined == 1.0 and result.hit_at_1 == 1.0


def test_a_wrong_decline_names_the_question_to_decline_it_was_taken_for(engine) -> None:
    # As a team would see it after labelling a question the shipped out_of_scope.yaml declines.
    question = EvalQuestion(q="what training plan should i follow for a 10k run", cats=["expertise"])
    result = evaluate(engine, [question], Retriever.hybrid)
    assert result.ontopic_declined == 1.0
    (miss,) = result.misses
    assert miss["answered"] is False
    assert miss["out_of_scope"].startswith("training for my first half marathon")


def test_question_files_in_bench_load_and_the_held_out_set_is_large_enough() -> None:
    bench = Path(__file__).parents[2] / "bench"
    held_out = load_questions(bench / "heldout.yaml")
    on_topic = [q for q in held_out if q.cats]
    assert len(held_out) >= 60 and len([q for q in held_out if q.expect == "none"]) >= 8
    assert sum(1 for q in on_topic + load_questions(bench / "devset.yaml") if q.ideal) >= 40
    assert len([q for q in load_questions(bench / "devset2.yaml") if q.cats]) >= 60
    assert {q.expect for q in load_questions(bench / "offtopic.yaml")} == {"none"}


def test_eval_and_batch_ask_in_process(shipped_index: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("MLREADY_INDEX_DIR", str(shipped_index))
    runner = CliRunner()
    questions = tmp_path / "q.yaml"
    questions.write_text(
        "questions:\n"
        '  - {q: "how do we pick a KPI?", cats: [kpis], ideal: ["kpis-choosing-a-kpi#what-to-do-2"]}\n'
    )
    result = runner.invoke(app, ["eval", "--questions", str(questions), "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    for key in ("hit_at_1", "advice_share", "ideal_recall", "answers_without_advice"):
        assert key in figures

    batch = runner.invoke(
        app,
        ["ask", "--json", "-"],
        input="how do we pick a KPI?\n\nwhat is the weather in Paris?\nwhat is leakage?\n",
    )
    assert batch.exit_code == 0, batch.output
    rows = [json.loads(line) for line in batch.stdout.splitlines()]
    assert [r["question"] for r in rows] == [
        "how do we pick a KPI?",
        "what is the weather in Paris?",
        "what is leakage?",
    ]
    assert [r["answered"] for r in rows] == [True, False, True]
