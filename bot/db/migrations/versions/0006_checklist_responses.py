"""Checklist "answers" become "responses", so "answer" means only a Q&A answer.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

RENAMES = (("checklist_answers", "checklist_responses"), ("answer_history", "checklist_response_history"))
COLUMNS = (("answered_by", "responded_by"), ("answered_at", "responded_at"))


def _rename(
    tables: tuple[tuple[str, str], ...], columns: tuple[tuple[str, str], ...], index: tuple[str, str]
) -> None:
    (old_index, new_index) = index
    history_table = tables[1][0]
    op.drop_index(old_index, history_table)
    for old, new in tables:
        op.rename_table(old, new)
        with op.batch_alter_table(new) as batch:
            for old_column, new_column in columns:
                batch.alter_column(old_column, new_column_name=new_column)
    op.create_index(new_index, tables[1][1], ["project_id", "item_id"])


def upgrade() -> None:
    _rename(RENAMES, COLUMNS, ("ix_answer_history_project", "ix_checklist_response_history_project"))


def downgrade() -> None:
    _rename(
        tuple((new, old) for old, new in RENAMES),
        tuple((new, old) for old, new in COLUMNS),
        ("ix_checklist_response_history_project", "ix_answer_history_project"),
    )
