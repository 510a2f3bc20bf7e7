"""SPEC §5.1, §8 (issue 10, build 2): one attempt is one date; failures limited per reference
across senders and per sender across references; the proven owner passes every lock; dates of
birth are stored only as keyed hashes. Real SQLite databases, migrated by Alembic."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import sqlite3
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.config import get_settings
from bot.domain import cases, people, references
from bot.domain.cases import MAX_REFERENCE_FAILURES, MAX_SENDER_FAILURES, Outcome
from bot.domain.dates import parse_date_of_birth
from bot.store.db import dispose_engines, session_scope
from bot.store.migrate import alembic_config
from bot.store.models import VerificationFailure
from tests.support.environment import PRODUCTION_SETTINGS

REFERENCE = "40217382"  # seeded: in_review, phone +15550100001, born 1985-03-12
OWNER_PHONE = "+15550100001"
RIGHT = [dt.date(1985, 3, 12)]
WRONG = [dt.date(1990, 1, 1)]
UNKNOWN_REFERENCE = "11111119"
NOW = dt.datetime(2026, 12, 2, 12, 0)
SEVENTY_DATES = " ".join(f"{day} {month} 1985" for month in ("jan", "feb", "mar")
                         for day in range(1, 29))[:1000]


def sender(session: Session, n: int) -> people.Person:
    return people.get_or_create(session, f"+1555077{n:04d}")


def fail_from_many_senders(session: Session, reference: str, count: int,
                           now: dt.datetime = NOW) -> list[Outcome]:
    """``count`` different senders each get one date wrong on ``reference``."""
    return [cases.check_date_of_birth(session, sender(session, n), reference, WRONG,
                                      now=now).outcome for n in range(count)]


def test_a_message_of_many_dates_is_not_an_attempt(session: Session) -> None:
    """The right date is among them; nothing is tried, nothing counted, same answer for a
    real and an unknown reference."""
    candidates = parse_date_of_birth(SEVENTY_DATES)
    assert dt.date(1985, 3, 12) in candidates and len(candidates) > 30
    stranger = sender(session, 9000)
    for reference in (REFERENCE, UNKNOWN_REFERENCE):
        lookup = cases.check_date_of_birth(session, stranger, reference, candidates, now=NOW)
        assert lookup == cases.Lookup(Outcome.ONE_DATE, attempts_left=3)
    assert session.scalar(select(func.count()).select_from(VerificationFailure)) == 0


@pytest.mark.parametrize("reference", [REFERENCE, UNKNOWN_REFERENCE])
def test_rotating_senders_lock_the_reference_after_ten(session: Session, reference: str) -> None:
    outcomes = fail_from_many_senders(session, reference, MAX_REFERENCE_FAILURES)
    assert outcomes == [Outcome.WRONG_DOB] * (MAX_REFERENCE_FAILURES - 1) + [Outcome.LOCKED]
    # The eleventh sender, with the right date: locked, told nothing (same for an unknown one).
    fresh = sender(session, 500)
    assert cases.start_lookup(session, fresh, reference, trust_phone=False,
                              now=NOW).outcome is Outcome.LOCKED
    right = cases.check_date_of_birth(session, fresh, reference, RIGHT, now=NOW)
    assert right.outcome is Outcome.LOCKED and right.case is None
    assert right.locked_until == NOW + cases.FAILURE_WINDOW
    # Staff see it.
    assert cases.verification_json(session, reference, now=NOW) == {
        "locked": True, "locked_until": (NOW + cases.FAILURE_WINDOW).isoformat() + "Z",
        "failures_24h": MAX_REFERENCE_FAILURES}
    # A day later the failures have aged out.
    later = NOW + cases.FAILURE_WINDOW + dt.timedelta(seconds=1)
    assert cases.check_date_of_birth(session, fresh, reference, RIGHT, now=later).outcome is (
        Outcome.OWNER if reference == REFERENCE else Outcome.WRONG_DOB)


def test_nine_failures_do_not_lock_the_reference(session: Session) -> None:
    fail_from_many_senders(session, REFERENCE, MAX_REFERENCE_FAILURES - 1)
    assert cases.verification_json(session, REFERENCE, now=NOW)["locked"] is False
    lookup = cases.check_date_of_birth(session, sender(session, 501), REFERENCE, RIGHT, now=NOW)
    assert lookup.outcome is Outcome.OWNER


def test_one_sender_rotating_references_is_stopped(session: Session) -> None:
    """Ten failures on ten references (one each: no per-reference lock) stop the sender from
    trying any reference, the real case with the right date included."""
    rotating = sender(session, 600)
    made_up = [references.generate() for _ in range(MAX_SENDER_FAILURES)]
    outcomes = [cases.check_date_of_birth(session, rotating, reference, WRONG, now=NOW).outcome
                for reference in made_up]
    assert outcomes == [Outcome.WRONG_DOB] * (MAX_SENDER_FAILURES - 1) + [Outcome.LOCKED]
    assert cases.start_lookup(session, rotating, REFERENCE, trust_phone=False,
                              now=NOW).outcome is Outcome.LOCKED
    assert cases.check_date_of_birth(session, rotating, REFERENCE, RIGHT,
                                     now=NOW).outcome is Outcome.LOCKED
    # Nobody else is stopped by it.
    assert cases.check_date_of_birth(session, sender(session, 601), REFERENCE, RIGHT,
                                     now=NOW).outcome is Outcome.OWNER


def test_the_proven_owner_passes_every_lock(session: Session) -> None:
    fail_from_many_senders(session, REFERENCE, MAX_REFERENCE_FAILURES)
    owner = people.get_or_create(session, OWNER_PHONE)
    for _ in range(3):  # the owner's own per-person lock, too
        cases.check_date_of_birth(session, owner, REFERENCE, WRONG, now=NOW)
    assert cases.start_lookup(session, owner, REFERENCE, trust_phone=False,
                              now=NOW).outcome is Outcome.LOCKED  # unproven: no way round
    proven = cases.start_lookup(session, owner, REFERENCE, trust_phone=True, now=NOW)
    assert proven.outcome is Outcome.OWNER and proven.case.reference == REFERENCE


def test_failures_go_when_the_person_is_erased(session: Session) -> None:
    fail_from_many_senders(session, REFERENCE, 2)
    session.commit()
    with session_scope() as later:
        later.delete(people.find(later, "+15550770000"))
    with session_scope() as later:
        assert later.scalar(select(func.count()).select_from(VerificationFailure)) == 1


# --- Dates of birth as keyed hashes -----------------------------------------------------------


def test_a_date_of_birth_is_stored_as_an_hmac_under_the_key(
        database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIVICLINE_DOB_KEY", "an operator dob key")
    get_settings.cache_clear()
    expected = hmac.new(b"an operator dob key", b"1970-01-02", hashlib.sha256).hexdigest()
    with session_scope() as session:
        case = cases.create_case(session, service_slug="id_cards", phone="+15550770900",
                                 date_of_birth=dt.date(1970, 1, 2))
        reference = case.reference
    path = database.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        [(stored,)] = db.execute("SELECT date_of_birth_hash FROM cases WHERE reference = ?",
                                 (reference,)).fetchall()
        columns = [row[1] for row in db.execute("PRAGMA table_info(cases)")]
    assert stored == expected and "date_of_birth" not in columns
    with session_scope() as session:  # compared as hashes
        stranger = people.get_or_create(session, "+15550770901")
        assert cases.check_date_of_birth(session, stranger, reference,
                                         [dt.date(1970, 1, 2)]).outcome is Outcome.OWNER


def test_production_refuses_to_start_without_the_dob_key(
        database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.config import ConfigError, load_settings

    for name, value in PRODUCTION_SETTINGS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CIVICLINE_SUPPRESSION_KEY", "an operator secret")
    monkeypatch.delenv("CIVICLINE_DOB_KEY", raising=False)
    with pytest.raises(ConfigError, match="CIVICLINE_DOB_KEY"):
        load_settings(env_file=Path("/nonexistent/.env"))
    monkeypatch.setenv("CIVICLINE_DOB_KEY", "an operator dob key")
    assert load_settings(env_file=Path("/nonexistent/.env")).dob_key == "an operator dob key"


def test_migration_0006_turns_stored_dates_into_hashes(
        database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A database from before 0006 holds dates in clear; after the upgrade (key set at
    migration time) it holds only their HMACs, and the right date still proves ownership."""
    path = database.removeprefix("sqlite:///")
    config = alembic_config(database)
    command.downgrade(config, "0005")
    dispose_engines()
    with sqlite3.connect(path) as db:  # what a 0005 database holds: dates in clear
        db.execute("UPDATE cases SET date_of_birth = '1985-03-12' WHERE reference = ?",
                   (REFERENCE,))
        db.execute("UPDATE cases SET date_of_birth = '1990-07-01' WHERE reference = '12345674'")
        assert db.execute("SELECT count(*) FROM cases WHERE date_of_birth IS NOT NULL"
                          ).fetchone() == (2,)
    monkeypatch.setenv("CIVICLINE_DOB_KEY", "the key at migration time")
    get_settings.cache_clear()
    command.upgrade(config, "head")
    dispose_engines()
    with sqlite3.connect(path) as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(cases)")]
        rows = dict(db.execute("SELECT reference, date_of_birth_hash FROM cases "
                               "WHERE date_of_birth_hash IS NOT NULL").fetchall())
        dump = "\n".join(db.iterdump())
    assert "date_of_birth" not in columns
    key = b"the key at migration time"
    assert rows == {
        REFERENCE: hmac.new(key, b"1985-03-12", hashlib.sha256).hexdigest(),
        "12345674": hmac.new(key, b"1990-07-01", hashlib.sha256).hexdigest(),
    }
    assert "1985-03-12" not in dump and "1990-07-01" not in dump  # nowhere in the file
    with session_scope() as session:
        stranger = people.get_or_create(session, "+15550770902")
        assert cases.check_date_of_birth(session, stranger, REFERENCE, RIGHT).outcome \
            is Outcome.OWNER


def test_migration_0006_matches_the_models(database: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from bot.store.db import get_engine
    from bot.store.models import Base

    with get_engine().connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    mine = [d for d in diff if any(name in repr(d) for name in
                                   ("verification_failures", "'cases'", "date_of_birth"))]
    assert mine == []
