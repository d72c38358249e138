"""Workspaces, projects, checklist answers and history, KPIs and sign-offs.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "workspaces",
        sa.Column("team_id", sa.String(32), primary_key=True),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "projects",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("team_id", sa.String(32), sa.ForeignKey("workspaces.team_id"), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("owner_id", sa.String(32), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("archived_at", TS, nullable=True),
        sa.Column("kpi_version", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_index(
        "uq_projects_active_channel",
        "projects",
        ["team_id", "channel_id"],
        unique=True,
        sqlite_where=sa.text("archived_at IS NULL"),
        postgresql_where=sa.text("archived_at IS NULL"),
    )
    op.create_table(
        "checklist_answers",
        sa.Column(
            "project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("item_id", sa.String(80), primary_key=True),
        sa.Column("value", sa.String(16), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("answered_by", sa.String(32), nullable=False),
        sa.Column("answered_at", TS, nullable=False),
    )
    op.create_table(
        "answer_history",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
        sa.Column("item_id", sa.String(80), nullable=False),
        sa.Column("value", sa.String(16), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("answered_by", sa.String(32), nullable=False),
        sa.Column("answered_at", TS, nullable=False),
    )
    op.create_index("ix_answer_history_project", "answer_history", ["project_id", "item_id"])
    op.create_table(
        "kpis",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
        sa.Column("metric", sa.String(200), nullable=False),
        sa.Column("baseline", sa.Float, nullable=False),
        sa.Column("target", sa.Float, nullable=False),
        sa.Column("unit", sa.String(40), nullable=False),
        sa.Column("deadline", TS, nullable=True),
        sa.Column("owner_id", sa.String(32), nullable=False),
        sa.Column("created_by", sa.String(32), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "signoffs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
        sa.Column("stakeholder_id", sa.String(32), nullable=False),
        sa.Column("requested_by", sa.String(32), nullable=False),
        sa.Column("what", sa.Text, nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("kpi_version", sa.Integer, nullable=False),
        sa.Column("requested_at", TS, nullable=False),
        sa.Column("decided_at", TS, nullable=True),
        sa.Column("dm_channel", sa.String(32), nullable=False),
        sa.Column("dm_ts", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("signoffs")
    op.drop_table("kpis")
    op.drop_index("ix_answer_history_project", "answer_history")
    op.drop_table("answer_history")
    op.drop_table("checklist_answers")
    op.drop_index("uq_projects_active_channel", "projects")
    op.drop_table("projects")
    op.drop_table("workspaces")
