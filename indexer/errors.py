"""The indexer's errors: each is caused by input or setup and says what to do."""

from __future__ import annotations

from pathlib import Path


class IndexerError(Exception):
    """Knowledge, model or index problem; callers show the message without a traceback."""


class KnowledgeError(IndexerError):
    """A knowledge file that cannot be loaded; names the file and the field."""

    def __init__(self, path: Path | str, field: str | None, message: str) -> None:
        self.path = str(path)
        self.field = field
        self.message = message
        where = f"{self.path}: field '{field}'" if field else self.path
        super().__init__(f"{where}: {message}")


class ModelMissingError(IndexerError):
    """The embedding model folder is not there."""


class IndexMissingError(IndexerError):
    """No index has been built yet in the index directory."""


class IndexInvalidError(IndexerError):
    """The index is corrupt or was built for another model, dimension or format."""
