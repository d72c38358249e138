"""Search over the stored index: the BM25 tokens, the confidence measure and ranking guides."""

from __future__ import annotations

from pathlib import Path

import bm25s
import numpy as np

from bot.evaluation import load_questions
from indexer.chunking import ASKED_AS_SECTION, PROFILE_SECTION, chunk_document
from indexer.knowledge import load_documents, load_out_of_scope, shipped_knowledge_dir
from indexer.retriever import Retriever
from indexer.search import _STEM, DENSE_WEIGHT, NEXT_CHUNK_WEIGHTS, Searcher, tokenize
from indexer.store import load_index

ROOT = Path(__file__).resolve().parents[2]


def test_tokens_are_those_bm25s_makes() -> None:
    """Our tokenizer only skips bm25s's per-call set-up: every passage and question of both
    question files gives the same tokens."""
    texts = [c.text for d in load_documents([shipped_knowledge_dir()]) for c in chunk_document(d)[1]]
    texts += [
        q.q
        for name in ("devset", "devset2", "heldout")
        for q in load_questions(ROOT / "bench" / f"{name}.yaml")
    ]
    texts += ["", "a I", "KPIs, MLOps & A/B-tests: naïve café ünïcode 42x", "R&D's p95 — résumé"]
    expected = bm25s.tokenize(texts, stopwords="en", stemmer=_STEM, show_progress=False, return_ids=False)
    assert tokenize(texts) == expected


def test_closest_passage_and_asked_question_never_a_profile(shipped_index: Path, engine) -> None:
    searcher = Searcher(load_index(shipped_index))
    chunks, vectors = searcher.stored.chunks, searcher.stored.chunk_vectors
    passages = [row for row, c in enumerate(chunks) if not c.is_profile]
    asked = [row for row, c in enumerate(chunks) if c.section == ASKED_AS_SECTION]
    topics = [row for row, c in enumerate(chunks) if c.section == PROFILE_SECTION]
    assert passages and asked and topics
    assert all(chunks[row].is_profile for row in asked)
    for question in ("how do we pick a KPI for churn?", "what's the weather in Paris"):
        vec = engine.embedder.encode_query(question)
        ranking = searcher.rank(question, vec)
        assert abs(ranking.closest_passage - float(np.max(vectors[passages] @ vec))) < 1e-6
        assert abs(ranking.closest_asked - float(np.max(vectors[asked] @ vec))) < 1e-6
    # A keyword profile's own vector is closest to itself, yet it is neither a passage nor asked.
    own = vectors[topics[0]]
    ranking = searcher.rank("", own)
    assert max(ranking.closest_passage, ranking.closest_asked) < float(own @ own) - 1e-3


def test_closest_question_to_decline(shipped_index: Path, engine) -> None:
    stored = load_index(shipped_index)
    searcher = Searcher(stored)
    assert stored.out_of_scope == load_out_of_scope()
    for question in ("how do i get my puppy to stop pulling on the lead", "how do we pick a KPI for churn?"):
        vec = engine.embedder.encode_query(question)
        cosines = stored.out_of_scope_vectors @ vec
        ranking = searcher.rank(question, vec)
        assert abs(ranking.closest_out_of_scope - float(cosines.max())) < 1e-6
        assert ranking.out_of_scope_example == stored.out_of_scope[int(cosines.argmax())]
    # Asked exactly as a question to decline: that one is the closest.
    question = stored.out_of_scope[7]
    ranking = searcher.rank(question, engine.embedder.encode_query(question))
    assert ranking.out_of_scope_example == question and ranking.closest_out_of_scope > 0.999


def test_guides_ranked_by_their_best_chunks_in_both_retrievers(shipped_index: Path, engine) -> None:
    searcher = Searcher(load_index(shipped_index))
    chunks = searcher.stored.chunks
    question = "our labels come from 3 annotators who disagree, what now?"
    vec = engine.embedder.encode_query(question)
    cosines = np.clip(searcher.stored.chunk_vectors @ vec, 0.0, None)
    lexical = np.array(searcher._bm25.get_scores(tokenize([question])[0]))
    lexical /= lexical.max()

    def of_guide(scores: np.ndarray, doc_id: str) -> float:
        best = sorted(
            (float(s) for s, c in zip(scores, chunks, strict=True) if c.doc_id == doc_id), reverse=True
        )
        return sum(w * s for w, s in zip((1.0, *NEXT_CHUNK_WEIGHTS), best, strict=False))

    expected = {
        Retriever.dense: lambda d: of_guide(cosines, d),
        Retriever.bm25: lambda d: of_guide(lexical, d),
        Retriever.hybrid: lambda d: (
            DENSE_WEIGHT * of_guide(cosines, d) + (1 - DENSE_WEIGHT) * of_guide(lexical, d)
        ),
    }
    for retriever, score in expected.items():
        ranked = searcher.rank(question, vec, retriever).guides
        assert len(ranked) == len(searcher.doc_ids())
        for guide in ranked:
            assert abs(guide.score - score(guide.doc_id)) < 1e-3, (retriever, guide)
            best = max(
                float(vec @ searcher.stored.chunk_vectors[r])
                for r, c in enumerate(chunks)
                if c.doc_id == guide.doc_id
            )
            assert abs(guide.dense - best) < 1e-5
        assert [g.score for g in ranked] == sorted((g.score for g in ranked), reverse=True)
    assert searcher.rank(question, vec).guides[0].doc_id.startswith("data-quality-label")


def test_a_question_of_stop_words_is_ranked_by_meaning_alone(shipped_index: Path, engine) -> None:
    searcher = Searcher(load_index(shipped_index))
    vec = engine.embedder.encode_query("is it?")
    assert searcher.bm25_ranking("is it?", 10) == []
    assert searcher.rank("is it?", vec, Retriever.bm25).guides == []
    hybrid = searcher.rank("is it?", vec).guides
    dense = searcher.rank("is it?", vec, Retriever.dense).guides
    assert [g.doc_id for g in hybrid] == [g.doc_id for g in dense]
    assert all(abs(h.score - DENSE_WEIGHT * d.score) < 1e-3 for h, d in zip(hybrid, dense, strict=True))
