"""Shared fixtures: a real SQLite (or PostgreSQL) database per test, the provider stand-ins,
and the real stack per test session. What they are built on is in tests/support/."""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import get_settings
from bot.store.db import session_scope
from tests.support.databases import (
    forget_database,
    postgres_admin,
    postgres_url,
    prepare_database,
    use_database,
)
from tests.support.providers import TWILIO_ACCOUNT_SID, Providers
from tests.support.providers import hung_provider as hanging
from tests.support.readability import english_scores
from tests.support.stack import Stack, running_stack
from tests.support.stack_data import catalogue_kept, staffed


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test on the PostgreSQL server is marked ``postgres`` (make test-fast leaves them
    out), whichever way it gets there: a fixture, or a suite run again on it."""
    for item in items:
        if "postgres_template" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)


# --- databases --------------------------------------------------------------------------------


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
    use_database(monkeypatch, url)
    yield url
    forget_database()


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
    use_database(monkeypatch, url)
    try:
        yield url
    finally:
        forget_database()
        postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def session(database: str):
    with session_scope() as db_session:
        yield db_session


# --- the provider stand-ins -------------------------------------------------------------------


@pytest.fixture(scope="session")
def providers() -> Iterator[Providers]:
    """Stand-ins for Twilio's and Telegram's APIs, running before the stack starts (shared:
    count only your own recipient's messages)."""
    running = Providers().start()
    yield running
    running.stop()


@pytest.fixture
def fast_retries(database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh database, and retries due at once (after `database`, which resets CIVICLINE_*)."""
    monkeypatch.setenv("CIVICLINE_OUTBOX_BACKOFF_SECONDS", "0")


@pytest.fixture
def twilio(database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Providers]:
    """This test's own provider stand-ins (nobody else's messages), where this process's
    Twilio and Telegram clients send."""
    own = Providers().start()
    for key, value in own.env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    yield own
    own.stop()
    get_settings.cache_clear()


@pytest.fixture
def hung_provider(database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[socket.socket]]:
    """A Twilio stand-in that accepts every connection and never answers; the accepted
    connections are listed."""
    with hanging() as (url, accepted):
        monkeypatch.setenv("TWILIO_API_BASE_URL", url)
        monkeypatch.setenv("TWILIO_ACCOUNT_SID", TWILIO_ACCOUNT_SID)
        monkeypatch.setenv("CIVICLINE_PROVIDER_TIMEOUT_SECONDS", "2")
        monkeypatch.setenv("CIVICLINE_OUTBOX_LEASE_SECONDS", "1")  # shorter than a send: unsafe
        monkeypatch.setenv("CIVICLINE_OUTBOX_BACKOFF_SECONDS", "600")
        get_settings.cache_clear()
        yield accepted
    get_settings.cache_clear()


# --- the stack --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, providers: Providers) -> Iterator[Stack]:
    """The real Rasa server (trained model) and action server, once per test session; its
    Twilio and Telegram traffic goes to the stand-ins (``stack.providers``)."""
    with running_stack(tmp_path_factory.mktemp("stack"), extra_env=providers.env) as running:
        running.providers = providers
        yield running


@pytest.fixture
def on_duty(stack: Stack) -> Iterator[None]:
    """The call centre staffed round the clock during the test (whatever the time it runs)."""
    with staffed(stack, True):
        yield


# --- the actions' view ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def domain() -> dict[str, Any]:
    """The Rasa domain as the action server receives it."""
    from tests.support.trackers import load_domain  # Rasa's domain code: only when asked for

    return load_domain()


# --- readability ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def _english_scores(tmp_path_factory: pytest.TempPathFactory
                    ) -> Iterator[tuple[Callable[[str], float], Callable[[str], int]]]:
    with english_scores(tmp_path_factory.mktemp("nltk_data")) as scores:
        yield scores


@pytest.fixture(scope="session")
def english_grade(_english_scores: tuple[Callable[[str], float], Callable[[str], int]]
                  ) -> Callable[[str], float]:
    """``textstat.flesch_kincaid_grade`` for English, backed by the local CMU dictionary."""
    return _english_scores[0]


@pytest.fixture(scope="session")
def english_syllables(_english_scores: tuple[Callable[[str], float], Callable[[str], int]]
                      ) -> Callable[[str], int]:
    """``textstat.syllable_count`` for English, backed by the local CMU dictionary."""
    return _english_scores[1]


@pytest.fixture(scope="module")
def kept_catalogue(stack: Stack) -> Iterator[None]:
    """What a module adds to the shared stack's catalogue is gone when it ends."""
    with catalogue_kept(stack):
        yield


# --- the browser ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, launched once for a module's browser tests (tests/support/browser.py)."""
    from tests.support.browser import chromium

    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def project() -> Any:
    """CivicLine's domain as Rasa loads it, for the tests that compare with Rasa's own code.
    (Imported here, not at the top: Rasa's domain is seconds to import, and `make test-fast`
    loads this file too.)"""
    import warnings

    from rasa.shared.core.domain import Domain

    from tests.support.environment import ROOT

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return Domain.load(str(ROOT / "domain"))
