"""A case's detail in a JSON column (issue 9 §6): ``{language: text}``, never a string that
may or may not hold JSON

Before, ``cases.detail`` was text: a per-language detail as a JSON object in a string, or a
plain string meaning the text in the case's own ``language``. Now the column is JSON and
always holds the object (or NULL): a plain string becomes ``{case language: text}``, a JSON
object string becomes that object, and blank text becomes NULL.

Plain ``ALTER TABLE … DROP/RENAME COLUMN`` (SQLite ≥ 3.35 and PostgreSQL), not Alembic's
batch mode: batch mode copies and drops ``cases`` on SQLite, where foreign keys are on
(bot.store.db) and dropping the table would cascade to its history and bookings.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

LANGUAGES = ("en", "es", "fr", "ar")  # as at this revision (bot.language.detect.SUPPORTED)


def _as_object(stored: str | None, language: str | None) -> dict[str, str] | None:
    """The old text column's value as ``{language: text}`` (None when empty)."""
    if stored is None or not stored.strip():
        return None
    if stored.lstrip().startswith("{"):
        try:
            value = json.loads(stored)
        except ValueError:
            value = None
        if isinstance(value, dict) and value and all(
                k in LANGUAGES and isinstance(v, str) for k, v in value.items()):
            kept = {k: v for k, v in value.items() if v.strip()}
            return dict(sorted(kept.items())) or None
    return {language or "en": stored.strip()}


def _as_text(value: object, language: str | None) -> str | None:
    """The JSON column's value as the old text column held it."""
    if not isinstance(value, dict) or not value:
        return None
    if list(value) == [language or "en"]:
        return str(value[language or "en"])
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _move(source_type: sa.types.TypeEngine, target_type: sa.types.TypeEngine,
          convert: Callable[[Any, str | None], object]) -> None:
    """Fill a new column from ``detail``, row by row, then put it in its place (empty values
    stay SQL NULL)."""
    source, target = "detail", "detail_new"
    op.add_column("cases", sa.Column(target, target_type, nullable=True))
    connection = op.get_bind()
    cases = sa.table("cases", sa.column("id", sa.Integer), sa.column("language", sa.String),
                     sa.column(source, source_type), sa.column(target, target_type))
    rows = connection.execute(sa.select(cases.c.id, cases.c.language, cases.c[source])
                              .where(cases.c[source].isnot(None))).all()
    for case_id, language, stored in rows:
        value = convert(stored, language)
        if value is not None:
            connection.execute(sa.update(cases).where(cases.c.id == case_id)
                               .values({target: value}))
    op.execute(f"ALTER TABLE cases DROP COLUMN {source}")
    op.execute(f"ALTER TABLE cases RENAME COLUMN {target} TO {source}")


def upgrade() -> None:
    _move(sa.Text(), sa.JSON(none_as_null=True), _as_object)


def downgrade() -> None:
    _move(sa.JSON(none_as_null=True), sa.Text(), _as_text)
