"""Digital-help guides can be retired too, as services, offices and places already are
(0016_ops14): the row stays with the time it was retired, and the assistant offers it no more

Revision ID: 0017_guides
Revises: 0016_ops14
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_guides"
down_revision = "0016_ops14"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("digital_guides", sa.Column("retired_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("digital_guides", "retired_at")
