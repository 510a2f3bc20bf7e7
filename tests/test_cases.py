"""SPEC §5.1: the ownership check before any case detail, the lock, and the case history."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.domain import case_help, cases, people, references
from bot.domain.cases import CaseError, Outcome
from bot.domain.dates import parse_date_of_birth
from bot.store.db import session_scope
from bot.store.models import CASE_STATUSES, Case, CaseEvent, VerificationAttempt, utcnow

OWNER_PHONE = "+15550100001"  # owns 40217382 (in_review, born 1985-03-12)
REFERENCE = "40217382"
RIGHT_DOB = [dt.date(1985, 3, 12)]
WRONG_DOB = [dt.date(1985, 3, 13)]
UNKNOWN_REFERENCE = "11111119"  # well formed (Luhn), but no such case in the demo data
LOCK = dt.timedelta(minutes=15)


def attempt_rows(session: Session) -> list[tuple[int, str, int, dt.datetime | None]]:
    return [
        (row.person_id, row.reference, row.failures, row.locked_until)
        for row in session.scalars(select(VerificationAttempt).order_by(VerificationAttempt.id))
    ]


def test_unknown_reference_fixture_is_valid_and_unknown(session: Session) -> None:
    assert references.is_valid(UNKNOWN_REFERENCE)
    assert cases.get_by_reference(session, UNKNOWN_REFERENCE) is None
    assert cases.get_by_reference(session, REFERENCE) is not None


@pytest.mark.parametrize("raw", ["40217385", "4021 7383", "4021738", "402173822", "hello", "",
                                 "٤٠٢١٧٣٨٥"])
@pytest.mark.parametrize("trust_phone", [True, False])
def test_invalid_reference_is_caught_without_a_lookup(session: Session, raw: str,
                                                      trust_phone: bool) -> None:
    person = people.get_or_create(session, OWNER_PHONE)
    before = attempt_rows(session)
    lookup = cases.start_lookup(session, person, raw, trust_phone=trust_phone)
    assert lookup.outcome is Outcome.INVALID
    assert lookup.case is None
    assert cases.check_date_of_birth(session, person, raw, RIGHT_DOB).outcome is Outcome.INVALID
    session.flush()
    assert attempt_rows(session) == before == []


@pytest.mark.parametrize("raw", ["40217382", "4021 7382", "4021-7382", "#4021.7382",
                                 "٤٠٢١٧٣٨٢"])
def test_owner_by_trusted_phone(session: Session, raw: str) -> None:
    person = people.get_or_create(session, OWNER_PHONE)
    lookup = cases.start_lookup(session, person, raw, trust_phone=True)
    assert lookup.outcome is Outcome.OWNER
    assert lookup.case is not None
    assert lookup.case.reference == REFERENCE
    assert lookup.case.status == "in_review"


@pytest.mark.parametrize(("phone", "reference"), [("+34612345678", "12345674"),
                                                  ("+33612345678", "55501233"),
                                                  ("+212612345678", "90000001")])
def test_each_demo_owner_sees_their_case(session: Session, phone: str, reference: str) -> None:
    person = people.get_or_create(session, phone)
    lookup = cases.start_lookup(session, person, reference, trust_phone=True)
    assert lookup.outcome is Outcome.OWNER
    assert lookup.case.reference == reference


def test_same_phone_untrusted_needs_the_date_of_birth(session: Session) -> None:
    person = people.get_or_create(session, OWNER_PHONE)
    lookup = cases.start_lookup(session, person, REFERENCE, trust_phone=False)
    assert lookup.outcome is Outcome.NEEDS_DOB
    assert lookup.case is None
    assert lookup.attempts_left == 3


def test_owner_of_another_case_is_a_stranger_here(session: Session) -> None:
    person = people.get_or_create(session, "+34612345678")  # owns 12345674, not 40217382
    lookup = cases.start_lookup(session, person, REFERENCE, trust_phone=True)
    assert lookup.outcome is Outcome.NEEDS_DOB
    assert lookup.case is None


def test_telegram_user_needs_a_shared_contact(session: Session) -> None:
    person = people.get_or_create(session, "tg:9001")
    person.phone = OWNER_PHONE
    session.flush()
    assert cases.start_lookup(session, person, REFERENCE, trust_phone=True).outcome \
        is Outcome.NEEDS_DOB
    person.phone_verified = True  # the channel sets this when the contact is shared
    session.flush()
    assert cases.start_lookup(session, person, REFERENCE, trust_phone=True).outcome \
        is Outcome.OWNER


@pytest.mark.parametrize("sender", ["+15559990000", "tg:31337", "rest-user-1"])
@pytest.mark.parametrize("trust_phone", [True, False])
def test_strangers_learn_nothing_about_existence(session: Session, sender: str,
                                                 trust_phone: bool) -> None:
    stranger = people.get_or_create(session, sender)
    existing = cases.start_lookup(session, stranger, REFERENCE, trust_phone=trust_phone)
    unknown = cases.start_lookup(session, stranger, UNKNOWN_REFERENCE, trust_phone=trust_phone)
    assert existing == unknown == cases.Lookup(Outcome.NEEDS_DOB, attempts_left=3)

    # Every wrong answer after that looks the same too, down to the lock.
    for expected_left in (2, 1):
        on_existing = cases.check_date_of_birth(session, stranger, REFERENCE, WRONG_DOB)
        on_unknown = cases.check_date_of_birth(session, stranger, UNKNOWN_REFERENCE, WRONG_DOB)
        assert on_existing == on_unknown == cases.Lookup(Outcome.WRONG_DOB,
                                                         attempts_left=expected_left)
    locked_existing = cases.check_date_of_birth(session, stranger, REFERENCE, WRONG_DOB)
    locked_unknown = cases.check_date_of_birth(session, stranger, UNKNOWN_REFERENCE, WRONG_DOB)
    assert locked_existing.outcome is locked_unknown.outcome is Outcome.LOCKED
    assert locked_existing.case is locked_unknown.case is None
    assert abs(locked_existing.locked_until - locked_unknown.locked_until) < dt.timedelta(
        seconds=5)


def test_a_date_of_birth_never_unlocks_an_unknown_reference(session: Session) -> None:
    stranger = people.get_or_create(session, "+15559990001")
    for dob in (RIGHT_DOB, [dt.date(1990, 7, 1)], [dt.date(1900, 1, 1)]):
        lookup = cases.check_date_of_birth(session, stranger, UNKNOWN_REFERENCE, dob)
        assert lookup.outcome is not Outcome.OWNER
        assert lookup.case is None


@pytest.mark.parametrize("typed", ["1985-03-12", "12 March 1985", "March 12, 1985",
                                   "12 de marzo de 1985", "le 12 mars 1985", "١٢ مارس ١٩٨٥",
                                   "born 1985-03-12, yes 12 March 1985"])
def test_right_date_of_birth_proves_ownership(session: Session, typed: str) -> None:
    stranger = people.get_or_create(session, "+15559990002")
    assert cases.start_lookup(session, stranger, REFERENCE, trust_phone=True).outcome \
        is Outcome.NEEDS_DOB
    lookup = cases.check_date_of_birth(session, stranger, REFERENCE, parse_date_of_birth(typed))
    assert lookup.outcome is Outcome.OWNER
    assert lookup.case.reference == REFERENCE


@pytest.mark.parametrize("typed", ["03/12/1985", "12/03/1985", "12 March 1985 13 March 1985",
                                   "1985-03-12 or 1985-03-13"])
def test_two_candidate_dates_are_not_an_attempt(session: Session, typed: str) -> None:
    """"03/12/1985" is 3 December or 12 March: not tried, not counted, the same answer
    whatever the case holds; the person is asked for one date."""
    stranger = people.get_or_create(session, "+15559990012")
    assert len(parse_date_of_birth(typed)) == 2
    for reference in (REFERENCE, UNKNOWN_REFERENCE):
        lookup = cases.check_date_of_birth(session, stranger, reference,
                                           parse_date_of_birth(typed))
        assert lookup == cases.Lookup(Outcome.ONE_DATE, attempts_left=3)
    session.flush()
    assert [row[2] for row in attempt_rows(session)] == [0, 0]  # no failure counted


def test_right_date_of_birth_resets_the_failures(session: Session) -> None:
    person = people.get_or_create(session, "+15559990003")
    assert cases.check_date_of_birth(session, person, REFERENCE, WRONG_DOB) == cases.Lookup(
        Outcome.WRONG_DOB, attempts_left=2)
    assert cases.check_date_of_birth(session, person, REFERENCE, WRONG_DOB).attempts_left == 1
    assert cases.check_date_of_birth(session, person, REFERENCE, RIGHT_DOB).outcome \
        is Outcome.OWNER
    session.flush()
    assert attempt_rows(session) == [(person.id, REFERENCE, 0, None)]
    # A fresh count: two more mistakes do not lock.
    assert cases.check_date_of_birth(session, person, REFERENCE, WRONG_DOB).attempts_left == 2
    assert cases.start_lookup(session, person, REFERENCE, trust_phone=False).attempts_left == 2


def lock(session: Session, person, reference: str = REFERENCE) -> cases.Lookup:
    outcomes = [cases.check_date_of_birth(session, person, reference, WRONG_DOB)
                for _ in range(3)]
    assert [o.outcome for o in outcomes] == [Outcome.WRONG_DOB, Outcome.WRONG_DOB,
                                             Outcome.LOCKED]
    assert [o.attempts_left for o in outcomes[:2]] == [2, 1]
    return outcomes[-1]


def test_three_wrong_dates_lock_for_fifteen_minutes(session: Session) -> None:
    person = people.get_or_create(session, "+15559990004")
    before = utcnow()
    locked = lock(session, person)
    after = utcnow()
    assert locked.case is None
    assert before + LOCK <= locked.locked_until <= after + LOCK
    session.flush()
    [(person_id, reference, failures, locked_until)] = attempt_rows(session)
    assert (person_id, reference, failures) == (person.id, REFERENCE, 3)
    assert locked_until == locked.locked_until


def test_while_locked_even_the_right_answer_is_refused(session: Session) -> None:
    person = people.get_or_create(session, OWNER_PHONE)
    locked = lock(session, person)
    right = cases.check_date_of_birth(session, person, REFERENCE, RIGHT_DOB)
    assert right.outcome is Outcome.LOCKED
    assert right.case is None
    assert right.locked_until == locked.locked_until
    # Unproven, the same person is still locked out...
    assert cases.start_lookup(session, person, "4021 7382", trust_phone=False).outcome \
        is Outcome.LOCKED
    # ...but a lock never stops the owner whose phone the channel proves (SPEC §5.1).
    proven = cases.start_lookup(session, person, REFERENCE, trust_phone=True)
    assert proven.outcome is Outcome.OWNER and proven.case.reference == REFERENCE


def test_the_lock_is_per_person_and_per_reference(session: Session) -> None:
    locked_out = people.get_or_create(session, "+15559990005")
    lock(session, locked_out)
    # Another reference, same person: not locked.
    assert cases.start_lookup(session, locked_out, "12345674", trust_phone=False).outcome \
        is Outcome.NEEDS_DOB
    assert cases.check_date_of_birth(session, locked_out, "12345674",
                                     [dt.date(1990, 7, 1)]).outcome is Outcome.OWNER
    # Same reference, another person: not locked.
    owner = people.get_or_create(session, OWNER_PHONE)
    assert cases.start_lookup(session, owner, REFERENCE, trust_phone=True).outcome \
        is Outcome.OWNER
    other = people.get_or_create(session, "tg:55")
    assert cases.start_lookup(session, other, REFERENCE, trust_phone=False).outcome \
        is Outcome.NEEDS_DOB
    assert cases.check_date_of_birth(session, other, REFERENCE, RIGHT_DOB).outcome \
        is Outcome.OWNER


def test_the_lock_survives_a_new_database_session(session: Session) -> None:
    person = people.get_or_create(session, "+15559990006")
    lock(session, person)
    session.commit()
    with session_scope() as later:
        again = people.get_or_create(later, "+15559990006")
        assert cases.check_date_of_birth(later, again, REFERENCE, RIGHT_DOB).outcome \
            is Outcome.LOCKED


def test_after_the_lock_expires_the_right_answer_works(session: Session) -> None:
    person = people.get_or_create(session, "+15559990007")
    lock(session, person)
    session.execute(
        update(VerificationAttempt)
        .where(VerificationAttempt.person_id == person.id)
        .values(locked_until=utcnow() - dt.timedelta(seconds=1))
    )
    session.commit()
    session.expire_all()
    lookup = cases.check_date_of_birth(session, person, REFERENCE, RIGHT_DOB)
    assert lookup.outcome is Outcome.OWNER
    assert lookup.case.reference == REFERENCE
    session.flush()
    assert attempt_rows(session) == [(person.id, REFERENCE, 0, None)]


def test_after_the_lock_expires_mistakes_count_from_zero(session: Session) -> None:
    person = people.get_or_create(session, "+15559990008")
    lock(session, person)
    session.execute(
        update(VerificationAttempt)
        .where(VerificationAttempt.person_id == person.id)
        .values(locked_until=utcnow() - dt.timedelta(minutes=1))
    )
    session.expire_all()
    assert cases.start_lookup(session, person, REFERENCE, trust_phone=False).outcome \
        is Outcome.NEEDS_DOB
    assert cases.check_date_of_birth(session, person, REFERENCE, WRONG_DOB) == cases.Lookup(
        Outcome.WRONG_DOB, attempts_left=2)


# --- Creating cases and changing their status -------------------------------------------------


def test_create_case(session: Session) -> None:
    person = people.get_or_create(session, "+15550100009")
    case = cases.create_case(session, service_slug="housing_support", phone="+15550100009",
                             date_of_birth=dt.date(1970, 1, 2), language="fr",
                             detail="Need help with rent", person=person, actor="bot")
    assert references.is_valid(case.reference)
    assert case.status == "received"
    assert case.service.slug == "housing_support"
    assert case.person_id == person.id
    assert [(e.from_status, e.to_status, e.actor) for e in case.events] == [
        (None, "received", "bot")]
    session.commit()
    with session_scope() as later:
        stored = cases.get_by_reference(later, case.reference)
        assert stored is not None
        assert stored.language == "fr"
        assert stored.date_of_birth_hash == cases.dob_hash(dt.date(1970, 1, 2))
        assert "1970" not in stored.date_of_birth_hash  # a keyed hash, not the date
        assert [(e.from_status, e.to_status) for e in stored.events] == [(None, "received")]
        # Its owner is recognised by phone like any other.
        owner = people.get_or_create(later, "+15550100009")
        assert cases.start_lookup(later, owner, case.reference, trust_phone=True).outcome \
            is Outcome.OWNER


def test_created_references_are_unique(session: Session) -> None:
    existing = set(session.scalars(select(Case.reference)))
    created = [cases.create_case(session, service_slug="buses").reference for _ in range(60)]
    assert len(set(created)) == 60
    assert not existing & set(created)
    assert all(references.is_valid(ref) for ref in created)
    assert session.scalar(select(func.count(Case.id))) == len(existing) + 60


@pytest.mark.parametrize("status", CASE_STATUSES)
def test_create_case_with_each_status(session: Session, status: str) -> None:
    case = cases.create_case(session, service_slug="id_cards", status=status)
    assert case.status == status
    assert case.events[0].to_status == status


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"service_slug": "id_cards", "status": "lost"}, "status must be one of"),
    ({"service_slug": "id_cards", "status": "Approved"}, "status must be one of"),
    ({"service_slug": "no_such_service"}, "unknown service"),
])
def test_create_case_rejects_bad_input(session: Session, kwargs: dict, message: str) -> None:
    count = session.scalar(select(func.count(Case.id)))
    with pytest.raises(CaseError, match=message):
        cases.create_case(session, **kwargs)
    assert session.scalar(select(func.count(Case.id))) == count


def test_change_status_records_from_and_to(session: Session) -> None:
    case = cases.get_by_reference(session, REFERENCE)
    before = case.updated_at
    event = cases.change_status(session, case, "approved", "All documents checked", "agent:ana")
    assert event is not None
    assert (event.from_status, event.to_status, event.note, event.actor) == (
        "in_review", "approved", "All documents checked", "agent:ana")
    assert case.status == "approved"
    assert case.updated_at >= before
    second = cases.change_status(session, case, "completed", None, "system")
    assert (second.from_status, second.to_status) == ("approved", "completed")
    session.commit()
    with session_scope() as later:
        stored = cases.get_by_reference(later, REFERENCE)
        assert stored.status == "completed"
        assert [(e.from_status, e.to_status, e.actor) for e in stored.events] == [
            ("in_review", "approved", "agent:ana"), ("approved", "completed", "system")]


def test_unchanged_status_without_note_records_nothing(session: Session) -> None:
    case = cases.get_by_reference(session, REFERENCE)
    assert cases.change_status(session, case, "in_review", None, "agent") is None
    assert cases.change_status(session, case, "in_review", "", "agent") is None
    assert case.events == []
    noted = cases.change_status(session, case, "in_review", "Called the landlord", "agent")
    assert (noted.from_status, noted.to_status, noted.note) == (
        "in_review", "in_review", "Called the landlord")


@pytest.mark.parametrize("status", ["done", "", "IN_REVIEW", "pending", None])
def test_change_status_rejects_a_bad_status(session: Session, status) -> None:
    case = cases.get_by_reference(session, REFERENCE)
    with pytest.raises(CaseError):
        cases.change_status(session, case, status, "note", "agent")
    assert case.status == "in_review"
    assert case.events == []
    assert session.scalar(select(func.count(CaseEvent.id))) == 0


def test_to_json_has_the_history(session: Session) -> None:
    case = cases.get_by_reference(session, "12345674")
    cases.change_status(session, case, "completed", "Collected", "agent")
    data = cases.to_json(case)
    assert data["reference"] == "12345674"
    assert data["service"] == "id_cards"
    assert data["status"] == "completed"
    assert data["date_of_birth_on_file"] is True and "1990" not in str(data)  # never the date
    assert [(h["from"], h["to"], h["note"]) for h in data["history"]] == [
        ("approved", "completed", "Collected")]


# --- migration 0010: the detail in a JSON column, the old text carried over ---------------------

def test_migration_0010_moves_the_detail_to_json_and_back(database: str) -> None:
    """Rows written as text before 0010 (a plain string in the case's language, a JSON object
    in a string, blank) come out as {language: text}; downgrading gives the text back. Runs on
    SQLite here and on PostgreSQL in tests/test_postgres.py."""
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import inspect, text

    from bot.store.db import get_engine
    from bot.store.migrate import alembic_config
    from bot.store.models import Base

    with get_engine().connect() as connection:
        column = next(c for c in inspect(connection).get_columns("cases")
                      if c["name"] == "detail")
        assert column["type"]._type_affinity.__name__ == "JSON", column
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [d for d in diff if "cases" in repr(d)] == []
    config = alembic_config(database)
    command.downgrade(config, "0009")
    old = {"40217382": "Need help with rent",  # en
           "55501233": '{"en": "proof of address", "fr": "justificatif de domicile"}',
           "12345674": "   ",
           "90000001": "{not json"}
    with get_engine().begin() as connection:
        for reference, value in old.items():
            connection.execute(text("UPDATE cases SET detail = :d WHERE reference = :r"),
                               {"d": value, "r": reference})
    command.upgrade(config, "head")
    with session_scope() as session:
        found = {c.reference: (c.language, c.detail) for c in session.scalars(
            select(Case).where(Case.reference.in_(old)))}
    assert found == {
        "40217382": ("en", {"en": "Need help with rent"}),
        "55501233": ("fr", {"en": "proof of address", "fr": "justificatif de domicile"}),
        "12345674": ("es", None),
        "90000001": ("ar", {"ar": "{not json"}),
    }
    with session_scope() as session:  # what the status check reads, after the migration
        case = cases.get_by_reference(session, "55501233")
        case.status = "needs_information"
        assert case_help.missing_papers(case, "fr") == "justificatif de domicile"
        session.rollback()
    command.downgrade(config, "0009")
    with get_engine().connect() as connection:
        back = dict(connection.execute(text(
            "SELECT reference, detail FROM cases WHERE reference IN "
            "('40217382', '55501233', '12345674', '90000001')")).all())
    assert back == {"40217382": "Need help with rent",
                    "55501233": '{"en": "proof of address", "fr": "justificatif de domicile"}',
                    "12345674": None, "90000001": "{not json"}
    command.upgrade(config, "head")
