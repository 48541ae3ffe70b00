"""A partial index over the queue: the ids of pending and processing messages only.

The claim query looks for the oldest due message; without this index it walks the whole
table in id order past every done message (EXPLAIN: a full scan on SQLite, the primary key
with every row filtered on PostgreSQL).  The index holds only the rows still queued, so
it stays small however much mail is archived, and it is read in id order.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

QUEUED = sa.text("status IN ('pending', 'processing')")


def upgrade() -> None:
    op.create_index("ix_message_queue", "message", ["id"], postgresql_where=QUEUED, sqlite_where=QUEUED)


def downgrade() -> None:
    op.drop_index("ix_message_queue", table_name="message")
