"""Delivery receipts (issue 13 §6): Twilio's status per outbound message, and the provider ids
of an agent's reply

Numbered 0011 because another change may add 0010: when both are merged, set this
``down_revision`` to "0010" so the history stays one line.

Revision ID: 0011
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "delivery_receipts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("error_code", sa.String(length=16), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("provider_id"),
    )
    op.create_index("ix_delivery_receipts_updated_at", "delivery_receipts", ["updated_at"])
    with op.batch_alter_table("handoff_notes") as batch:
        batch.add_column(sa.Column("provider_id", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("handoff_notes") as batch:
        batch.drop_column("provider_id")
    op.drop_index("ix_delivery_receipts_updated_at", table_name="delivery_receipts")
    op.drop_table("delivery_receipts")
