"""Retrieval and decline quality on a question file, plus warm latency."""

from __future__ import annotations

import re
import statistics
import time
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.answers import WHAT_TO_DO, AnswerEngine
from bot.errors import MlreadyError
from indexer.knowledge import shipped_categories
from indexer.retriever import Retriever
from indexer.yaml_text import parse_yaml


class EvalQuestion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    q: str = Field(min_length=1)
    cats: list[str] = Field(default_factory=list)
    expect: Literal["none"] | None = None
    # Ids of the lines an expert would quote ("<doc>#what-to-do-2"), for ideal_recall.
    ideal: list[str] = Field(default_factory=list)

    @field_validator("cats")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = [c for c in value if c not in shipped_categories()]
        if unknown:
            raise ValueError(f"unknown categories {unknown}; use those in knowledge/categories.yaml")
        return value

    @model_validator(mode="after")
    def _one_of(self) -> EvalQuestion:
        if bool(self.cats) == (self.expect == "none"):
            raise ValueError("give either `cats: [...]` or `expect: none`")
        return self


class EvalFile(BaseModel):
    questions: list[EvalQuestion] = Field(min_length=1)


class EvalResult(BaseModel):
    n: int
    hit_at_1: float
    hit_at_3: float
    mrr: float
    offtopic_declined: float
    ontopic_declined: float
    latency_ms_p50: float
    latency_ms_p95: float
    # Usefulness: on questions asking what to do, the share of answer lines from *What to do*,
    # and how many such answers had none; the share of the expert's ideal lines shown.
    advice_questions: int
    advice_share: float
    answers_without_advice: int
    ideal_questions: int
    ideal_recall: float
    misses: list[dict] = Field(default_factory=list, exclude=True)


# The questions the advice figures count, by their wording alone (not bot.intent, which is
# what is being measured): "how do/can/should we", "what/when/which ... should", "should we".
ASKS_FOR_ADVICE = re.compile(
    r"\b(?:how (?:do|can|should|to|would|could|much|many|often)|(?:what|when|which|who|where)\b[^?]{0,60}"
    r"\bshould|should (?:we|i))\b",
    re.IGNORECASE,
)


def load_questions(path: Path) -> list[EvalQuestion]:
    try:
        raw = parse_yaml(path.read_text(encoding="utf-8"))
        return EvalFile.model_validate(raw).questions
    except FileNotFoundError:
        raise MlreadyError(f"question file {path} not found") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise MlreadyError(f"{path} is not a readable YAML file: {exc}") from None
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise MlreadyError(f"{path}: field '{where}': {err['msg']}") from None


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    k = (len(ordered) - 1) * pct / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def evaluate(engine: AnswerEngine, questions: list[EvalQuestion], retriever: Retriever) -> EvalResult:
    engine.ask("warm-up question about KPIs", retriever)
    on_topic = [q for q in questions if q.cats]
    off_topic = [q for q in questions if q.expect == "none"]
    hit1 = hit3 = rr = 0.0
    wrongly_declined = declined_off = 0
    latencies: list[float] = []
    misses: list[dict] = []
    advice_questions = advice_lines = advice_total = without_advice = 0
    recalls: list[float] = []
    for q in questions:
        started = time.perf_counter()
        answer = engine.ask(q.q, retriever)
        latencies.append((time.perf_counter() - started) * 1000)
        if q.cats and answer.answered:
            if ASKS_FOR_ADVICE.search(q.q):
                advice_questions += 1
                advice = sum(line.section == WHAT_TO_DO for line in answer.lines)
                advice_lines += advice
                advice_total += len(answer.lines)
                without_advice += advice == 0
            if q.ideal:
                shown = {line.id for line in answer.lines}
                recalls.append(len(shown & set(q.ideal)) / len(q.ideal))
        if q.expect == "none":
            declined_off += not answer.answered
            if answer.answered:
                misses.append({"q": q.q, "expected": "decline", "confidence": answer.confidence})
            continue
        # Categories in the retriever's order, whether or not the answer was declined.
        cats = answer.ranked_categories
        rank = next((i for i, c in enumerate(cats) if c in q.cats), None)
        if rank is not None:
            hit1 += rank == 0
            hit3 += rank < 3
            rr += 1.0 / (rank + 1)
        if not answer.answered:
            wrongly_declined += 1
        if rank != 0 or not answer.answered:
            misses.append(
                {
                    "q": q.q,
                    "expected": q.cats,
                    "got": cats[:3],
                    "answered": answer.answered,
                    "confidence": answer.confidence,
                    # A wrong decline names the question to decline it was taken for, if any.
                    "out_of_scope": answer.out_of_scope,
                }
            )
    n_on = max(len(on_topic), 1)
    return EvalResult(
        n=len(questions),
        hit_at_1=round(hit1 / n_on, 4),
        hit_at_3=round(hit3 / n_on, 4),
        mrr=round(rr / n_on, 4),
        offtopic_declined=round(declined_off / max(len(off_topic), 1), 4),
        ontopic_declined=round(wrongly_declined / n_on, 4),
        latency_ms_p50=round(statistics.median(latencies), 2),
        latency_ms_p95=round(percentile(latencies, 95), 2),
        advice_questions=advice_questions,
        advice_share=round(advice_lines / max(advice_total, 1), 4),
        answers_without_advice=without_advice,
        ideal_questions=len(recalls),
        ideal_recall=round(statistics.fmean(recalls), 4) if recalls else 0.0,
        misses=misses,
    )
