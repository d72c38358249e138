"""Compose a short, cited answer from search hits, or decline an off-topic question.

Every sentence of an answer is a unit (sentence or bullet) of the knowledge base,
quoted as written and cited; nothing is generated.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from indexer.embedding import Embedder
from indexer.knowledge import CATEGORY_TITLES
from indexer.retriever import Retriever
from indexer.search import Hit, Searcher

MAX_UNITS = 4
MAX_UNITS_PER_CHUNK = 2
CHUNKS_FOR_ANSWER = 4
MIN_UNIT_WORDS = 5
UNIT_RELEVANCE_MARGIN = 0.2  # units far less similar than the best one are left out
QUESTION_PENALTY = 0.1  # "Questions to ask the team" bullets are prompts, not answers
ADVICE_SECTIONS = {"What to do": 0.05}

TOPICS_LINE = (
    "objectives and KPIs, stakeholders and sign-off, data quality and volume, team "
    "expertise, infrastructure, integration, monitoring and responsible AI"
)


class EmptyQuestionError(ValueError):
    pass


@dataclass(frozen=True)
class Source:
    doc_id: str
    title: str
    section: str
    category: str
    score: float

    def to_dict(self) -> dict:
        return {
            "doc_id": self.doc_id,
            "title": self.title,
            "section": self.section,
            "category": self.category,
            "score": self.score,
        }


@dataclass(frozen=True)
class Quote:
    text: str
    source: int  # index into Answer.sources


@dataclass(frozen=True)
class Answer:
    question: str
    answered: bool
    confidence: float
    answer: str
    sources: list[Source]
    quotes: list[Quote] = field(default_factory=list)
    closest_topics: list[str] = field(default_factory=list)
    ranked_categories: list[str] = field(default_factory=list)  # of all hits, best first

    def to_json(self) -> dict:
        return {
            "question": self.question,
            "answered": self.answered,
            "confidence": self.confidence,
            "answer": self.answer,
            "sources": [s.to_dict() for s in self.sources],
        }


def decline_message(closest: list[str]) -> str:
    text = f"Sorry, I can only help with questions about getting ML projects ready: {TOPICS_LINE}."
    if closest:
        text += " Closest topics I know: " + "; ".join(closest) + "."
    return text


def confidence_of(query_vec: np.ndarray, searcher: Searcher) -> float:
    """Cosine similarity of the question and the closest passage in the whole knowledge base.

    Measured on the dense ranking whatever the retriever, so that one threshold serves all."""
    best = searcher.dense_ranking(query_vec, 1)
    return round(float(min(max(best[0][1] if best else 0.0, 0.0), 1.0)), 4)


def compose(
    question: str, query_vec: np.ndarray, hits: list[Hit], searcher: Searcher, threshold: float
) -> Answer:
    confidence = confidence_of(query_vec, searcher)
    ranked = list(dict.fromkeys(h.chunk.category for h in hits))
    if not hits or confidence < threshold:
        closest = list(dict.fromkeys(h.chunk.title for h in hits))[:3]
        return Answer(
            question,
            False,
            confidence,
            decline_message(closest),
            [],
            closest_topics=closest,
            ranked_categories=ranked,
        )

    stored = searcher.stored
    candidates: list[tuple[float, str, Hit]] = []
    seen: set[str] = set()
    for hit in hits[:CHUNKS_FOR_ANSWER]:
        rows = range(hit.chunk.unit_start, hit.chunk.unit_end)
        sims = stored.unit_vectors[hit.chunk.unit_start : hit.chunk.unit_end] @ query_vec
        for row, sim in zip(rows, sims, strict=True):
            text = stored.units[row].text
            if text in seen or len(text.split()) < MIN_UNIT_WORDS:
                continue
            seen.add(text)
            value = float(sim) + 0.15 * hit.score + ADVICE_SECTIONS.get(hit.chunk.section, 0.0)
            if text.endswith("?"):
                value -= QUESTION_PENALTY
            candidates.append((value, text, hit))
    candidates.sort(key=lambda c: -c[0])

    chosen: list[tuple[float, str, Hit]] = []
    per_chunk: dict[int, int] = {}
    for cand in candidates:
        if chosen and cand[0] < chosen[0][0] - UNIT_RELEVANCE_MARGIN:
            break
        if per_chunk.get(cand[2].row, 0) >= MAX_UNITS_PER_CHUNK:
            continue
        per_chunk[cand[2].row] = per_chunk.get(cand[2].row, 0) + 1
        chosen.append(cand)
        if len(chosen) == MAX_UNITS:
            break

    # Sources best first; a source is a (document, section) pair.
    by_key: dict[tuple[str, str], Hit] = {}
    for _, _, hit in chosen:
        key = (hit.chunk.doc_id, hit.chunk.section)
        if key not in by_key or hit.score > by_key[key].score:
            by_key[key] = hit
    ordered = sorted(by_key.items(), key=lambda kv: -kv[1].score)
    index_of = {key: i for i, (key, _) in enumerate(ordered)}
    sources = [
        Source(h.chunk.doc_id, h.chunk.title, h.chunk.section, h.chunk.category, h.score) for _, h in ordered
    ]
    quotes = sorted(
        (Quote(text, index_of[(hit.chunk.doc_id, hit.chunk.section)]) for _, text, hit in chosen),
        key=lambda q: q.source,
    )
    answer_text = "\n".join(f"• {q.text} [{q.source + 1}]" for q in quotes)
    return Answer(question, True, confidence, answer_text, sources, quotes, ranked_categories=ranked)


class AnswerEngine:
    """Embeds the question, searches the index and composes the answer."""

    def __init__(self, searcher: Searcher, embedder: Embedder, threshold: float) -> None:
        self.searcher = searcher
        self.embedder = embedder
        self.threshold = threshold

    def ask(self, question: str, retriever: Retriever = Retriever.hybrid) -> Answer:
        text = " ".join(question.split())
        if not text:
            raise EmptyQuestionError(
                "the question is empty; ask something, e.g. 'how do we pick a KPI for churn?'"
            )
        searcher = self.searcher  # one index per answer, even if a reload swaps it meanwhile
        query_vec = self.embedder.encode_query(text)
        hits = searcher.search(text, query_vec, retriever)
        return compose(question, query_vec, hits, searcher, self.threshold)


def category_title(slug: str) -> str:
    return CATEGORY_TITLES.get(slug, slug)


def format_text(answer: Answer) -> str:
    """A readable rendering for the terminal."""
    if not answer.answered:
        return answer.answer + "\nTip: run `/mlready checklist` in Slack to see where your project stands."
    lines = [answer.answer, "", "Sources:"]
    lines += [
        f"  [{i}] {s.title} — {s.section} ({category_title(s.category)})"
        for i, s in enumerate(answer.sources, 1)
    ]
    return "\n".join(lines)
