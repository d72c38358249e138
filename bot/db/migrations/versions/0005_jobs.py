"""Durable jobs: acknowledged work that any replica can finish.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("coalesce_key", sa.String(200), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("run_after", TS, nullable=False),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("lease_until", TS, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=True),
    )
    op.create_index("ix_jobs_claimable", "jobs", ["status", "run_after"])
    op.create_index(
        "uq_jobs_pending_coalesce",
        "jobs",
        ["coalesce_key"],
        unique=True,
        postgresql_where=PENDING,
        sqlite_where=PENDING,
    )
    with op.batch_alter_table("answer_records") as batch:
        batch.add_column(sa.Column("job_id", sa.Integer, nullable=True))
        batch.create_unique_constraint("uq_answer_records_job_id", ["job_id"])


def downgrade() -> None:
    with op.batch_alter_table("answer_records") as batch:
        batch.drop_constraint("uq_answer_records_job_id", type_="unique")
        batch.drop_column("job_id")
    op.drop_index("uq_jobs_pending_coalesce", "jobs")
    op.drop_index("ix_jobs_claimable", "jobs")
    op.drop_table("jobs")
