"""The query encoder for answering: the embedding model exported once to ONNX and run with
onnxruntime and tokenizers, so a process that only answers never imports torch.

Two roles. The indexer (which has sentence-transformers and torch) exports the model next to
the index, once per model, and records it in the index manifest with the model's hash. The
answerer loads that file with `OnnxQueryEncoder`: tokenizer, the transformer, mean pooling
over the attention mask and L2 normalisation, as sentence-transformers' all-MiniLM-L6-v2 does.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from pydantic import BaseModel

from indexer.embedding import MAX_QUERY_CHARS, pool_parts, unit_rows
from indexer.errors import IndexInvalidError, ModelMissingError

if TYPE_CHECKING:
    from tokenizers import Encoding

    from indexer.embedding import TextEmbedder

log = logging.getLogger(__name__)

ENCODERS_DIR = "encoders"
ONNX_FILE = "model.onnx"
# The weights beside the graph (ONNX external data): onnxruntime maps them from the file instead
# of parsing them into memory and copying them, which keeps an answering process about 85 MB
# smaller (bench/RESULTS.md).
WEIGHTS_FILE = "model.onnx.data"
FORMAT = 2  # 1: weights inside model.onnx
TOKENIZER_FILE = "tokenizer.json"
META_FILE = "encoder.json"
OPSET = 17
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
# Files that define the model's output; the hash of these names the exported encoder.
MODEL_FILES = ("config.json", "model.safetensors", "pytorch_model.bin", "tokenizer.json", "modules.json")
REBUILD = "rebuild it with `mlready index --full` where mlready[index] is installed"


class EncoderMeta(BaseModel):
    """What the answerer needs besides the two files, written next to them."""

    model_name: str
    model_sha256: str
    onnx_sha256: str
    dimension: int
    max_seq_length: int
    weights_sha256: str = ""  # empty in format 1
    format: int = 1


def model_hash(model_path: Path) -> str:
    digest = hashlib.sha256()
    found = False
    for name in MODEL_FILES:
        path = model_path / name
        if path.is_file():
            found = True
            digest.update(name.encode())
            _feed(digest, path)
    if not found:
        raise ModelMissingError(f"{model_path} holds no model files ({', '.join(MODEL_FILES)})")
    return digest.hexdigest()


def _feed(digest: hashlib._Hash, path: Path) -> None:
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)


def file_hash(path: Path) -> str:
    """SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    _feed(digest, path)
    return digest.hexdigest()


def cache_root() -> Path:
    """Exports are kept per user and reused by every index built with the same model."""
    base = os.environ.get("MLREADY_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "mlready" / ENCODERS_DIR


def export_encoder(model_path: Path, model_name: str, out_dir: Path) -> EncoderMeta:
    """Export the transformer of a sentence-transformers folder to ONNX (needs torch)."""
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    transformers_logging.set_verbosity_error()

    _check_pipeline(model_path)
    config = json.loads((model_path / "sentence_bert_config.json").read_text(encoding="utf-8"))
    model = AutoModel.from_pretrained(str(model_path), local_files_only=True).eval()

    class Transformer(torch.nn.Module):
        """The three inputs by position, the token states out: the exporter's plainest form."""

        def __init__(self) -> None:
            super().__init__()
            self.inner = model

        def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
            return self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    example = (
        torch.ones((1, 8), dtype=torch.long),
        torch.ones((1, 8), dtype=torch.long),
        torch.zeros((1, 8), dtype=torch.long),
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = out_dir / ONNX_FILE
    traced = out_dir / "traced.onnx"
    axes = {0: "batch", 1: "tokens"}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on Python control flow in the model
        torch.onnx.export(
            Transformer().eval(),
            example,
            str(traced),
            input_names=list(INPUTS),
            output_names=["last_hidden_state"],
            dynamic_axes={**dict.fromkeys(INPUTS, axes), "last_hidden_state": axes},
            opset_version=OPSET,
            dynamo=False,
        )
    import onnx

    graph = onnx.load(str(traced))
    onnx.save_model(
        graph,
        str(onnx_path),
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location=WEIGHTS_FILE,
        size_threshold=1024,
    )
    traced.unlink()
    shutil.copyfile(model_path / TOKENIZER_FILE, out_dir / TOKENIZER_FILE)
    meta = EncoderMeta(
        model_name=model_name,
        model_sha256=model_hash(model_path),
        onnx_sha256=file_hash(onnx_path),
        weights_sha256=file_hash(out_dir / WEIGHTS_FILE),
        dimension=int(model.config.hidden_size),
        max_seq_length=int(config.get("max_seq_length", 256)),
        format=FORMAT,
    )
    (out_dir / META_FILE).write_text(meta.model_dump_json(indent=2), encoding="utf-8")
    return meta


def _check_pipeline(model_path: Path) -> None:
    """The ONNX path reproduces Transformer → mean Pooling → Normalize, and nothing else."""
    modules = json.loads((model_path / "modules.json").read_text(encoding="utf-8"))
    kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
    pooling = json.loads((model_path / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
    if kinds != ["Transformer", "Pooling", "Normalize"] or not pooling.get("pooling_mode_mean_tokens"):
        raise ModelMissingError(
            f"{model_path} is not a mean-pooled, normalised sentence-transformers model ({kinds}); "
            "the ONNX query encoder supports only those"
        )


def ensure_encoder(index_dir: Path, model_path: Path, model_name: str) -> str:
    """The encoder folder for this model under `index_dir` (relative), exported on first use
    and otherwise copied from the per-user cache; an index built again reuses it."""
    digest = model_hash(model_path)
    relative = f"{ENCODERS_DIR}/{digest[:16]}"
    target = index_dir / relative
    if _valid(target, digest):
        return relative
    cached = cache_root() / digest[:16]
    if not _valid(cached, digest):
        staging = Path(tempfile.mkdtemp(prefix="export-", dir=_mkdir(cache_root())))
        log.info("exporting the query encoder of %s to ONNX (once per model)", model_name)
        export_encoder(model_path, model_name, staging)
        shutil.rmtree(cached, ignore_errors=True)
        os.replace(staging, cached)
    staging = Path(tempfile.mkdtemp(prefix="encoder-", dir=_mkdir(index_dir / ENCODERS_DIR)))
    for name in (ONNX_FILE, WEIGHTS_FILE, TOKENIZER_FILE, META_FILE):
        _link_or_copy(cached / name, staging / name)
    shutil.rmtree(target, ignore_errors=True)
    os.replace(staging, target)
    return relative


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:  # another file system
        shutil.copyfile(source, target)


def _valid(folder: Path, digest: str) -> bool:
    try:
        meta = EncoderMeta.model_validate_json((folder / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        meta.model_sha256 == digest
        and meta.format == FORMAT  # an older export is made again, once
        and (folder / TOKENIZER_FILE).is_file()
        and (folder / ONNX_FILE).is_file()
        and (folder / ONNX_FILE).stat().st_size > 0
        and (folder / WEIGHTS_FILE).is_file()
    )


class OnnxQueryEncoder:
    """Embeds text with the exported encoder: same interface as `Embedder` for answering."""

    def __init__(self, folder: Path, threads: int | None = None) -> None:
        try:
            self.meta = EncoderMeta.model_validate_json((folder / META_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise IndexInvalidError(
                f"the query encoder in {folder} is unreadable ({exc}); {REBUILD}"
            ) from None
        onnx_path = folder / ONNX_FILE
        weights = folder / WEIGHTS_FILE
        if (
            not onnx_path.is_file()
            or file_hash(onnx_path) != self.meta.onnx_sha256
            or (
                self.meta.weights_sha256
                and (not weights.is_file() or file_hash(weights) != self.meta.weights_sha256)
            )
        ):
            raise IndexInvalidError(f"the query encoder in {folder} is missing or damaged; {REBUILD}")
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or min(4, os.cpu_count() or 1)
        options.log_severity_level = 3
        self._session = onnxruntime.InferenceSession(
            str(onnx_path), options, providers=["CPUExecutionProvider"]
        )
        self._tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        self._tokenizer.enable_truncation(max_length=self.meta.max_seq_length)
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self.name = self.meta.model_name
        self.dimension = self.meta.dimension

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """Unit-norm float32 vectors, one row per text."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        parts = [self._encode_batch(list(texts[i : i + 32])) for i in range(0, len(texts), 32)]
        return np.vstack(parts)

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        feeds = _feeds(self._tokenizer.encode_batch(texts))
        (hidden,) = self._session.run(["last_hidden_state"], feeds)
        mask = feeds["attention_mask"][:, :, None].astype(np.float32)
        return unit_rows((hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None))

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text[:MAX_QUERY_CHARS]])[0]

    def encode_parts(self, text: str, parts: Sequence[str]) -> np.ndarray:
        text = text[:MAX_QUERY_CHARS]
        encoding = self._tokenizer.encode(text)
        (hidden,) = self._session.run(["last_hidden_state"], _feeds([encoding]))
        return pool_parts(hidden[0], encoding.offsets, text, parts, self.encode)


def _feeds(encodings: list[Encoding]) -> dict[str, np.ndarray]:
    return {
        "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
        "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
        "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
    }


def answering_embedder(index_dir: Path, encoder: str | None, model_path: Path | None) -> TextEmbedder:
    """The ONNX encoder an index names; without one (an index built before it existed, or
    without export), sentence-transformers where it is installed, with a warning; else an error
    saying how to rebuild."""
    if encoder is not None and (index_dir / encoder / META_FILE).is_file():
        return OnnxQueryEncoder(index_dir / encoder)
    from indexer.embedding import Embedder, indexing_installed

    if not indexing_installed():
        raise IndexInvalidError(f"the knowledge index in {index_dir} has no ONNX query encoder; {REBUILD}")

    log.warning(
        "the knowledge index in %s has no ONNX query encoder, so answers load torch "
        "(slower start, more memory); run `mlready index --full` to export it",
        index_dir,
    )
    return Embedder(model_path)
