"""Alembic migrations, run from code (no alembic.ini needed): `python -m bot migrate`."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# A PostgreSQL advisory lock held while migrating: two hosts starting at once (each its own
# `civicline-migrate` unit, or `make serve`) migrate one after the other, never together.
MIGRATION_LOCK = 0x43_49_56_49_43  # "CIVIC"


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url:
        config.set_main_option("sqlalchemy.url", url)
    return config


def upgrade(url: str | None = None) -> None:
    """Bring the database at ``url`` (default DATABASE_URL) to the latest schema; on
    PostgreSQL under :data:`MIGRATION_LOCK`, so concurrent runs take turns (the second finds
    the schema current)."""
    from bot.store.db import get_engine

    engine = get_engine(url)
    if engine.dialect.name != "postgresql":
        command.upgrade(alembic_config(url), "head")
        return
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK})
        try:
            command.upgrade(alembic_config(url), "head")
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK})


def make_revision(message: str, url: str | None = None) -> None:
    """Autogenerate a migration from the models (developers only)."""
    command.revision(alembic_config(url), message=message, autogenerate=True)
