"""Search over the stored index: the BM25 tokens, the confidence measure and hybrid ranking."""

from __future__ import annotations

from pathlib import Path

import bm25s
import numpy as np

from bot.evaluation import load_questions
from indexer.chunking import chunk_document
from indexer.knowledge import load_documents, shipped_knowledge_dir
from indexer.retriever import Retriever
from indexer.search import _STEM, RRF_K, Searcher, tokenize
from indexer.store import load_index

ROOT = Path(__file__).resolve().parents[2]


def test_tokens_are_those_bm25s_makes() -> None:
    """Our tokenizer only skips bm25s's per-call set-up: every passage and question of both
    question files gives the same tokens."""
    texts = [c.text for d in load_documents([shipped_knowledge_dir()]) for c in chunk_document(d)[1]]
    texts += [q.q for name in ("devset", "heldout") for q in load_questions(ROOT / "bench" / f"{name}.yaml")]
    texts += ["", "a I", "KPIs, MLOps & A/B-tests: naïve café ünïcode 42x", "R&D's p95 — résumé"]
    expected = bm25s.tokenize(texts, stopwords="en", stemmer=_STEM, show_progress=False, return_ids=False)
    assert tokenize(texts) == expected


def test_confidence_is_the_closest_passage_not_a_profile(shipped_index: Path, engine) -> None:
    searcher = Searcher(load_index(shipped_index))
    vectors = searcher.stored.chunk_vectors
    passages = [row for row, c in enumerate(searcher.stored.chunks) if not c.is_profile]
    profiles = [row for row, c in enumerate(searcher.stored.chunks) if c.is_profile]
    assert passages and profiles
    for question in ("how do we pick a KPI for churn?", "what's the weather in Paris"):
        vec = engine.embedder.encode_query(question)
        assert searcher.closest_passage(vec) == float(np.max(vectors[passages] @ vec))
    # A profile's own vector is closest to itself, yet confidence measures passages only.
    own = vectors[profiles[0]]
    assert searcher.closest_passage(own) < float(own @ own) - 1e-3


def test_hybrid_ranks_by_reciprocal_rank_fusion(shipped_index: Path, engine) -> None:
    searcher = Searcher(load_index(shipped_index))
    question = "our labels come from 3 annotators who disagree, what now?"
    vec = engine.embedder.encode_query(question)
    dense = [row for row, _ in searcher.dense_ranking(vec, 50)]
    lexical = [row for row, _ in searcher.bm25_ranking(question, 50)]

    def fused(row: int) -> float:
        return sum(1.0 / (RRF_K + ranking.index(row) + 1) for ranking in (dense, lexical) if row in ranking)

    hits = searcher.search(question, vec, Retriever.hybrid, k=24)
    assert len(hits) == 24
    scores = [fused(h.row) for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert {h.row for h in hits} >= {r for r in set(dense) | set(lexical) if fused(r) > scores[-1]}
    assert hits[0].score == round(scores[0] / (2.0 / (RRF_K + 1)), 4)
    for hit in hits:
        assert abs(hit.dense_score - float(searcher.stored.chunk_vectors[hit.row] @ vec)) < 1e-5
