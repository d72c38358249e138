"""The ONNX query encoder: the same vectors as sentence-transformers, the same eval figures,
no torch in a process that only answers, and clear errors when the export is missing or bad."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from bot.evaluation import evaluate, load_questions
from bot.intent import split_parts
from bot.knowledge_base import open_engine
from bot.settings import Settings
from indexer.chunking import chunk_document
from indexer.embedding import Embedder
from indexer.errors import IndexInvalidError
from indexer.knowledge import load_documents, shipped_knowledge_dir
from indexer.query_encoder import ONNX_FILE, WEIGHTS_FILE, OnnxQueryEncoder, answering_embedder
from indexer.retriever import Retriever
from indexer.store import load_index
from tests.conftest import clean_env

ROOT = Path(__file__).resolve().parents[2]


def encoder_of(index_dir: Path) -> OnnxQueryEncoder:
    stored = load_index(index_dir)
    assert stored.manifest.query_encoder, "the build exports the query encoder"
    return OnnxQueryEncoder(index_dir / stored.manifest.query_encoder)


def test_every_knowledge_unit_embeds_the_same_both_ways(shipped_index: Path, embedder: Embedder) -> None:
    units = [u.text for d in load_documents([shipped_knowledge_dir()]) for u in chunk_document(d)[0]]
    texts = units[::2][:240]  # every other unit, from every guide: enough, and half the time
    texts += ["", "a", "how do we pick a KPI for churn?" * 40, "Émoji 👩\u200d💻 and ünïcode"]
    assert len(texts) >= 200
    onnx = encoder_of(shipped_index).encode(texts)
    torch_vectors = embedder.encode(texts)
    cosines = (onnx * torch_vectors).sum(axis=1)
    assert cosines.min() >= 0.9999, texts[int(cosines.argmin())]
    assert np.allclose(np.linalg.norm(onnx, axis=1), 1.0, atol=1e-5)


def test_eval_figures_and_declines_are_identical(shipped_index: Path, embedder: Embedder) -> None:
    questions = load_questions(ROOT / "bench" / "devset.yaml")
    settings = Settings(index_dir=shipped_index)
    onnx = evaluate(open_engine(settings), questions, Retriever.hybrid)
    reference = evaluate(open_engine(settings, embedder=embedder), questions, Retriever.hybrid)
    for key in ("hit_at_1", "hit_at_3", "mrr", "offtopic_declined", "ontopic_declined", "advice_share"):
        assert getattr(onnx, key) == getattr(reference, key), key
    assert onnx.ideal_recall == reference.ideal_recall  # multi-part questions' parts too
    assert onnx.misses == reference.misses  # the same questions missed or wrongly declined


MULTI_PART = [
    "how much data do we need and how do we label it?",
    "what's inter-annotator agreement and how high should it be",
    "who pays for the cloud costs? and how do i estimate them for the budget request",
]


def test_the_parts_of_a_question_embed_the_same_both_ways(shipped_index: Path, embedder: Embedder) -> None:
    encoder = encoder_of(shipped_index)
    for question in MULTI_PART:
        parts = split_parts(question)
        assert len(parts) > 1, question
        onnx = encoder.encode_parts(question, parts)
        reference = embedder.encode_parts(question, parts)
        assert onnx.shape == (len(parts) + 1, 384)
        assert (onnx * reference).sum(axis=1).min() >= 0.9999, question
        assert np.allclose(np.linalg.norm(onnx, axis=1), 1.0, atol=1e-5)
        # The first row is the question's own vector; a part's is not the question's.
        assert float(onnx[0] @ encoder.encode_query(question)) >= 0.99999
        assert float((onnx[1:] @ onnx[0]).max()) < 0.99


def test_a_question_and_its_parts_take_one_pass_of_the_model(shipped_index: Path) -> None:
    encoder = encoder_of(shipped_index)
    runs: list[int] = []
    session = encoder._session

    class Counting:
        def run(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            runs.append(1)
            return session.run(*args, **kwargs)

    encoder._session = Counting()  # type: ignore[assignment]
    question = MULTI_PART[0]
    encoder.encode_parts(question, split_parts(question))
    assert runs == [1]
    # A part past what the model reads (256 word pieces) is embedded on its own, in one more pass.
    long = "how do we pick a KPI for churn " * 60 + "and how do we label it?"
    parts = split_parts(long)
    vectors = encoder.encode_parts(long, parts)
    assert len(runs) == 3
    assert float(vectors[-1] @ encoder.encode_query(parts[-1])) >= 0.9999


def test_answering_never_imports_torch(shipped_index: Path, tmp_path: Path) -> None:
    """`mlready ask`, as a fresh process runs it, then a look at what it imported: no torch,
    and no database either (it needs none, and SQLAlchemy costs a third of a second to start)."""
    script = textwrap.dedent(
        """
        import json, sys
        from typer.testing import CliRunner
        from bot.cli import app
        result = CliRunner().invoke(app, ["ask", "how do we pick a KPI for churn?"])
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in
                       ("torch", "transformers", "sentence_transformers", "sqlalchemy"))
        print(json.dumps({"code": result.exit_code, "out": result.stdout, "heavy": heavy}))
        """
    )
    env = clean_env(
        MLREADY_INDEX_DIR=str(shipped_index), MLREADY_DATABASE_URL=f"sqlite:///{tmp_path / 'a.db'}"
    )
    run = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, cwd=ROOT)
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["code"] == 0 and "Sources" in report["out"], run.stderr[-2000:]
    assert report["heavy"] == []


def test_a_missing_or_damaged_encoder_is_explained(
    shipped_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    stored = load_index(shipped_index)
    folder = shipped_index / str(stored.manifest.query_encoder)
    copy = tmp_path / "encoder"
    copy.mkdir()
    for item in folder.iterdir():
        (copy / item.name).write_bytes(item.read_bytes())
    assert OnnxQueryEncoder(copy).dimension == 384  # the graph and its weights file, copied
    weights = (copy / WEIGHTS_FILE).read_bytes()
    (copy / WEIGHTS_FILE).write_bytes(weights[:-4] + b"\0\0\0\0")  # one weight changed
    with pytest.raises(IndexInvalidError, match=r"damaged; rebuild it with `mlready index --full`"):
        OnnxQueryEncoder(copy)
    (copy / WEIGHTS_FILE).write_bytes(weights)
    (copy / ONNX_FILE).write_bytes(b"not a model")
    with pytest.raises(IndexInvalidError, match=r"damaged; rebuild it with `mlready index --full`"):
        OnnxQueryEncoder(copy)
    # An index without an encoder falls back to sentence-transformers, with a warning...
    assert isinstance(answering_embedder(shipped_index, None, None), Embedder)
    assert "no ONNX query encoder" in caplog.text
    # ...or, where that is not installed, says how to rebuild.
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)
    with pytest.raises(IndexInvalidError, match=r"mlready\[index\]"):
        answering_embedder(shipped_index, None, None)
