"""Errors a user can cause (a setting, a file, a missing extra), each saying what to do."""

from __future__ import annotations

from indexer.errors import IndexerError


class MlreadyError(Exception):
    """An error caused by input or setup; the CLI prints it without a traceback."""


# what the CLI and the answering job treat as "tell the user, no traceback"
USER_ERRORS: tuple[type[Exception], ...] = (MlreadyError, IndexerError)
