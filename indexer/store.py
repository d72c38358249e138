"""The on-disk index: FAISS over chunk vectors, unit vectors for answers, metadata, manifest.

Layout of MLREADY_INDEX_DIR:
  CURRENT            name of the live build (replaced atomically)
  builds/<name>/     manifest.json, chunks.faiss, chunks.jsonl, units.npy, units.jsonl,
                     out_of_scope.npy, out_of_scope.jsonl (questions to decline)
A build is written completely into a new folder before CURRENT points at it, so a
failed or interrupted build never touches the live index.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import faiss
import numpy as np
from pydantic import BaseModel, ValidationError

from indexer.chunking import CHUNKER_VERSION, MAX_CHUNK_WORDS, OVERLAP_WORDS, chunk_document, in_context
from indexer.embedding import Embedder, TextEmbedder, progress_wanted
from indexer.errors import IndexInvalidError, IndexMissingError
from indexer.knowledge import KnowledgeDoc
from indexer.query_encoder import ensure_encoder, file_hash

log = logging.getLogger(__name__)

FORMAT_VERSION = 2
REBUILD_HINT = "run `mlready index` to rebuild it"
DATA_FILES = ("chunks.faiss", "chunks.jsonl", "units.npy", "units.jsonl")
# Checked when the manifest lists them: builds made before them load with none.
OUT_OF_SCOPE_FILES = ("out_of_scope.npy", "out_of_scope.jsonl")


class DocEntry(BaseModel):
    content_hash: str
    title: str
    category: str
    path: str
    chunks: int
    units: int


class Manifest(BaseModel):
    format_version: int
    model_name: str
    dimension: int
    chunker_version: int
    max_chunk_words: int
    overlap_words: int
    built_at: str
    build_seconds: float
    chunk_count: int
    unit_count: int
    embedded_docs: list[str]  # docs embedded in this build; the rest were reused
    documents: dict[str, DocEntry]
    file_sha256: dict[str, str]
    # The ONNX query encoder for answering, relative to the index folder (None: not exported)
    query_encoder: str | None = None


@dataclass(frozen=True)
class ChunkMeta:
    chunk_id: str
    doc_id: str
    title: str
    section: str
    category: str
    text: str
    unit_start: int  # global row in units
    unit_end: int

    @property
    def is_profile(self) -> bool:
        """The document's title, tags and aliases, or one of its asked_as questions: ranked,
        never quoted."""
        return self.unit_start == self.unit_end


@dataclass(frozen=True)
class UnitMeta:
    id: str
    doc_id: str
    section: str
    text: str


@dataclass
class StoredIndex:
    manifest: Manifest
    chunks: list[ChunkMeta]
    chunk_vectors: np.ndarray
    faiss_index: faiss.Index
    units: list[UnitMeta]
    unit_vectors: np.ndarray
    build_dir: Path
    out_of_scope: list[str]  # questions to decline
    out_of_scope_vectors: np.ndarray


@dataclass(frozen=True)
class BuildReport:
    build_dir: Path
    manifest: Manifest
    reused_docs: list[str]
    seconds: float


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def _read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def current_build_dir(index_dir: Path) -> Path | None:
    pointer = index_dir / "CURRENT"
    if not pointer.is_file():
        return None
    name = pointer.read_text(encoding="utf-8").strip()
    return index_dir / "builds" / name if name else None


@contextlib.contextmanager
def _build_lock(index_dir: Path) -> Iterator[None]:
    """One writer at a time per index folder."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with (index_dir / ".lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _reusable(index_dir: Path, embedder: Embedder) -> StoredIndex | None:
    """The live index, if its vectors can be reused by a build with this model and chunker."""
    try:
        previous = load_index(index_dir, expected_model=embedder.name)
    except (IndexMissingError, IndexInvalidError):
        return None
    m = previous.manifest
    if (m.chunker_version, m.max_chunk_words, m.overlap_words) != (
        CHUNKER_VERSION,
        MAX_CHUNK_WORDS,
        OVERLAP_WORDS,
    ):
        return None
    return previous


def build_index(
    docs: list[KnowledgeDoc],
    index_dir: Path,
    embedder: Embedder,
    full: bool = False,
    progress: bool | None = None,
    export_encoder: bool = True,
    out_of_scope: Sequence[str] = (),
) -> BuildReport:
    """Embed the documents and the questions to decline (reusing what is unchanged in the live
    index), export the query encoder for answering when this model has none yet, and swap in
    the result."""
    started = time.perf_counter()
    with _build_lock(index_dir):
        previous = None if full else _reusable(index_dir, embedder)
        reuse: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        if previous is not None:
            reuse = _vectors_by_doc(previous, docs)

        chunk_rows: list[dict] = []
        unit_rows: list[dict] = []
        entries: dict[str, DocEntry] = {}
        chunk_parts: list[np.ndarray | None] = []
        unit_parts: list[np.ndarray | None] = []
        to_embed_chunks: list[str] = []
        to_embed_units: list[str] = []
        embedded: list[str] = []
        for doc in docs:
            units, chunks = chunk_document(doc)
            base = len(unit_rows)
            for unit in units:
                unit_rows.append(
                    {"id": unit.id, "doc_id": doc.id, "section": unit.section, "text": unit.text}
                )
            for n, c in enumerate(chunks):
                chunk_rows.append(
                    {
                        "chunk_id": f"{doc.id}#{n}",
                        "doc_id": doc.id,
                        "title": doc.meta.title,
                        "section": c.section,
                        "category": doc.meta.category,
                        "text": c.text,
                        "unit_start": base + c.unit_start,
                        "unit_end": base + c.unit_end,
                    }
                )
            entries[doc.id] = DocEntry(
                content_hash=doc.content_hash,
                title=doc.meta.title,
                category=doc.meta.category,
                path=str(doc.path),
                chunks=len(chunks),
                units=len(units),
            )
            if doc.id in reuse:
                chunk_parts.append(reuse[doc.id][0])
                unit_parts.append(reuse[doc.id][1])
            else:
                embedded.append(doc.id)
                chunk_parts.append(None)
                unit_parts.append(None)
                to_embed_chunks.extend(c.text for c in chunks)
                to_embed_units.extend(in_context(u.title, u.section, u.text) for u in units)

        show = progress_wanted(len(to_embed_chunks) + len(to_embed_units)) if progress is None else progress
        new_chunks = embedder.encode(to_embed_chunks, progress=show)
        new_units = embedder.encode(to_embed_units, progress=show)
        dim = embedder.dimension
        out_of_scope = list(out_of_scope)
        if previous is not None and previous.out_of_scope == out_of_scope:
            out_of_scope_vectors = previous.out_of_scope_vectors
        else:
            out_of_scope_vectors = embedder.encode(out_of_scope).reshape(len(out_of_scope), dim)
        chunk_vectors = _assemble(chunk_parts, new_chunks, [e.chunks for e in entries.values()], dim)
        unit_vectors = _assemble(unit_parts, new_units, [e.units for e in entries.values()], dim)

        encoder = ensure_encoder(index_dir, embedder.model_path, embedder.name) if export_encoder else None
        build_dir = _write_build(
            index_dir, chunk_rows, chunk_vectors, unit_rows, unit_vectors, out_of_scope, out_of_scope_vectors
        )
        try:
            file_sha = {name: file_hash(build_dir / name) for name in DATA_FILES + OUT_OF_SCOPE_FILES}
            manifest = Manifest(
                format_version=FORMAT_VERSION,
                model_name=embedder.name,
                dimension=dim,
                chunker_version=CHUNKER_VERSION,
                max_chunk_words=MAX_CHUNK_WORDS,
                overlap_words=OVERLAP_WORDS,
                built_at=datetime.now(UTC).isoformat(timespec="seconds"),
                build_seconds=round(time.perf_counter() - started, 3),
                chunk_count=len(chunk_rows),
                unit_count=len(unit_rows),
                embedded_docs=embedded,
                documents=entries,
                file_sha256=file_sha,
                query_encoder=encoder,
            )
            (build_dir / "manifest.json").write_text(manifest.model_dump_json(indent=2), encoding="utf-8")
            _fsync_dir(build_dir)
            _swap_current(index_dir, build_dir)
        except BaseException:
            shutil.rmtree(build_dir, ignore_errors=True)
            raise
        _remove_old_builds(index_dir, keep=build_dir)
    reused = [d.id for d in docs if d.id in reuse]
    log.info(
        "index built: %d chunks, %d docs embedded, %d reused", len(chunk_rows), len(embedded), len(reused)
    )
    return BuildReport(build_dir, manifest, reused, time.perf_counter() - started)


def _vectors_by_doc(
    previous: StoredIndex, docs: list[KnowledgeDoc]
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Chunk and unit vectors of documents whose content is unchanged since the live build."""
    wanted = {
        d.id
        for d in docs
        if (e := previous.manifest.documents.get(d.id)) and e.content_hash == d.content_hash
    }
    chunk_rows: dict[str, list[int]] = {}
    for i, c in enumerate(previous.chunks):
        if c.doc_id in wanted:
            chunk_rows.setdefault(c.doc_id, []).append(i)
    unit_rows: dict[str, list[int]] = {}
    for i, u in enumerate(previous.units):
        if u.doc_id in wanted:
            unit_rows.setdefault(u.doc_id, []).append(i)
    return {
        doc_id: (previous.chunk_vectors[chunk_rows[doc_id]], previous.unit_vectors[unit_rows.get(doc_id, [])])
        for doc_id in wanted
        if doc_id in chunk_rows
    }


def _assemble(parts: list[np.ndarray | None], fresh: np.ndarray, counts: list[int], dim: int) -> np.ndarray:
    out: list[np.ndarray] = []
    cursor = 0
    for part, count in zip(parts, counts, strict=True):
        if part is None:
            out.append(fresh[cursor : cursor + count])
            cursor += count
        else:
            out.append(part)
    if not out:
        return np.zeros((0, dim), dtype=np.float32)
    return np.ascontiguousarray(np.vstack(out), dtype=np.float32)


def _write_build(
    index_dir: Path,
    chunk_rows: list[dict],
    chunk_vectors: np.ndarray,
    unit_rows: list[dict],
    unit_vectors: np.ndarray,
    out_of_scope: list[str],
    out_of_scope_vectors: np.ndarray,
) -> Path:
    builds = index_dir / "builds"
    builds.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    build_dir = Path(tempfile.mkdtemp(prefix=f"{stamp}-", dir=builds))
    try:
        index = faiss.IndexFlatIP(chunk_vectors.shape[1])
        index.add(chunk_vectors)
        faiss.write_index(index, str(build_dir / "chunks.faiss"))
        _write_jsonl(build_dir / "chunks.jsonl", chunk_rows)
        np.save(build_dir / "units.npy", unit_vectors)
        _write_jsonl(build_dir / "units.jsonl", unit_rows)
        np.save(build_dir / "out_of_scope.npy", np.asarray(out_of_scope_vectors, dtype=np.float32))
        _write_jsonl(build_dir / "out_of_scope.jsonl", [{"text": q} for q in out_of_scope])
        for name in DATA_FILES + OUT_OF_SCOPE_FILES:
            with (build_dir / name).open("rb") as fh:
                os.fsync(fh.fileno())
    except BaseException:
        shutil.rmtree(build_dir, ignore_errors=True)
        raise
    return build_dir


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _swap_current(index_dir: Path, build_dir: Path) -> None:
    tmp = index_dir / f"CURRENT.{os.getpid()}.tmp"
    tmp.write_text(build_dir.name + "\n", encoding="utf-8")
    with tmp.open("rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, index_dir / "CURRENT")
    _fsync_dir(index_dir)


def _remove_old_builds(index_dir: Path, keep: Path) -> None:
    for path in (index_dir / "builds").iterdir():
        if path != keep and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)


def load_index(index_dir: Path, expected_model: str | None = None) -> StoredIndex:
    """Read the live build, checking it is complete, intact and built for this model."""
    build_dir = current_build_dir(index_dir)
    if build_dir is None:
        raise IndexMissingError(f"no knowledge index in {index_dir}; {REBUILD_HINT}")
    try:
        manifest = Manifest.model_validate_json((build_dir / "manifest.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexInvalidError(
            f"the knowledge index in {index_dir} is incomplete (no manifest); {REBUILD_HINT}"
        ) from None
    except (ValidationError, ValueError, OSError) as exc:
        raise IndexInvalidError(
            f"the knowledge index in {index_dir} has an unreadable manifest ({exc.__class__.__name__}); "
            f"{REBUILD_HINT}"
        ) from None
    if manifest.format_version != FORMAT_VERSION:
        raise IndexInvalidError(
            f"the knowledge index in {index_dir} has format {manifest.format_version}, this "
            f"version of mlready reads format {FORMAT_VERSION}; {REBUILD_HINT}"
        )
    if expected_model is not None and manifest.model_name != expected_model:
        raise IndexInvalidError(
            f"the knowledge index in {index_dir} was built with model '{manifest.model_name}' "
            f"but the configured model is '{expected_model}'; {REBUILD_HINT}"
        )
    with_out_of_scope = all(name in manifest.file_sha256 for name in OUT_OF_SCOPE_FILES)
    for name in DATA_FILES + (OUT_OF_SCOPE_FILES if with_out_of_scope else ()):
        path = build_dir / name
        if not path.is_file() or file_hash(path) != manifest.file_sha256.get(name):
            raise IndexInvalidError(f"the knowledge index file {path} is missing or corrupt; {REBUILD_HINT}")
    try:
        faiss_index = faiss.read_index(str(build_dir / "chunks.faiss"))
        chunks = [ChunkMeta(**row) for row in _read_jsonl(build_dir / "chunks.jsonl")]
        units = [UnitMeta(**row) for row in _read_jsonl(build_dir / "units.jsonl")]
        unit_vectors = np.load(build_dir / "units.npy")
        out_of_scope: list[str] = []
        out_of_scope_vectors = np.zeros((0, manifest.dimension), dtype=np.float32)
        if with_out_of_scope:
            out_of_scope = [row["text"] for row in _read_jsonl(build_dir / "out_of_scope.jsonl")]
            out_of_scope_vectors = np.load(build_dir / "out_of_scope.npy")
    except Exception as exc:  # a file that hashes right but does not parse
        raise IndexInvalidError(
            f"the knowledge index in {index_dir} cannot be read ({exc}); {REBUILD_HINT}"
        ) from None
    if (
        faiss_index.d != manifest.dimension
        or faiss_index.ntotal != len(chunks)
        or len(chunks) != manifest.chunk_count
        or unit_vectors.shape != (len(units), manifest.dimension)
        or out_of_scope_vectors.shape != (len(out_of_scope), manifest.dimension)
    ):
        raise IndexInvalidError(
            f"the knowledge index in {index_dir} is inconsistent with its manifest; {REBUILD_HINT}"
        )
    chunk_vectors = faiss_index.reconstruct_n(0, faiss_index.ntotal)
    return StoredIndex(
        manifest,
        chunks,
        chunk_vectors,
        faiss_index,
        units,
        unit_vectors,
        build_dir,
        out_of_scope,
        out_of_scope_vectors,
    )


def check_dimension(stored: StoredIndex, embedder: TextEmbedder) -> None:
    if stored.manifest.dimension != embedder.dimension:
        raise IndexInvalidError(
            f"the knowledge index has {stored.manifest.dimension}-dimensional vectors but the "
            f"model gives {embedder.dimension}; {REBUILD_HINT}"
        )
