"""Dense (FAISS), BM25 and hybrid (reciprocal rank fusion) search over the stored index."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN

from indexer.embedding import MAX_QUERY_CHARS
from indexer.retriever import Retriever
from indexer.store import ChunkMeta, StoredIndex

logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every index build at DEBUG

RRF_K = 60
CANDIDATES = 50


@dataclass(frozen=True)
class Hit:
    chunk: ChunkMeta
    row: int
    score: float  # the ranking score of the chosen retriever, 0..1
    dense_score: float  # cosine similarity of query and chunk


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
        self._max_rrf = 2.0 / (RRF_K + 1)
        self._units_of: dict[str, list[int]] = {}
        for row, unit in enumerate(stored.units):
            self._units_of.setdefault(unit.doc_id, []).append(row)
        self._docs = dict(stored.manifest.documents)
        # Passages proper, without the guides' keyword profiles: what confidence is measured on.
        self._passage_vectors = stored.chunk_vectors[[not c.is_profile for c in stored.chunks]]

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

    def closest_passage(self, query_vec: np.ndarray) -> float:
        """Cosine similarity of the query and the closest passage."""
        if not len(self._passage_vectors):
            return 0.0
        return float(np.max(self._passage_vectors @ query_vec))

    def dense_ranking(self, query_vec: np.ndarray, k: int) -> list[tuple[int, float]]:
        k = min(k, self.stored.faiss_index.ntotal)
        scores, rows = self.stored.faiss_index.search(query_vec.reshape(1, -1), k)
        return [(int(r), float(s)) for r, s in zip(rows[0], scores[0], strict=True) if r >= 0]

    def bm25_ranking(self, query: str, k: int) -> list[tuple[int, float]]:
        tokens = tokenize([query[: MAX_QUERY_CHARS * 2]])[0]
        if not tokens:
            return []
        scores = self._bm25.get_scores(tokens)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(r), float(scores[r])) for r in top if scores[r] > 0]

    def search(
        self,
        query: str,
        query_vec: np.ndarray,
        retriever: Retriever = Retriever.hybrid,
        k: int = 8,
    ) -> list[Hit]:
        dense = self.dense_ranking(query_vec, CANDIDATES) if retriever != Retriever.bm25 else []
        lexical = self.bm25_ranking(query, CANDIDATES) if retriever != Retriever.dense else []
        if retriever == Retriever.dense:
            ranked = [(row, max(score, 0.0)) for row, score in dense]
        elif retriever == Retriever.bm25:
            top = lexical[0][1] if lexical else 1.0
            ranked = [(row, score / top) for row, score in lexical]
        else:
            fused = np.zeros(len(self.stored.chunks))
            for ranking in (dense, lexical):
                rows = np.array([row for row, _ in ranking], dtype=np.int64)
                fused[rows] += 1.0 / (RRF_K + np.arange(len(rows)) + 1)
            found = np.flatnonzero(fused)
            best = found[np.lexsort((found, -fused[found]))][:k]  # ties: lower row first
            ranked = [(int(row), float(fused[row] / self._max_rrf)) for row in best]
        ranked = ranked[:k]
        cosines = self.stored.chunk_vectors[[row for row, _ in ranked]] @ query_vec
        return [
            Hit(self.stored.chunks[row], row, round(score, 4), float(cosine))
            for (row, score), cosine in zip(ranked, cosines, strict=True)
        ]
