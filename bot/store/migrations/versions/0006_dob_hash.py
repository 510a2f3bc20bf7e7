"""Dates of birth only as keyed hashes; verification failures per reference and per sender
(SPEC §5.1, §8)

Every case's ``date_of_birth`` becomes ``date_of_birth_hash``: HMAC-SHA256 of the ISO date
under ``CIVICLINE_DOB_KEY`` as set when the migration runs (bot.cases.dob_hash), and the clear
column is dropped. A downgrade cannot recover the dates: the column comes back empty.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

from bot.domain.cases import dob_hash

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _as_date(value: object) -> dt.date:
    """A stored date as the driver returns it (a date, or ISO text on SQLite)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def upgrade() -> None:
    op.create_table(
        "verification_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=8), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("verification_failures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_verification_failures_reference"), ["reference"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_verification_failures_person_id"), ["person_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_verification_failures_created_at"),
                              ["created_at"], unique=False)

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("date_of_birth_hash", sa.String(length=64),
                                      nullable=True))
    connection = op.get_bind()
    cases = sa.table("cases", sa.column("id", sa.Integer),
                     sa.column("date_of_birth", sa.Date),
                     sa.column("date_of_birth_hash", sa.String))
    rows = connection.execute(sa.select(cases.c.id, cases.c.date_of_birth)
                              .where(cases.c.date_of_birth.isnot(None))).all()
    for case_id, date_of_birth in rows:
        connection.execute(cases.update().where(cases.c.id == case_id)
                           .values(date_of_birth_hash=dob_hash(_as_date(date_of_birth))))
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("date_of_birth")


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("date_of_birth", sa.Date(), nullable=True))
        batch_op.drop_column("date_of_birth_hash")
    with op.batch_alter_table("verification_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_verification_failures_created_at"))
        batch_op.drop_index(batch_op.f("ix_verification_failures_person_id"))
        batch_op.drop_index(batch_op.f("ix_verification_failures_reference"))
    op.drop_table("verification_failures")
