"""Compose a short, cited answer from the knowledge base, or decline an off-topic question.

Every line of an answer is a unit (sentence or bullet) of the knowledge base, quoted as
written and cited; nothing is generated unless the optional summary (bot/summary.py) is
configured, and that is verified against the lines and labelled.

How an answer is put together:
1. the question's intent (bot/intent.py) picks the sections that fit it;
2. search scores are summed per guide and the best guide leads with its 3-4 best-matching
   lines from those sections; a second guide adds one line only when the question spans
   two topics; a multi-part question gets up to two lines per part;
3. worked examples and the team questions are never answer lines: they sit behind buttons;
4. readiness questions are answered from the checklist.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from itertools import islice

import numpy as np

from bot.checklist import Checklist, ChecklistItem
from bot.intent import Intent, classify, split_parts
from indexer.embedding import TextEmbedder
from indexer.knowledge import category_title
from indexer.retriever import Retriever
from indexer.search import GuideScore, Ranking, Searcher

WHAT_TO_DO = "What to do"
WHAT_GOES_WRONG = "What goes wrong"
WARNING_SIGNS = "Warning signs"
INTRODUCTION = "Overview"
EXAMPLE_SECTION = "Worked example"
QUESTIONS_SECTION = "Questions to ask the team"
CHECKLIST_SECTION = "Checklist"
# Offered behind buttons, never quoted as answer lines: an example sentence alone reads as
# advice, and a question to the team is no answer.
NOT_ANSWER_LINES = {EXAMPLE_SECTION, QUESTIONS_SECTION}

# Added to a line's similarity to the question. Unit similarities of the lines of one guide
# spread over about 0.3, so a bonus of 0.3 makes the fitting section win unless another
# line is far closer to the question.
SECTION_FIT: dict[Intent, dict[str, float]] = {
    Intent.advice: {WHAT_TO_DO: 0.3, INTRODUCTION: -0.1},
    Intent.risks: {WHAT_GOES_WRONG: 0.3, WARNING_SIGNS: 0.3, INTRODUCTION: -0.05},
    Intent.definition: {INTRODUCTION: 0.35, WHAT_TO_DO: -0.05, WARNING_SIGNS: -0.05},
    Intent.general: {WHAT_TO_DO: 0.15},
    Intent.readiness: {WHAT_TO_DO: 0.3},
}

# Guides list their most important steps first: each later line of a section loses a little.
POSITION_DECAY = 0.03
LEAD_LINES = 3  # lines from the leading guide, and a fourth when it is about as close
FOURTH_LINE_MARGIN = 0.25
PART_LINES = 2  # per part of a multi-part question
MIN_LINE_WORDS = 5
# A second guide joins when it is from another category and nearly as relevant.
SECOND_TOPIC_RATIO = 0.9
SECOND_TOPIC_LINE_MARGIN = 0.05
RELATED_RATIO = 0.45  # related guides offered as buttons score at least this share of the best
MAX_RELATED = 2
MAX_CLOSEST = 3  # closest topics named in a decline
MAX_CHECKLIST_LINES = 5
# Declines: closest topics are shown only when this close (cosine of question and passage),
# so "weather in Paris" suggests nothing; between NEAR_DOMAIN_MARGIN below the threshold and
# the threshold, a question is near the domain and points at the nearest guides.
CLOSEST_TOPIC_FLOOR = 0.27
# Topics are suggested only to questions in the words of ML or software work: by similarity
# alone, "book a meeting room" is as close to the guides as "deploy a model on kubernetes".
TECH_WORDS = re.compile(
    r"\b(?:ml|ai|models?|machine learning|pytorch|tensorflow|sklearn|scikit|kubernetes|k8s|docker|"
    r"deploy\w*|pipelines?|datasets?|data|training|train|inference|gpus?|features?|apis?|serving|"
    r"mlops|llms?|predictions?|classifiers?|neural|embeddings?|labels?|metrics?)\b",
    re.IGNORECASE,
)
NEAR_DOMAIN_MARGIN = 0.1
# A question is closer to a question than to a passage: "has anyone else's chatbot blown up like
# this?" is 0.33 from the closest passage (declined) but 0.66 from an asked_as question. On the
# two dev sets, off-topic questions came at most 0.50 near an asked_as question; this offset
# answers from 0.595 (at the default threshold).
ASKED_AS_OFFSET = 0.25
# Questions to decline (out_of_scope.yaml in a knowledge folder): a question at least
# OUT_OF_SCOPE_MARGIN nearer to one of them than to every asked_as question is declined with no
# guide suggested, unless its confidence reaches OUT_OF_SCOPE_CEILING. "how do i get signed by a
# fashion model agency" is 0.36 from a passage: answered before, and any decline pointed at the
# "nearest guides". Chosen on the dev question files (bench/RESULTS.md).
OUT_OF_SCOPE_MARGIN = 0.1
OUT_OF_SCOPE_CEILING = 0.5

TOPICS_LINE = (
    "objectives and KPIs, stakeholders and sign-off, data quality and volume, team "
    "expertise, infrastructure, integration, monitoring and responsible AI"
)
CHECKLIST_HINT = "Run `/mlready checklist` in your project channel to see where your project stands."


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
class Line:
    """One quoted answer line: a unit of the knowledge base, or a checklist item."""

    id: str  # unit id ("kpis-choosing-a-kpi#what-to-do-2") or checklist item id
    text: str
    source: int  # index into Answer.sources
    section: str  # of the guide, or "Checklist"

    def to_dict(self) -> dict:
        return {"id": self.id, "text": self.text, "source": self.source, "section": self.section}


@dataclass(frozen=True)
class GuideLink:
    doc_id: str
    title: str

    def to_dict(self) -> dict:
        return {"doc_id": self.doc_id, "title": self.title}


@dataclass(frozen=True)
class Answer:
    question: str
    answered: bool
    confidence: float
    answer: str
    sources: list[Source]
    lines: list[Line] = field(default_factory=list)
    intent: str = Intent.general.value
    guide: str | None = None  # the leading guide: Read the guide, Example, Questions for your team
    related: list[GuideLink] = field(default_factory=list)  # up to two more guides, as buttons
    closest_topics: list[str] = field(default_factory=list)
    near_domain: bool = False  # declined, but close enough to point at the nearest guides
    summary: str | None = None  # generated and verified; None unless configured
    out_of_scope: str | None = None  # declined as like this question to decline
    ranked_categories: list[str] = field(default_factory=list)  # of all hits, best first

    @property
    def outcome(self) -> str:
        """answered, declined, or out_of_scope (declined as like a question to decline)."""
        if self.answered:
            return "answered"
        return "out_of_scope" if self.out_of_scope else "declined"

    def to_json(self) -> dict:
        return {
            "question": self.question,
            "answered": self.answered,
            "confidence": self.confidence,
            "answer": self.answer,
            "sources": [s.to_dict() for s in self.sources],
            "intent": self.intent,
            "lines": [line.to_dict() for line in self.lines],
            "guide": self.guide,
            "related": [r.to_dict() for r in self.related],
            "summary": self.summary,
            "out_of_scope": self.out_of_scope,
        }


def decline_message(closest: list[str], near_domain: bool) -> str:
    if near_domain and closest:
        return (
            "My guides do not cover that in depth: I help with getting ML projects ready "
            f"({TOPICS_LINE}). The nearest guides I have: " + "; ".join(closest) + "."
        )
    text = f"Sorry, I can only help with questions about getting ML projects ready: {TOPICS_LINE}."
    if closest:
        text += " Closest topics I know: " + "; ".join(closest) + "."
    return text


def guide_links(guides: Iterable[GuideScore], searcher: Searcher, limit: int) -> list[GuideLink]:
    """The first `limit` guides, as buttons: guides are ranked in full, most are never shown."""
    return [GuideLink(g.doc_id, searcher.title_of(g.doc_id)) for g in islice(guides, limit)]


def render_lines(lines: Sequence[Line]) -> str:
    return "\n".join(f"• {line.text} [{line.source + 1}]" for line in lines)


@dataclass(frozen=True)
class _Candidate:
    row: int  # unit row in the index
    value: float  # similarity plus section fit and position


@dataclass(frozen=True)
class _Quotable:
    """A guide's lines that may be answer lines, with what their value does not owe the question."""

    rows: np.ndarray  # unit rows, in the guide's order
    sections: list[str]
    decay: np.ndarray  # POSITION_DECAY per earlier line of the same section


# Per index (a reload brings a new Searcher, and the old one's entries go with it).
_QUOTABLE: weakref.WeakKeyDictionary[Searcher, dict[str, _Quotable]] = weakref.WeakKeyDictionary()


def quotable_lines(searcher: Searcher, doc_id: str) -> _Quotable:
    known = _QUOTABLE.setdefault(searcher, {})
    if doc_id not in known:
        units = searcher.stored.units
        rows = [
            r
            for r in searcher.units_of(doc_id)
            if units[r].section not in NOT_ANSWER_LINES
            and len(units[r].text.split()) >= MIN_LINE_WORDS
            and not units[r].text.endswith("?")
        ]
        known[doc_id] = _Quotable(
            np.array(rows, dtype=np.int64),
            [units[r].section for r in rows],
            np.array([POSITION_DECAY * position_of(units[r].id) for r in rows]),
        )
    return known[doc_id]


def best_lines(searcher: Searcher, doc_id: str, query_vec: np.ndarray, intent: Intent) -> list[_Candidate]:
    """The guide's quotable lines, best first for this intent."""
    quotable = quotable_lines(searcher, doc_id)
    if not len(quotable.rows):
        return []
    fit = SECTION_FIT[intent]
    values = (
        (searcher.stored.unit_vectors[quotable.rows] @ query_vec).astype(np.float64)
        + np.array([fit.get(section, 0.0) for section in quotable.sections])
        - quotable.decay
    )
    order = np.lexsort((quotable.rows, -values))
    return [_Candidate(int(quotable.rows[i]), float(values[i])) for i in order]


def position_of(unit_id: str) -> int:
    """0 for the first line of its section ("...#what-to-do-1")."""
    tail = unit_id.rsplit("-", 1)[-1]
    return int(tail) - 1 if tail.isdigit() else 0


def lead_lines(candidates: list[_Candidate]) -> list[_Candidate]:
    chosen = candidates[:LEAD_LINES]
    if len(candidates) > LEAD_LINES and candidates[LEAD_LINES].value >= chosen[0].value - FOURTH_LINE_MARGIN:
        chosen.append(candidates[LEAD_LINES])
    return chosen


def confidence_of(ranking: Ranking) -> float:
    """Cosine similarity of the question and the closest passage of the knowledge base (not a
    guide's profile of keywords), whatever the retriever, so that one threshold serves all; or,
    when higher, its similarity to the closest asked_as question less ASKED_AS_OFFSET."""
    closest = max(ranking.closest_passage, ranking.closest_asked - ASKED_AS_OFFSET)
    return round(min(max(closest, 0.0), 1.0), 4)


def out_of_scope_match(ranking: Ranking, confidence: float) -> str | None:
    """The question to decline that this question is taken for, if any (see OUT_OF_SCOPE_MARGIN)."""
    if ranking.out_of_scope_example is None or confidence >= OUT_OF_SCOPE_CEILING:
        return None
    if ranking.closest_out_of_scope < ranking.closest_asked + OUT_OF_SCOPE_MARGIN:
        return None
    return ranking.out_of_scope_example


class AnswerEngine:
    """Embeds the question, searches the index and composes the answer."""

    def __init__(
        self,
        searcher: Searcher,
        embedder: TextEmbedder,
        threshold: float,
        checklist: Checklist | None = None,
        summarize: Callable[[str, list[str]], str | None] | None = None,
    ) -> None:
        self.searcher = searcher
        self.embedder = embedder
        self.threshold = threshold
        self.checklist = checklist
        self.summarize = summarize  # (question, lines) -> verified summary, or None

    def ask(self, question: str, retriever: Retriever = Retriever.hybrid) -> Answer:
        text = " ".join(question.split())
        if not text:
            raise EmptyQuestionError(
                "the question is empty; ask something, e.g. 'how do we pick a KPI for churn?'"
            )
        searcher = self.searcher  # one index per answer, even if a reload swaps it meanwhile
        parts = split_parts(text)
        if len(parts) > 1:  # the parts come from the same pass of the model as the question
            vectors = self.embedder.encode_parts(text, parts)
            query_vec, part_vecs = vectors[0], list(vectors[1:])
        else:
            query_vec, part_vecs = self.embedder.encode_query(text), []
        answer = self.compose(question, text, query_vec, parts, part_vecs, searcher, retriever)
        if answer.answered and self.summarize is not None and answer.intent != Intent.readiness:
            summary = self.summarize(text, [line.text for line in answer.lines])
            if summary:
                answer = replace(answer, summary=summary)
        return answer

    def compose(
        self,
        question: str,
        text: str,
        query_vec: np.ndarray,
        parts: list[str],
        part_vecs: list[np.ndarray],
        searcher: Searcher,
        retriever: Retriever,
    ) -> Answer:
        ranking = searcher.rank(text, query_vec, retriever)
        guides = ranking.guides
        ranked_categories = list(dict.fromkeys(g.category for g in guides))
        confidence = confidence_of(ranking)
        intent = classify(text)
        like = out_of_scope_match(ranking, confidence)
        if not guides or confidence < self.threshold or like is not None:
            return self._decline(question, confidence, searcher, guides, ranked_categories, like)

        if intent == Intent.readiness and self.checklist is not None:
            return self._readiness(question, confidence, guides, searcher, ranked_categories)

        picked: list[tuple[str, _Candidate]] = []  # (doc_id, line)
        if len(parts) > 1:
            picked = self._parts(parts, part_vecs, searcher, retriever)
        if not picked:  # one part, or no part found a guide on its own
            picked = self._single(query_vec, intent, guides, searcher)
        used_docs = list(dict.fromkeys(doc for doc, _ in picked))
        top = guides[0].score
        related = guide_links(
            (g for g in guides if g.doc_id not in used_docs and g.score >= RELATED_RATIO * top),
            searcher,
            MAX_RELATED,
        )
        return self._answer(
            question, confidence, intent, picked, guides, searcher, ranked_categories, related
        )

    def _single(
        self, query_vec: np.ndarray, intent: Intent, guides: list[GuideScore], searcher: Searcher
    ) -> list[tuple[str, _Candidate]]:
        lead = guides[0].doc_id
        candidates = best_lines(searcher, lead, query_vec, intent)
        picked = [(lead, c) for c in lead_lines(candidates)]
        lead_category = guides[0].category
        for other in guides[1:3]:
            if other.score < SECOND_TOPIC_RATIO * guides[0].score:
                break
            if other.category == lead_category:
                continue
            extra = best_lines(searcher, other.doc_id, query_vec, intent)
            if extra and candidates and extra[0].value >= candidates[0].value - SECOND_TOPIC_LINE_MARGIN:
                picked.append((other.doc_id, extra[0]))
            break
        return picked

    def _parts(
        self, parts: list[str], part_vecs: list[np.ndarray], searcher: Searcher, retriever: Retriever
    ) -> list[tuple[str, _Candidate]]:
        picked: list[tuple[str, _Candidate]] = []
        seen: set[int] = set()
        for part, vec in zip(parts, part_vecs, strict=True):
            ranking = searcher.rank(part, vec, retriever)
            if confidence_of(ranking) < self.threshold:
                continue  # "how high should it be" alone finds nothing: the other parts answer
            guides = ranking.guides
            if not guides:
                continue
            doc = guides[0].doc_id
            fresh = [c for c in best_lines(searcher, doc, vec, classify(part)) if c.row not in seen]
            for c in fresh[:PART_LINES]:
                seen.add(c.row)
                picked.append((doc, c))
        return picked

    def _answer(
        self,
        question: str,
        confidence: float,
        intent: Intent,
        picked: list[tuple[str, _Candidate]],
        guides: list[GuideScore],
        searcher: Searcher,
        ranked_categories: list[str],
        related: list[GuideLink],
    ) -> Answer:
        stored = searcher.stored
        score_of = {g.doc_id: g.score for g in guides}
        top = guides[0].score or 1.0
        # Sources are (guide, section) pairs in the order the lines first cite them. Within a
        # guide, the sections that fit the question come first (advice leads a how-question),
        # and lines keep the guide's own order, which reads better than best-first.
        sources: list[Source] = []
        index_of: dict[tuple[str, str], int] = {}
        lines: list[Line] = []
        doc_order = list(dict.fromkeys(doc for doc, _ in picked))
        fit = SECTION_FIT[intent]
        for doc in doc_order:
            rows = sorted(
                (c.row for d, c in picked if d == doc),
                key=lambda row: (-fit.get(stored.units[row].section, 0.0), row),
            )
            for row in rows:
                unit = stored.units[row]
                key = (doc, unit.section)
                if key not in index_of:
                    index_of[key] = len(sources)
                    sources.append(
                        Source(
                            doc,
                            searcher.title_of(doc),
                            unit.section,
                            searcher.category_of(doc),
                            round(min(score_of.get(doc, 0.0) / top, 1.0), 4),
                        )
                    )
                lines.append(Line(unit.id, unit.text, index_of[key], unit.section))
        return Answer(
            question,
            True,
            confidence,
            render_lines(lines),
            sources,
            lines,
            intent=intent.value,
            guide=doc_order[0] if doc_order else None,
            related=related,
            ranked_categories=ranked_categories,
        )

    def _readiness(
        self,
        question: str,
        confidence: float,
        guides: list[GuideScore],
        searcher: Searcher,
        ranked_categories: list[str],
    ) -> Answer:
        """The blocking checklist items, those of the guides the question is closest to first;
        each is cited with the guide it links to."""
        assert self.checklist is not None
        rank_of = {g.doc_id: i for i, g in enumerate(guides)}
        known = set(searcher.doc_ids())

        def order(item: ChecklistItem) -> tuple[int, int]:
            linked = [rank_of[d] for d in item.docs if d in rank_of]
            return (min(linked) if linked else len(rank_of), 0)

        items = sorted(
            (i for i in self.checklist.items() if i.blocking and any(d in known for d in i.docs)),
            key=order,
        )[:MAX_CHECKLIST_LINES]
        sources: list[Source] = []
        index_of: dict[str, int] = {}
        lines: list[Line] = []
        for item in items:
            doc = next(d for d in item.docs if d in known)
            if doc not in index_of:
                index_of[doc] = len(sources)
                sources.append(
                    Source(doc, searcher.title_of(doc), CHECKLIST_SECTION, searcher.category_of(doc), 1.0)
                )
            lines.append(Line(item.id, item.question, index_of[doc], CHECKLIST_SECTION))
        text = "Before launch, settle these blocking checklist items:\n" + render_lines(lines)
        return Answer(
            question,
            True,
            confidence,
            text + "\n" + CHECKLIST_HINT,
            sources,
            lines,
            intent=Intent.readiness.value,
            guide=guides[0].doc_id,
            related=guide_links(guides[1:], searcher, MAX_RELATED),
            ranked_categories=ranked_categories,
        )

    def _decline(
        self,
        question: str,
        confidence: float,
        searcher: Searcher,
        guides: list[GuideScore],
        ranked_categories: list[str],
        out_of_scope: str | None,
    ) -> Answer:
        close = []
        if out_of_scope is None and TECH_WORDS.search(question):
            close = guide_links((g for g in guides if g.dense >= CLOSEST_TOPIC_FLOOR), searcher, MAX_CLOSEST)
        closest = [g.title for g in close]
        near = bool(closest) and confidence >= self.threshold - NEAR_DOMAIN_MARGIN
        return Answer(
            question,
            False,
            confidence,
            decline_message(closest, near),
            [],
            closest_topics=closest,
            near_domain=near,
            related=close[:MAX_RELATED] if near else [],
            ranked_categories=ranked_categories,
            out_of_scope=out_of_scope,
        )


def format_text(answer: Answer) -> str:
    """A readable rendering for the terminal."""
    if not answer.answered:
        return answer.answer + "\nTip: run `/mlready checklist` in Slack to see where your project stands."
    lines = []
    if answer.summary:
        lines += [f"Summary (generated, checked against the lines below): {answer.summary}", ""]
    lines += [answer.answer, "", "Sources:"]
    lines += [
        f"  [{i}] {s.title} — {s.section} ({category_title(s.category)})"
        for i, s in enumerate(answer.sources, 1)
    ]
    if answer.related:
        lines += ["", "Related guides: " + "; ".join(r.title for r in answer.related)]
    return "\n".join(lines)
