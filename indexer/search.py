"""Dense (FAISS), BM25 and hybrid search over the stored index, ranking guides.

A guide's score from one retriever is its best chunk's score plus shares of its next two, so
a guide that matches in several places beats one lucky passage. The hybrid score is a
weighted sum of the dense one (cosines) and the BM25 one (divided by the best chunk's score):
unlike reciprocal rank fusion, it keeps how far ahead a guide is, so one clear match in both
retrievers is not outvoted by guides that are each a little close.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import NamedTuple

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN

from indexer.chunking import ASKED_AS_SECTION
from indexer.embedding import MAX_QUERY_CHARS
from indexer.retriever import Retriever
from indexer.store import StoredIndex

logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every index build at DEBUG

# Chosen on the two dev question files (bench/devset.yaml and bench/devset2.yaml), never on
# the held-out one; bench/RESULTS.md has the figures.
DENSE_WEIGHT = 0.7
NEXT_CHUNK_WEIGHTS = (0.5, 0.2)  # of a guide's second and third best chunks


class GuideScore(NamedTuple):
    """A guide's relevance to one question (a tuple: a question ranks every guide)."""

    doc_id: str
    category: str
    score: float  # the chosen retriever's score, as above
    dense: float  # the best cosine of question and one of the guide's chunks


@dataclass(frozen=True)
class Ranking:
    guides: list[GuideScore]
    closest_passage: float  # cosine of the query and the closest passage (not a profile)
    closest_asked: float  # cosine of the query and the closest asked_as question
    closest_out_of_scope: float = 0.0  # cosine of the query and the closest question to decline
    out_of_scope_example: str | None = None  # that question


class _Stem:
    """Snowball stemming, plus plain plural folding for acronyms it leaves alone ("KPIs")."""

    def __init__(self) -> None:
        self._stemmer = Stemmer.Stemmer("english")

    def __call__(self, words: list[str]) -> list[str]:
        stems = self._stemmer.stemWords(words)
        return [
            s[:-1] if s == w and len(w) > 3 and w.endswith("s") and not w.endswith("ss") else s
            for w, s in zip(words, stems, strict=True)
        ]


_STEM = _Stem()
# bm25s.tokenize's word pattern and English stop words: the same tokens without its set-up on
# every call, which cost a query more than scoring it (a test compares the two).
_WORD = re.compile(r"(?u)\b\w\w+\b")
_STOPWORDS = frozenset(STOPWORDS_EN)


def tokenize(texts: list[str]) -> list[list[str]]:
    return [_STEM([w for w in _WORD.findall(text.lower()) if w not in _STOPWORDS]) for text in texts]


class Searcher:
    """Holds the index in memory with a BM25 model over the same chunks."""

    def __init__(self, stored: StoredIndex) -> None:
        self.stored = stored
        # bm25s's own numpy backend builds the same matrix as its scipy one; the answer-only
        # install then needs no scipy (about 140 MB).
        self._bm25 = bm25s.BM25(csc_backend="numpy")
        self._bm25.index(tokenize([c.text for c in stored.chunks]), show_progress=False)
        self._units_of: dict[str, list[int]] = {}
        for row, unit in enumerate(stored.units):
            self._units_of.setdefault(unit.doc_id, []).append(row)
        self._docs = dict(stored.manifest.documents)
        # Each guide's chunk rows as one row of a padded matrix (the padding points one past the
        # last chunk), so each guide's best scores come from one gather and one sort.
        self._guides = sorted({c.doc_id for c in stored.chunks})
        rows_of: dict[str, list[int]] = {doc_id: [] for doc_id in self._guides}
        for row, chunk in enumerate(stored.chunks):
            rows_of[chunk.doc_id].append(row)
        width = max((len(rows) for rows in rows_of.values()), default=0)
        self._layout = np.full((len(self._guides), width), len(stored.chunks), dtype=np.int64)
        for i, rows in enumerate(rows_of.values()):
            self._layout[i, : len(rows)] = rows
        self._next_weights = np.array((1.0, *NEXT_CHUNK_WEIGHTS))[:width]
        self._guide_category = [self.category_of(doc_id) for doc_id in self._guides]
        # Passages proper, without the guides' profiles, and the asked_as questions apart: what
        # confidence is measured on.
        self._passages = np.array([not c.is_profile for c in stored.chunks], dtype=bool)
        self._asked = np.array([c.section == ASKED_AS_SECTION for c in stored.chunks], dtype=bool)

    def units_of(self, doc_id: str) -> list[int]:
        """Rows of the guide's units, in the guide's order."""
        return self._units_of.get(doc_id, [])

    def doc_ids(self) -> list[str]:
        return list(self._docs)

    def title_of(self, doc_id: str) -> str:
        entry = self._docs.get(doc_id)
        return entry.title if entry else doc_id

    def category_of(self, doc_id: str) -> str:
        entry = self._docs.get(doc_id)
        return entry.category if entry else ""

    def dense_scores(self, query_vec: np.ndarray) -> np.ndarray:
        """Cosine of the query and every chunk, by row: what the flat inner-product index
        computes, without its sort of all rows."""
        return (self.stored.chunk_vectors @ query_vec).astype(np.float64)

    def dense_ranking(self, query_vec: np.ndarray, k: int) -> list[tuple[int, float]]:
        k = min(k, self.stored.faiss_index.ntotal)
        scores, rows = self.stored.faiss_index.search(query_vec.reshape(1, -1), k)
        return [(int(r), float(s)) for r, s in zip(rows[0], scores[0], strict=True) if r >= 0]

    def bm25_scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk, by row."""
        tokens = tokenize([query[: MAX_QUERY_CHARS * 2]])[0]
        if not tokens:
            return np.zeros(len(self.stored.chunks))
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float64)

    def bm25_ranking(self, query: str, k: int) -> list[tuple[int, float]]:
        scores = self.bm25_scores(query)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(r), float(scores[r])) for r in top if scores[r] > 0]

    def by_guide(self, chunk_scores: np.ndarray, pad: float) -> np.ndarray:
        """Chunk scores as a row per guide, `pad` after the guide's last chunk."""
        return np.append(chunk_scores, pad)[self._layout]

    def summed(self, chunk_scores: np.ndarray) -> np.ndarray:
        """Each guide's best chunk score plus NEXT_CHUNK_WEIGHTS of its next two (scores >= 0)."""
        best = -np.sort(-self.by_guide(chunk_scores, 0.0), axis=1)[:, : len(self._next_weights)]
        return best @ self._next_weights

    def closest_out_of_scope(self, query_vec: np.ndarray) -> tuple[float, str | None]:
        """Cosine of the query and the closest question to decline, and that question."""
        questions = self.stored.out_of_scope
        if not questions:
            return 0.0, None
        cosines = self.stored.out_of_scope_vectors @ query_vec
        best = int(cosines.argmax())
        return float(cosines[best]), questions[best]

    def rank(self, query: str, query_vec: np.ndarray, retriever: Retriever = Retriever.hybrid) -> Ranking:
        """Every guide with a score above zero, best first (ties: by id), and how close the
        query comes to a passage, to an asked_as question (one product of vectors) and to a
        question to decline."""
        cosines = self.dense_scores(query_vec)
        closest_passage = float(cosines[self._passages].max()) if self._passages.any() else 0.0
        closest_asked = float(cosines[self._asked].max()) if self._asked.any() else 0.0
        out_of_scope = self.closest_out_of_scope(query_vec)
        if not self._guides:
            return Ranking([], closest_passage, closest_asked, *out_of_scope)
        best_cosine = self.by_guide(cosines, -1.0).max(axis=1)
        dense_weight = {Retriever.dense: 1.0, Retriever.bm25: 0.0}.get(retriever, DENSE_WEIGHT)
        score = np.zeros(len(self._guides))
        if dense_weight > 0:
            score += dense_weight * self.summed(np.clip(cosines, 0.0, None))
        if dense_weight < 1:
            lexical = self.bm25_scores(query)
            top = lexical.max()
            if top > 0:
                score += (1 - dense_weight) * self.summed(lexical / top)
        ranked = np.flatnonzero(score > 0)
        ranked = ranked[np.argsort(-score[ranked], kind="stable")]  # ids are sorted: ties by id
        guides = [
            GuideScore(self._guides[i], self._guide_category[i], float(score[i]), float(best_cosine[i]))
            for i in ranked
        ]
        return Ranking(guides, closest_passage, closest_asked, *out_of_scope)
