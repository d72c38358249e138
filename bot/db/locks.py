"""Named locks that hold across threads, and across processes on PostgreSQL (advisory locks)."""

from __future__ import annotations

import contextlib
import threading
import zlib
from collections.abc import Iterator

from sqlalchemy import text

from bot.db.session import Database

_STRIPES = [threading.Lock() for _ in range(64)]


@contextlib.contextmanager
def named_lock(db: Database, key: str) -> Iterator[None]:
    """One holder of `key` at a time: a thread lock here, plus `pg_advisory_lock` on PostgreSQL."""
    with _STRIPES[zlib.crc32(key.encode()) % len(_STRIPES)]:
        if db.engine.dialect.name != "postgresql":
            yield
            return
        with db.engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(hashtext(:k))"), {"k": key})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(hashtext(:k))"), {"k": key})
                conn.commit()
