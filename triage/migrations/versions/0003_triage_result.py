"""The triage_result table, one row per triaged message, and message.claimed_by for the queue.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("message", sa.Column("claimed_by", sa.String(length=128), nullable=True))
    op.create_table(
        "triage_result",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("message_id", sa.Integer(), sa.ForeignKey("message.id"), nullable=False, unique=True),
        sa.Column("model_version", sa.String(length=128), nullable=True),
        sa.Column("topic", sa.String(length=64), nullable=True),
        sa.Column("urgency", sa.String(length=32), nullable=True),
        sa.Column("team", sa.String(length=128), nullable=True),
        sa.Column("route_reason", sa.Text(), nullable=True),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("needs_review", sa.Boolean(), nullable=True),
        sa.Column("result_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("triage_result")
    with op.batch_alter_table("message") as batch:
        batch.drop_column("claimed_by")
