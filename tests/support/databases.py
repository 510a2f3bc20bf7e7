"""Migrated and seeded databases: a SQLite file or a PostgreSQL database per test, and this
process's settings pointed at one."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.config import get_settings
from bot.store.db import dispose_engines
from tests.support.environment import OWN_PREFIXES, ROOT, base_env

# The machine runs a PostgreSQL server (trust auth); each test gets its own database, copied
# from a migrated and seeded template, and dropped afterwards.
POSTGRES_ADMIN_URL = os.environ.get("CIVICLINE_TEST_POSTGRES_URL",
                                    "postgresql://postgres@127.0.0.1:5432/postgres")


def prepare_database(database_url: str) -> None:
    """Migrate and seed ``database_url`` in a child process (exactly as `make run` does)."""
    subprocess.run([sys.executable, "-m", "bot", "setup", "--demo"], cwd=ROOT,
                   env=base_env(database_url),
                   check=True, capture_output=True)


def use_database(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    """This process's settings as a test process's, on ``database_url`` (undone by
    ``monkeypatch``; the caches are cleared here and must be again afterwards)."""
    for key in list(os.environ):
        if key.startswith(OWN_PREFIXES):
            monkeypatch.delenv(key)
    for key, value in base_env(database_url).items():
        if os.environ.get(key) != value:
            monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    dispose_engines()


def forget_database() -> None:
    """Drop this process's engines and settings (after a test's database is gone)."""
    dispose_engines()
    get_settings.cache_clear()


def postgres_admin(statement: str) -> None:
    """Run one statement outside a transaction (CREATE/DROP DATABASE need that)."""
    engine = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


def postgres_url(name: str) -> str:
    return make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
