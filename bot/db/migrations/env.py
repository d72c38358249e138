"""Alembic environment: runs against the engine handed over in config.attributes."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from bot.db.models import Base

MIGRATION_LOCK = 7_311_042  # any constant; serializes replicas migrating one PostgreSQL at once

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK})
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
