"""Catalogue entries can be retired (issue 14 §3): services, offices and digital-help places
keep their row (cases and bookings refer to them) with the time they were retired; the
assistant offers only the others

Revision ID: 0016_ops14
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_ops14"
down_revision = "0015"
branch_labels = None
depends_on = None

TABLES = ("services", "offices", "digital_places")


# Plain ALTER TABLE (SQLite 3.35+ drops a column in place): a batch copy of ``services`` would
# drop the table that cases and bookings refer to.


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("retired_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        op.drop_column(table, "retired_at")
