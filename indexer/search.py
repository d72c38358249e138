"""Dense (FAISS), BM25 and hybrid (reciprocal rank fusion) search over the stored index."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import bm25s
import numpy as np
import Stemmer

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


def tokenize(texts: list[str]) -> list[list[str]]:
    return bm25s.tokenize(texts, stopwords="en", stemmer=_STEM, show_progress=False, return_ids=False)


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
            fused: dict[int, float] = {}
            for ranking in (dense, lexical):
                for rank, (row, _) in enumerate(ranking):
                    fused[row] = fused.get(row, 0.0) + 1.0 / (RRF_K + rank + 1)
            ranked = sorted(
                ((row, s / self._max_rrf) for row, s in fused.items()),
                key=lambda item: (-item[1], item[0]),
            )
        vectors = self.stored.chunk_vectors
        return [
            Hit(self.stored.chunks[row], row, round(score, 4), float(vectors[row] @ query_vec))
            for row, score in ranked[:k]
        ]
