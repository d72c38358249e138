"""Answers on the real model over the shipped knowledge base."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from bot.answers import (
    ASKED_AS_OFFSET,
    OUT_OF_SCOPE_CEILING,
    OUT_OF_SCOPE_MARGIN,
    EmptyQuestionError,
    confidence_of,
    out_of_scope_match,
)
from indexer.chunking import ASKED_AS_SECTION
from indexer.knowledge import load_out_of_scope, shipped_categories
from indexer.retriever import Retriever
from indexer.search import Ranking

DATA = Path(__file__).parents[1] / "data"


def small_questions() -> list[dict]:
    return yaml.safe_load((DATA / "questions_small.yaml").read_text())["questions"]


def test_json_contract(engine) -> None:
    answer = engine.ask("how do we pick a KPI for churn?").to_json()
    assert list(answer) == [
        "question",
        "answered",
        "confidence",
        "answer",
        "sources",
        "intent",
        "lines",
        "guide",
        "related",
        "summary",
        "out_of_scope",
    ]
    assert answer["intent"] == "advice" and answer["guide"] == "kpis-choosing-a-kpi"
    assert answer["summary"] is None  # no endpoint configured
    assert answer["out_of_scope"] is None
    for line in answer["lines"]:
        assert list(line) == ["id", "text", "source", "section"]
        assert line["id"].startswith(answer["sources"][line["source"]]["doc_id"] + "#")
    assert answer["question"] == "how do we pick a KPI for churn?"
    assert answer["answered"] is True
    assert isinstance(answer["confidence"], float) and 0 <= answer["confidence"] <= 1
    assert answer["answer"].strip()
    assert answer["sources"]
    for source in answer["sources"]:
        assert list(source) == ["doc_id", "title", "section", "category", "score"]
        assert source["category"] in shipped_categories()
        assert isinstance(source["score"], float)
    scores = [s["score"] for s in answer["sources"]]
    assert scores == sorted(scores, reverse=True)
    assert answer["sources"][0]["category"] == "kpis"


def test_answer_quotes_only_the_knowledge_base(engine) -> None:
    answer = engine.ask("what should we monitor once the model is in production?")
    assert answer.answered
    units = {u.text for u in engine.searcher.stored.units}
    lines = answer.answer.splitlines()
    assert len(lines) == len(answer.lines) >= 3
    for quote, line in zip(answer.lines, lines, strict=True):
        assert quote.text in units  # quoted verbatim, never generated
        assert line == f"• {quote.text} [{quote.source + 1}]"
        source = answer.sources[quote.source]
        assert any(
            u.id == quote.id
            and u.text == quote.text
            and u.doc_id == source.doc_id
            and u.section == source.section
            for u in engine.searcher.stored.units
        )


@pytest.mark.parametrize("retriever", list(Retriever))
def test_retrieval_on_real_model(engine, retriever: Retriever) -> None:
    on_topic = [q for q in small_questions() if "cats" in q]
    hits = 0
    for q in on_topic:
        answer = engine.ask(q["q"], retriever)
        hits += answer.ranked_categories[0] in q["cats"]
    assert hits / len(on_topic) >= (0.75 if retriever == Retriever.hybrid else 0.6)


def test_off_topic_questions_are_declined(engine) -> None:
    off_topic = [q["q"] for q in small_questions() if q.get("expect") == "none"]
    assert off_topic
    for q in off_topic:
        answer = engine.ask(q)
        assert not answer.answered, (q, answer.confidence)
        assert answer.sources == []
        assert answer.answer.startswith("Sorry, I can only help with")


def test_empty_and_huge_questions(engine) -> None:
    with pytest.raises(EmptyQuestionError):
        engine.ask("   \n ")
    huge = "How do we choose a KPI for our churn model? " * 460
    assert len(huge) > 20_000
    answer = engine.ask(huge)
    assert answer.question == huge
    assert answer.answered
    assert answer.sources and answer.sources[0].category == "kpis"


ADVICE_QUESTIONS = [
    "how do we pick a KPI for a churn model?",
    "our labels come from 3 annotators who disagree, what now?",
    "how should we roll out a new model version safely?",
    "what should we monitor once the model is live?",
]


@pytest.mark.parametrize("question", ADVICE_QUESTIONS)
def test_how_questions_are_answered_with_advice(engine, question: str) -> None:
    answer = engine.ask(question)
    assert answer.intent == "advice"
    assert 3 <= len(answer.lines) <= 5
    sections = [line.section for line in answer.lines]
    assert sections.count("What to do") >= 3, sections
    # Worked examples and team questions are behind buttons, never answer lines.
    assert not {"Worked example", "Questions to ask the team"} & set(sections)
    assert not any(line.text.endswith("?") for line in answer.lines)
    assert answer.guide == answer.sources[0].doc_id


def test_the_churn_kpi_answer_leads_with_the_kpi_guides_advice(engine) -> None:
    answer = engine.ask("how do we pick a KPI for a churn model?")
    assert {line.id.split("#")[0] for line in answer.lines} == {"kpis-choosing-a-kpi"}
    assert not any("AUC above 0.85" in line.text for line in answer.lines)


def test_label_disagreement_gets_the_guides_remedies(engine) -> None:
    answer = engine.ask("our labels come from 3 annotators who disagree, what now?")
    text = answer.answer
    assert answer.guide == "data-quality-labels"
    assert "calibration round" in text and "kappa" in text
    assert not text.startswith("• What")


def test_why_questions_quote_what_goes_wrong(engine) -> None:
    answer = engine.ask("our AUC went from 0.81 to 0.86 but conversion didn't move at all. why?")
    assert answer.intent == "risks"
    assert {line.section for line in answer.lines} <= {"What goes wrong", "Warning signs"}


def test_what_is_questions_quote_the_introduction(engine) -> None:
    answer = engine.ask("what is target leakage?")
    assert answer.intent == "definition" and answer.guide == "data-quality-leakage"
    assert answer.lines[0].section == "Overview"


ADVICE = {"What to do"}
RISKS = {"What goes wrong", "Warning signs"}


@pytest.mark.parametrize(
    "question, sections",
    [
        ("how do we pick a KPI for churn?", ADVICE),
        ("how should we split train and test for a time series model", ADVICE),
        ("what can go wrong when we retrain on feedback from our own model?", RISKS),
    ],
)
def test_the_sections_that_fit_the_question_come_first(engine, question: str, sections: set[str]) -> None:
    answer = engine.ask(question)
    lead = [line for line in answer.lines if line.id.startswith(answer.guide + "#")]
    fitting = [line.section in sections for line in lead]
    assert fitting[0] and fitting == sorted(fitting, reverse=True), [line.section for line in lead]
    for section in {line.section for line in lead}:  # each section's lines in the guide's order
        rows = [answer.lines.index(line) for line in lead if line.section == section]
        ids = [int(answer.lines[i].id.rsplit("-", 1)[1]) for i in rows]
        assert ids == sorted(ids)


def test_multi_part_questions_answer_each_part(engine) -> None:
    answer = engine.ask("how much data do we need and how do we label it?")
    guides = [line.id.split("#")[0] for line in answer.lines]
    assert "data-volume-how-much" in guides
    labelling = [s for s in answer.sources if s.category == "data-quality" and "label" in s.title.lower()]
    assert labelling, answer.sources  # a guide on labelling
    assert all(guides.count(g) <= 2 for g in set(guides))


def test_readiness_questions_are_answered_from_the_checklist(engine) -> None:
    answer = engine.ask("we're about to launch, what are we missing?")
    assert answer.intent == "readiness" and answer.answered
    checklist = engine.checklist
    for line in answer.lines:
        item = checklist.item(line.id)
        assert item is not None and item.blocking and line.text == item.question
        assert answer.sources[line.source].doc_id in item.docs
    assert "/mlready checklist" in answer.answer


def test_aliases_in_front_matter_are_searched(engine) -> None:
    # "sexist" and "racist" are only in the fairness guide's aliases, not in its text.
    hits = engine.searcher.bm25_ranking("our model looks sexist and racist", 3)
    top = engine.searcher.stored.chunks[hits[0][0]]
    assert top.doc_id == "responsible-ai-fairness" and top.is_profile
    answer = engine.ask("how do we make sure our screening model is not sexist or racist?")
    assert answer.guide == "responsible-ai-fairness", answer.answer


def test_confidence_is_the_closest_passage_or_asked_question_less_the_offset(engine) -> None:
    searcher = engine.searcher
    for question in ("how do we pick a KPI for churn?", "what's the weather in Paris"):
        ranking = searcher.rank(question, engine.embedder.encode_query(question))
        expected = round(max(ranking.closest_passage, ranking.closest_asked - ASKED_AS_OFFSET), 4)
        assert confidence_of(ranking) == expected == engine.ask(question).confidence
    # Asked exactly as one of the guides' asked_as questions: it counts, less the offset.
    asked = next(c.text for c in searcher.stored.chunks if c.section == ASKED_AS_SECTION)
    ranking = searcher.rank(asked, engine.embedder.encode_query(asked))
    assert abs(ranking.closest_asked - 1.0) < 1e-3
    assert confidence_of(ranking) == round(
        max(ranking.closest_passage, ranking.closest_asked - ASKED_AS_OFFSET), 4
    )


def test_asked_as_questions_find_guides_the_passages_do_not(engine) -> None:
    # Far from every passage (0.33, below the threshold) but near one of the incident guide's
    # asked_as questions: answered from that guide instead of declined.
    question = "has anyone else's chatbot blown up like this before we launch ours?"
    vec = engine.embedder.encode_query(question)
    assert engine.searcher.rank(question, vec).closest_passage < engine.threshold
    answer = engine.ask(question)
    assert answer.answered, answer.answer
    assert answer.guide == "monitoring-learning-from-others-incidents"
    assert all(line.id.startswith(answer.guide) for line in answer.lines)


def test_declines_suggest_only_plausible_topics(engine) -> None:
    weather = engine.ask("what's the weather in Paris?")
    assert not weather.answered and weather.closest_topics == [] and not weather.near_domain
    # (a PyTorch deployment question is now answered by the model supply-chain guide)
    near = engine.ask("how do I set up a kubernetes cluster for our api")
    assert not near.answered and near.near_domain
    assert near.closest_topics and near.related
    assert "do not cover that in depth" in near.answer


def test_questions_like_one_to_decline_are_declined_without_suggestions(engine) -> None:
    # Close enough to a passage to be answered (the words of ML training), but nearer to a
    # question in out_of_scope.yaml than to any asked_as question.
    question = "what training plan should i follow for a 10k run"
    running = engine.ask(question)
    assert (
        running.confidence >= engine.threshold
        and not running.answered
        and running.out_of_scope in load_out_of_scope()
    )
    assert running.closest_topics == [] and running.related == [] and not running.near_domain
    assert running.answer.startswith("Sorry, I can only help with questions about getting ML projects")
    # Declined anyway, but it no longer points at "the nearest guides" for a fashion question.
    catwalk = engine.ask("my cousin wants to become a catwalk model, how does she find a good agency")
    assert not catwalk.answered and catwalk.out_of_scope and catwalk.closest_topics == []
    # Questions in ML's own sense of the same words are answered; a software question near the
    # domain still points at the nearest guides.
    for question in (
        "which model should we pick for our churn project",
        "how often should we retrain the model",
        "what metrics should we track for our recommendation model after launch",
        "our training pipeline breaks every time the upstream schema changes",
        "how do we label 10k support tickets cheaply",
        "which features should we drop from the churn model",
        "our model is biased against older applicants, what do we do",
        "token costs for our llm feature are exploding",
        "model accuracy dropped after the holiday season",
    ):
        answer = engine.ask(question)
        assert answer.answered and answer.out_of_scope is None, question
    assert engine.ask("how do I set up a kubernetes cluster for our api").near_domain


@pytest.mark.parametrize(
    ("closest_asked", "closest_out_of_scope", "confidence", "declined"),
    [
        (0.40, 0.40 + OUT_OF_SCOPE_MARGIN, 0.40, True),
        (0.40, 0.40 + OUT_OF_SCOPE_MARGIN - 0.01, 0.40, False),
        (0.40, 0.90, OUT_OF_SCOPE_CEILING - 0.01, True),
        (0.40, 0.90, OUT_OF_SCOPE_CEILING, False),  # this close to a passage: answered
    ],
)
def test_out_of_scope_rule(
    closest_asked: float, closest_out_of_scope: float, confidence: float, declined: bool
) -> None:
    ranking = Ranking([], 0.3, closest_asked, closest_out_of_scope, "tell me a joke about accountants")
    expected = "tell me a joke about accountants" if declined else None
    assert out_of_scope_match(ranking, confidence) == expected
    assert out_of_scope_match(Ranking([], 0.3, closest_asked), confidence) is None  # none loaded


def test_summary_is_attached_only_when_the_function_returns_one(engine) -> None:
    from bot.answers import AnswerEngine

    seen: list[tuple[str, list[str]]] = []

    def summarize(question: str, lines: list[str]) -> str | None:
        seen.append((question, lines))
        return "Pick one business KPI. [1]"

    with_summary = AnswerEngine(
        engine.searcher, engine.embedder, engine.threshold, engine.checklist, summarize
    )
    answer = with_summary.ask("how do we pick a KPI for churn?")
    assert answer.summary == "Pick one business KPI. [1]"
    assert seen == [("how do we pick a KPI for churn?", [line.text for line in answer.lines])]
    assert with_summary.ask("what's the weather in Paris?").summary is None
    assert len(seen) == 1  # declines are never summarised


def test_cli_ask_json_and_errors(shipped_index: Path, first_use) -> None:
    """In-process; `mlready chat` and `mlready serve` run as real processes in their own tests."""
    from tests.conftest import run_cli

    index = {"MLREADY_INDEX_DIR": str(shipped_index)}
    result = run_cli("ask", "how do we get stakeholder sign-off on our KPIs?", "--json", env=index)
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["answered"] is True
    assert payload["sources"][0]["category"] in {"stakeholders", "kpis"}

    empty = run_cli("ask", "  ", env=index)
    assert empty.returncode == 2
    assert "question is empty" in empty.stderr

    # A missing index is built on first use, with a message saying so (the session's index was
    # built that way: see the first_use fixture).
    index_dir, first = first_use
    assert "building it now" in first.stderr
    assert "Sorry, I can only help" in first.stdout
    assert (index_dir / "CURRENT").is_file()


def test_a_running_engine_picks_up_a_rebuilt_index(tmp_path: Path, shipped_index: Path, embedder) -> None:
    """`mlready index` replacing the index is seen without a restart and without a model reload."""
    import shutil

    from bot.knowledge_base import build, open_engine
    from bot.settings import Settings
    from tests.conftest import write_doc

    index_dir = tmp_path / "index"
    shutil.copytree(shipped_index, index_dir)
    extra = tmp_path / "playbooks"
    body = (
        "Our house rule for the quarterly zebra review.\n\n## What to do\n"
        "- Book the zebra review with finance two weeks before the quarter closes.\n"
    )
    write_doc(extra, "zebra-review", category="stakeholders", body=body, title='"Zebra review"')
    settings = Settings(index_dir=index_dir)
    engine = open_engine(settings, embedder=embedder)
    engine.check_every = 0
    question = "when do we book the zebra review with finance?"
    assert all(s.doc_id != "zebra-review" for s in engine.ask(question).sources)
    build(settings, embedder, extra=[extra])  # incremental: embeds only the new document
    answer = engine.ask(question)
    assert answer.sources[0].doc_id == "zebra-review" and engine.embedder is embedder
    (index_dir / "CURRENT").write_text("no-such-build")  # a broken pointer keeps the last good index
    assert not engine.reload_if_changed(force=True)
    assert engine.ask(question).sources[0].doc_id == "zebra-review"
