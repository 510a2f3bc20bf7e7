"""The event stream's table (issue 12 §2): Rasa events for the analytics, from RabbitMQ

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conversation_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_key", sa.String(length=64), nullable=False),
        sa.Column("sender_id", sa.String(length=255), nullable=False),
        sa.Column("type_name", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("value", sa.String(length=255), nullable=True),
        sa.Column("input_channel", sa.String(length=64), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("timestamp", sa.Float(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_key"),
    )
    op.create_index("ix_conversation_events_sender_id", "conversation_events", ["sender_id"])
    op.create_index("ix_conversation_events_timestamp", "conversation_events", ["timestamp"])


def downgrade() -> None:
    op.drop_index("ix_conversation_events_timestamp", table_name="conversation_events")
    op.drop_index("ix_conversation_events_sender_id", table_name="conversation_events")
    op.drop_table("conversation_events")
