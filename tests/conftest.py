"""Shared fixtures: a real SQLite (or PostgreSQL) database per test, and the real stack per test
session."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.config import get_settings
from bot.store.db import dispose_engines, session_scope
from tests.support import Providers, Stack, base_env, prepare_database, running_stack


def _use_environment(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    for key in list(os.environ):
        if key.startswith(("CIVICLINE_", "TWILIO_", "TELEGRAM_")):
            monkeypatch.delenv(key)
    for key, value in base_env(database_url).items():
        if os.environ.get(key) != value:
            monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    dispose_engines()


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated and seeded SQLite file, copied for each test that needs a database."""
    path = tmp_path_factory.mktemp("template") / "civicline.db"
    prepare_database(f"sqlite:///{path}")
    return path


@pytest.fixture
def database(
    tmp_path: Path, seeded_template: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A fresh, migrated, seeded SQLite database for this test; DATABASE_URL points at it."""
    path = tmp_path / "civicline.db"
    path.write_bytes(seeded_template.read_bytes())
    url = f"sqlite:///{path}"
    _use_environment(monkeypatch, url)
    yield url
    dispose_engines()
    get_settings.cache_clear()


# --- PostgreSQL (SPEC §8: DATABASE_URL; §10: the scale-out database) -----------------------------
# The machine runs a PostgreSQL server (trust auth); each test gets its own database, copied
# from a migrated and seeded template, and dropped afterwards.
POSTGRES_ADMIN_URL = os.environ.get("CIVICLINE_TEST_POSTGRES_URL",
                                    "postgresql://postgres@127.0.0.1:5432/postgres")


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


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    name = f"civicline_template_{os.getpid()}"
    postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    postgres_admin(f'CREATE DATABASE "{name}"')
    prepare_database(postgres_url(name))
    yield name
    postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_database(postgres_template: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh, migrated, seeded PostgreSQL database for this test; DATABASE_URL points at it."""
    name = f"civicline_test_{secrets.token_hex(6)}"
    postgres_admin(f'CREATE DATABASE "{name}" TEMPLATE "{postgres_template}"')
    url = postgres_url(name)
    _use_environment(monkeypatch, url)
    try:
        yield url
    finally:
        dispose_engines()
        get_settings.cache_clear()
        postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def session(database: str):
    with session_scope() as db_session:
        yield db_session


@pytest.fixture(scope="session")
def providers() -> Iterator[Providers]:
    """Stand-ins for Twilio's and Telegram's APIs, running before the stack starts."""
    running = Providers().start()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, providers: Providers) -> Iterator[Stack]:
    """The real Rasa server (trained model) and action server, once per test session; its
    Twilio and Telegram traffic goes to the stand-ins (``stack.providers``)."""
    with running_stack(tmp_path_factory.mktemp("stack"), extra_env=providers.env) as running:
        running.providers = providers
        yield running
