"""Apply Alembic migrations programmatically (on start and by `mlready db upgrade`)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect

from bot.db.session import Database

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest revision in migrations/versions (a test keeps the two in step). Knowing it
# lets an up-to-date database skip importing Alembic, which costs about half a second.
HEAD_REVISION = "0007"


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


_UPGRADING = threading.Lock()  # Alembic keeps its running context in module globals


def open_database(url: str) -> Database:
    """Connect and bring the schema up to date (safe to run from several processes and threads)."""
    db = Database(url)
    if current_revision(db.engine) != HEAD_REVISION:
        with _UPGRADING:
            if current_revision(db.engine) != HEAD_REVISION:
                upgrade(db.engine)
    return db
