"""Errors a user can cause, each with a message that says what to do."""

from __future__ import annotations

from pathlib import Path


class MlreadyError(Exception):
    """An error caused by input or setup; the CLI prints it without a traceback."""


class KnowledgeError(MlreadyError):
    """A knowledge file that cannot be loaded; names the file and the field."""

    def __init__(self, path: Path | str, field: str | None, message: str) -> None:
        self.path = str(path)
        self.field = field
        self.message = message
        where = f"{self.path}: field '{field}'" if field else self.path
        super().__init__(f"{where}: {message}")


class IndexMissingError(MlreadyError):
    """No index has been built yet in the index directory."""


class IndexInvalidError(MlreadyError):
    """The index is corrupt or was built for another model, dimension or format."""
