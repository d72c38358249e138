"""slack_sdk's OAuth installation, bot and state tables (multi-workspace installs).

Revision ID: 0004
Revises: 0003

The table shapes come from slack_sdk's SQLAlchemy stores, which read and write them.
"""

import sqlalchemy as sa
from alembic import op

from bot.db.models import slack_oauth_tables

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in slack_oauth_tables(sa.MetaData()):
        table.create(op.get_bind())


def downgrade() -> None:
    for table in reversed(slack_oauth_tables(sa.MetaData())):
        table.drop(op.get_bind())
