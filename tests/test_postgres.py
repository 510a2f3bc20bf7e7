"""CivicLine on PostgreSQL (SPEC §8 ``DATABASE_URL``, §10): the SQLite suites of bookings,
notifications, cases, hand-offs, people and retention, run again unchanged against the real
PostgreSQL server, each test in its own database (``postgres_database`` in conftest); and the
guided-form conversations through the real webhooks, with a stack whose data *and* Rasa
tracker store are on PostgreSQL.

PostgreSQL is where concurrency is real: two bookings of the last desk, or two dispatchers
claiming the same notification, run in parallel there (SQLite serialises writers). The
re-run tests are the same functions: this module only points ``database`` and ``stack``
elsewhere.
"""

from __future__ import annotations

import secrets
import types
from collections.abc import Iterator

import pytest

from tests import (
    test_bookings,
    test_cases,
    test_channel_people,
    test_forms_conversations,
    test_handoff,
    test_inbound_state,
    test_outbox,
    test_retention,
)
from tests.support.databases import postgres_admin, postgres_url
from tests.support.providers import Providers
from tests.support.stack import Stack, running_stack
from tests.support.stack_data import query

pytestmark = pytest.mark.postgres
SUITES: tuple[types.ModuleType, ...] = (test_bookings, test_cases, test_channel_people,
                                        test_handoff, test_outbox, test_retention,
                                        test_forms_conversations, test_inbound_state)


@pytest.fixture
def database(postgres_database: str) -> str:
    return postgres_database


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, postgres_template: str,
          providers: Providers) -> Iterator[Stack]:
    """The real Rasa server and action server on a PostgreSQL database of their own."""
    name = f"civicline_stack_{secrets.token_hex(6)}"
    postgres_admin(f'CREATE DATABASE "{name}" TEMPLATE "{postgres_template}"')
    try:
        with running_stack(tmp_path_factory.mktemp("pgstack"), extra_env=providers.env,
                           database_url=postgres_url(name)) as running:
            running.providers = providers
            yield running
    finally:
        postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _adopt(suites: tuple[types.ModuleType, ...]) -> None:
    """Collect every ``test_*`` of ``suites`` here too, where ``database`` is PostgreSQL,
    with its module's marks (``usefixtures``, ``stack``) put on the function itself."""
    for suite in suites:
        marks = getattr(suite, "pytestmark", [])
        for name, value in vars(suite).items():
            if name.startswith("test_") and callable(value):
                assert name not in globals(), f"{name} is in two suites"
                for mark in marks if isinstance(marks, list) else [marks]:
                    value = mark(value)
                globals()[name] = value


_adopt(SUITES)


def test_these_tests_run_on_postgresql(database: str, session) -> None:
    from sqlalchemy import text

    from bot.store.db import get_engine

    assert get_engine().dialect.name == "postgresql"
    assert session.execute(text("SELECT count(*) FROM cases")).scalar() >= 4  # seeded


@pytest.mark.stack
def test_the_conversations_are_stored_in_postgresql(stack: Stack) -> None:
    assert stack.database_url.startswith("postgresql")
    stack.texts("+15550199001", "hello")
    assert query(stack, "SELECT count(*) FROM events WHERE sender_id = :s AND type_name = "
                        "'user'", s="+15550199001") == [(1,)]
