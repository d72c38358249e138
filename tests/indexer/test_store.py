from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from indexer.embedding import Embedder
from indexer.errors import IndexInvalidError, IndexMissingError
from indexer.knowledge import load_documents
from indexer.search import Searcher
from indexer.store import build_index, current_build_dir, load_index
from tests.conftest import write_doc


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    folder = tmp_path / "kb"
    write_doc(
        folder,
        "kpis-alpha",
        body="Intro about KPIs.\n\n## What to do\n"
        "- Pick one KPI that the business already reports every week.\n",
    )
    write_doc(
        folder,
        "monitoring-beta",
        category="monitoring",
        body="Intro about drift.\n\n## Warning signs\n"
        "- Input distributions in production drift away from the training data.\n",
    )
    write_doc(
        folder,
        "data-quality-gamma",
        category="data-quality",
        body="Intro about audits.\n\n## What to do\n"
        "- Remove duplicate customer records before training the model.\n",
    )
    return folder


@pytest.fixture
def embedded_texts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every text the embedder is given from now on (clear it to start counting later)."""
    texts: list[str] = []
    real_encode = Embedder.encode

    def spying_encode(self: Embedder, given, progress: bool = False):
        texts.extend(given)
        return real_encode(self, given, progress)

    monkeypatch.setattr(Embedder, "encode", spying_encode)
    return texts


def test_round_trip_and_manifest(kb: Path, tmp_path: Path, embedder: Embedder) -> None:
    index_dir = tmp_path / "index"
    report = build_index(load_documents([kb]), index_dir, embedder)
    stored = load_index(index_dir, expected_model=embedder.name)
    m = stored.manifest
    assert m.model_name == embedder.name and m.dimension == 384 and m.format_version == 2
    assert set(m.documents) == {"kpis-alpha", "monitoring-beta", "data-quality-gamma"}
    assert m.chunk_count == len(stored.chunks) == stored.faiss_index.ntotal
    assert sorted(m.embedded_docs) == sorted(m.documents)
    assert m.built_at and report.reused_docs == []
    norms = np.linalg.norm(stored.chunk_vectors, axis=1)
    assert np.allclose(norms, 1.0, atol=1e-4)
    searcher = Searcher(stored)
    q = "our production inputs drift from the training data"
    assert searcher.rank(q, embedder.encode_query(q)).guides[0].doc_id == "monitoring-beta"


def test_missing_corrupt_and_incompatible(kb: Path, tmp_path: Path, embedder: Embedder) -> None:
    index_dir = tmp_path / "index"
    with pytest.raises(IndexMissingError, match="mlready index"):
        load_index(index_dir)
    build_index(load_documents([kb]), index_dir, embedder)
    with pytest.raises(IndexInvalidError, match="built with model"):
        load_index(index_dir, expected_model="some/other-model")
    build = current_build_dir(index_dir)
    assert build is not None
    manifest = json.loads((build / "manifest.json").read_text())
    manifest["format_version"] = 99
    (build / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexInvalidError, match="format 99"):
        load_index(index_dir)
    (build / "manifest.json").write_text("{not json")
    with pytest.raises(IndexInvalidError, match="unreadable manifest"):
        load_index(index_dir)


def test_truncated_file_is_detected(kb: Path, tmp_path: Path, embedder: Embedder) -> None:
    index_dir = tmp_path / "index"
    build_index(load_documents([kb]), index_dir, embedder)
    build = current_build_dir(index_dir)
    assert build is not None
    data = (build / "units.npy").read_bytes()
    (build / "units.npy").write_bytes(data[: len(data) // 2])
    with pytest.raises(IndexInvalidError, match=r"missing or corrupt.*mlready index"):
        load_index(index_dir)


def test_failed_build_leaves_previous_index_intact(
    kb: Path, tmp_path: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    index_dir = tmp_path / "index"
    build_index(load_documents([kb]), index_dir, embedder)
    before = current_build_dir(index_dir)
    write_doc(kb, "kpis-delta", body="Intro.\n\n## What to do\n- A brand new document.\n")

    calls = {"n": 0}
    real_encode = Embedder.encode

    def failing_encode(self: Embedder, texts, progress: bool = False):
        calls["n"] += 1
        if calls["n"] == 2:  # chunks embedded, then the unit embedding crashes
            raise RuntimeError("simulated crash mid-build")
        return real_encode(self, texts, progress)

    monkeypatch.setattr(Embedder, "encode", failing_encode)
    with pytest.raises(RuntimeError, match="simulated crash"):
        build_index(load_documents([kb]), index_dir, embedder)
    monkeypatch.undo()

    assert current_build_dir(index_dir) == before
    assert [p.name for p in (index_dir / "builds").iterdir()] == [before.name]
    stored = load_index(index_dir)
    assert "kpis-delta" not in stored.manifest.documents

    # A failure while writing files behaves the same way.
    import indexer.store as store

    def broken_save(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(store.np, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        build_index(load_documents([kb]), index_dir, embedder)
    assert current_build_dir(index_dir) == before
    assert [p.name for p in (index_dir / "builds").iterdir()] == [before.name]


def test_incremental_rebuild_reembeds_only_changed_doc(
    kb: Path, tmp_path: Path, embedder: Embedder, embedded_texts: list[str]
) -> None:
    index_dir = tmp_path / "index"
    build_index(load_documents([kb]), index_dir, embedder)
    first = load_index(index_dir)

    path = kb / "monitoring-beta.md"
    path.write_text(path.read_text().replace("drift away", "slowly drift away"), encoding="utf-8")

    embedded_texts.clear()
    report = build_index(load_documents([kb]), index_dir, embedder)
    second = load_index(index_dir)

    assert report.manifest.embedded_docs == ["monitoring-beta"]
    assert sorted(report.reused_docs) == ["data-quality-gamma", "kpis-alpha"]
    assert embedded_texts and all(
        "slowly" in t or "drift" in t.lower() or "Monitoring" in t for t in embedded_texts
    )
    assert not any("duplicate customer" in t for t in embedded_texts)
    for doc_id in ("kpis-alpha", "data-quality-gamma"):
        rows1 = [i for i, c in enumerate(first.chunks) if c.doc_id == doc_id]
        rows2 = [i for i, c in enumerate(second.chunks) if c.doc_id == doc_id]
        assert np.array_equal(first.chunk_vectors[rows1], second.chunk_vectors[rows2])

    # A full rebuild embeds everything again; a deleted doc disappears.
    (kb / "kpis-alpha.md").unlink()
    embedded_texts.clear()
    report = build_index(load_documents([kb]), index_dir, embedder, full=True)
    assert sorted(report.manifest.embedded_docs) == ["data-quality-gamma", "monitoring-beta"]
    assert "kpis-alpha" not in load_index(index_dir).manifest.documents


def test_questions_to_decline_are_stored_and_embedded_once(
    kb: Path, tmp_path: Path, embedder: Embedder, embedded_texts: list[str]
) -> None:
    index_dir = tmp_path / "index"
    questions = ["what is the weather in paris tomorrow", "who books the meeting rooms on friday?"]
    build_index(load_documents([kb]), index_dir, embedder, out_of_scope=questions)
    stored = load_index(index_dir)
    assert stored.out_of_scope == questions
    assert np.allclose(stored.out_of_scope_vectors, embedder.encode(questions), atol=1e-5)

    embedded_texts.clear()
    build_index(load_documents([kb]), index_dir, embedder, out_of_scope=questions)
    assert embedded_texts == []  # nothing changed: every vector reused
    changed = [*questions, "any good recipe for banana bread?"]
    build_index(load_documents([kb]), index_dir, embedder, out_of_scope=changed)
    assert embedded_texts == changed
    assert load_index(index_dir).out_of_scope == changed

    # A damaged file is found like any other; a build made before these files loads with none.
    build = current_build_dir(index_dir)
    assert build is not None
    (build / "out_of_scope.npy").write_bytes(b"\x93NUMPY garbage")
    with pytest.raises(IndexInvalidError, match=r"out_of_scope\.npy is missing or corrupt"):
        load_index(index_dir)
    manifest = json.loads((build / "manifest.json").read_text())
    for name in ("out_of_scope.npy", "out_of_scope.jsonl"):
        del manifest["file_sha256"][name]
        (build / name).unlink()
    (build / "manifest.json").write_text(json.dumps(manifest))
    older = load_index(index_dir)
    assert older.out_of_scope == [] and older.out_of_scope_vectors.shape == (0, 384)
    assert Searcher(older).closest_out_of_scope(embedder.encode_query("weather in paris")) == (0.0, None)
