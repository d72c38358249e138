"""Persistence: SQLAlchemy 2.0 models, engine/session setup and Alembic migrations."""
