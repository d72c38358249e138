"""Load, validate and index the knowledge base; open the answer engine on it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.answers import AnswerEngine
from bot.checklist import Checklist, load_checklist, validate_links
from bot.settings import Settings
from indexer.embedding import Embedder
from indexer.errors import IndexMissingError
from indexer.knowledge import KnowledgeDoc, load_documents, shipped_knowledge_dir
from indexer.search import Searcher
from indexer.store import BuildReport, build_index, check_dimension, load_index

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KnowledgeBase:
    docs: list[KnowledgeDoc]
    checklist: Checklist


def load_knowledge(settings: Settings, extra: list[Path] | None = None) -> KnowledgeBase:
    """Every document and the checklist, validated together; raises KnowledgeError."""
    checklist_path = shipped_knowledge_dir() / "checklist.yaml"
    checklist = load_checklist(checklist_path)
    docs = load_documents(settings.all_knowledge_dirs(extra))
    validate_links(checklist, docs, checklist_path)
    return KnowledgeBase(docs, checklist)


def build(
    settings: Settings,
    embedder: Embedder,
    extra: list[Path] | None = None,
    full: bool = False,
) -> BuildReport:
    kb = load_knowledge(settings, extra)
    return build_index(kb.docs, settings.index_dir, embedder, full=full)


def open_engine(
    settings: Settings,
    embedder: Embedder | None = None,
    notify: Callable[[str], None] | None = None,
) -> AnswerEngine:
    """Load the index, building it first when there is none yet."""
    embedder = embedder or Embedder(settings.model_path)
    try:
        stored = load_index(settings.index_dir, expected_model=embedder.name)
    except IndexMissingError:
        if notify:
            notify(
                f"No knowledge index in {settings.index_dir} yet; building it now "
                "(about half a minute, once)."
            )
        build(settings, embedder)
        stored = load_index(settings.index_dir, expected_model=embedder.name)
    check_dimension(stored, embedder)
    return AnswerEngine(Searcher(stored), embedder, settings.decline_threshold)
