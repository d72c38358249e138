"""Checklist templates per project, evidence (note and link) and assignments per item.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def _item_key() -> list[sa.Column]:
    return [
        sa.Column(
            "project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("item_id", sa.String(80), primary_key=True),
    ]


def upgrade() -> None:
    op.create_table(
        "checklist_templates",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("checklist", sa.JSON, nullable=False),
        sa.Column("created_by", sa.String(32), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("team_id", "name", "digest", name="uq_checklist_templates_digest"),
    )
    # Plain ALTERs, not a batch: rebuilding `projects` on SQLite would cascade-delete its children.
    # No foreign key for the same reason; the code only ever stores ids of rows it just read.
    op.add_column("projects", sa.Column("template_id", sa.Integer, nullable=True))
    op.create_table(
        "item_evidence",
        *_item_key(),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("changed_by", sa.String(32), nullable=False),
        sa.Column("changed_at", TS, nullable=False),
    )
    op.create_table(
        "item_assignments",
        *_item_key(),
        sa.Column("assignee_id", sa.String(32), nullable=False),
        sa.Column("due_on", sa.Date, nullable=True),
        sa.Column("assigned_by", sa.String(32), nullable=False),
        sa.Column("assigned_at", TS, nullable=False),
        sa.Column("dm_ts", sa.String(32), nullable=False),
    )
    op.create_table(
        "checklist_item_changes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
        sa.Column("item_id", sa.String(80), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
        sa.Column("changed_by", sa.String(32), nullable=False),
        sa.Column("changed_at", TS, nullable=False),
    )
    op.create_index("ix_checklist_item_changes_project", "checklist_item_changes", ["project_id", "item_id"])


def downgrade() -> None:
    op.drop_index("ix_checklist_item_changes_project", "checklist_item_changes")
    op.drop_table("checklist_item_changes")
    op.drop_table("item_assignments")
    op.drop_table("item_evidence")
    op.drop_column("projects", "template_id")
    op.drop_table("checklist_templates")
