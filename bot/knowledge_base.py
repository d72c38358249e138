"""Load, validate and index the knowledge base; open the answer engine on it."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.answers import Answer, AnswerEngine
from bot.checklist import Checklist, load_checklist, validate_links
from bot.errors import USER_ERRORS, MlreadyError
from bot.settings import Settings
from bot.templates import TemplateCatalog
from indexer.embedding import Embedder, TextEmbedder, indexing_installed, model_name
from indexer.errors import IndexMissingError
from indexer.knowledge import KnowledgeDoc, load_categories, load_documents, load_out_of_scope
from indexer.query_encoder import answering_embedder
from indexer.retriever import Retriever
from indexer.search import Searcher
from indexer.store import (
    BuildReport,
    StoredIndex,
    build_index,
    check_dimension,
    current_build_dir,
    load_index,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KnowledgeBase:
    docs: list[KnowledgeDoc]
    checklist: Checklist  # the default template
    templates: TemplateCatalog
    out_of_scope: list[str]  # questions to decline


def load_knowledge(settings: Settings, extra: list[Path] | None = None) -> KnowledgeBase:
    """Every document, the checklist and the questions to decline, validated together; raises
    KnowledgeError."""
    checklist_path = settings.checklist_path
    checklist = load_checklist(checklist_path)
    directories = settings.all_knowledge_dirs(extra)
    docs = load_documents(directories)
    validate_links(checklist, docs, checklist_path)
    templates = TemplateCatalog(
        checklist,
        load_categories(directories),
        {d.id for d in docs},
        settings.template_dirs,
    )
    return KnowledgeBase(docs, checklist, templates, load_out_of_scope(directories))


def indexing_embedder(settings: Settings) -> Embedder:
    """sentence-transformers for building the index; says how to get it where it is missing."""
    if not indexing_installed():
        raise MlreadyError(
            "building the knowledge index needs sentence-transformers and torch: "
            "pip install 'mlready[index]' (or build the index where they are installed)"
        )
    return Embedder(settings.model_path)


def build(
    settings: Settings,
    embedder: Embedder,
    extra: list[Path] | None = None,
    full: bool = False,
) -> BuildReport:
    kb = load_knowledge(settings, extra)
    return build_index(kb.docs, settings.index_dir, embedder, full=full, out_of_scope=kb.out_of_scope)


class ReloadingEngine(AnswerEngine):
    """Answers from the live index build, and switches to a new one when `mlready index`
    replaces it (checked at most every `check_every` seconds), without reloading the model."""

    def __init__(
        self,
        settings: Settings,
        embedder: TextEmbedder,
        stored: StoredIndex,
        check_every: float = 2.0,
        checklist: Checklist | None = None,
        summarize: Callable[[str, list[str]], str | None] | None = None,
    ) -> None:
        super().__init__(
            Searcher(stored), embedder, settings.decline_threshold, checklist=checklist, summarize=summarize
        )
        self.index_dir = settings.index_dir
        self.build = current_build_dir(self.index_dir)
        self.check_every = check_every
        self._checked = time.monotonic()
        self._lock = threading.Lock()

    def ask(self, question: str, retriever: Retriever = Retriever.hybrid) -> Answer:
        self.reload_if_changed()
        return super().ask(question, retriever)

    def reload_if_changed(self, force: bool = False) -> bool:
        now = time.monotonic()
        if not force and now - self._checked < self.check_every:
            return False
        self._checked = now
        current = current_build_dir(self.index_dir)
        if current is None or current == self.build:
            return False
        with self._lock:
            if current == self.build:
                return False
            self.build = current  # tried once per build, so a bad build is not retried every query
            try:
                stored = load_index(self.index_dir, expected_model=self.embedder.name)
                check_dimension(stored, self.embedder)
            except USER_ERRORS as exc:
                log.error(
                    "the new index %s could not be loaded; answering from the previous one: %s", current, exc
                )
                return False
            self.searcher = Searcher(stored)
        log.warning("switched to the new knowledge index %s", current.name)
        return True


def open_engine(
    settings: Settings,
    embedder: TextEmbedder | None = None,
    notify: Callable[[str], None] | None = None,
) -> ReloadingEngine:
    """Load the index, building it first when there is none yet (that needs mlready[index]).
    Queries are embedded by the index's ONNX query encoder unless `embedder` is given."""
    name = embedder.name if embedder else model_name(settings.model_path)
    try:
        stored = load_index(settings.index_dir, expected_model=name)
    except IndexMissingError:
        if notify:
            notify(
                f"No knowledge index in {settings.index_dir} yet; building it now "
                "(about half a minute, once)."
            )
        build(settings, indexing_embedder(settings))
        stored = load_index(settings.index_dir, expected_model=name)
    if embedder is None:
        embedder = answering_embedder(settings.index_dir, stored.manifest.query_encoder, settings.model_path)
    check_dimension(stored, embedder)
    checklist = load_checklist(settings.checklist_path)
    return ReloadingEngine(
        settings, embedder, stored, checklist=checklist, summarize=summary_function(settings, embedder)
    )


def summary_function(
    settings: Settings, embedder: TextEmbedder
) -> Callable[[str, list[str]], str | None] | None:
    """The optional generated summary (MLREADY_LLM_BASE_URL), or None when it is not configured."""
    if not settings.llm_base_url:
        return None
    from bot.summary import summarizer_from_settings

    summarizer = summarizer_from_settings(settings, embedder.encode)
    if summarizer is None:
        return None

    def summarize(question: str, lines: list[str]) -> str | None:
        result = summarizer.summarize(question, lines)
        return result.text if result else None

    return summarize
