"""Retention and erasure (SPEC §8): `python -m bot purge` and `python -m bot erase`.

Rasa's conversations are written by Rasa's own SQL tracker store (the one the server uses,
server/tracker_store.py), into the test database, so the `events` table is exactly Rasa's.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, func, inspect, select, text
from sqlalchemy.orm import Session

from bot.callcentre import handoffs
from bot.cli import main as cli
from bot.config import get_settings
from bot.domain import cases, drafts, people, retention, suppression
from bot.domain.forms import REPORT_FORM
from bot.messaging import inbound
from bot.messaging.sms.keywords import set_sms_opt_out
from bot.messaging.telegram.callbacks import callback_key, callback_payload
from bot.store.db import get_engine, session_scope
from bot.store.migrate import alembic_config
from bot.store.models import (
    AuditEntry,
    Base,
    Booking,
    Case,
    CaseEvent,
    ChannelState,
    ConversationEvent,
    FormDraft,
    Handoff,
    HandoffNote,
    HeldMessage,
    InboundMessage,
    Office,
    OptOutSuppression,
    OutboxMessage,
    Person,
    ProblemReport,
    TelegramCallback,
    VerificationAttempt,
    VerificationFailure,
    utcnow,
)
from tests.support.environment import PRODUCTION_SETTINGS

# Rasa 3.6's tracker store warns about SQLAlchemy 2.0 on import; it pins SQLAlchemy 1.4.
pytestmark = pytest.mark.filterwarnings("ignore:Deprecated API features detected")

DAY = 24 * 3600
MONDAY_NOON = dt.datetime(2030, 6, 3, 12, 0)  # staffed hours: the hand-off pauses the bot


# --- helpers -----------------------------------------------------------------------------------


def save_conversation(sender: str, *ages_in_days: float) -> None:
    """A Rasa conversation of ``sender``, one user message and bot reply per age, stored by
    Rasa's own tracker store (which creates its `events` table on first use)."""
    from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from server.tracker_store import CivicLineTrackerStore

    now = time.time()
    events: list[Any] = []
    for age in ages_in_days:
        at = now - age * DAY
        events += [ActionExecuted("action_listen", timestamp=at),
                   UserUttered("hello", timestamp=at + 1),
                   BotUttered("Hi! How can I help?", timestamp=at + 2)]
    store = CivicLineTrackerStore()
    try:
        asyncio.run(store.save(DialogueStateTracker.from_events(sender, events)))
    finally:
        store.engine.dispose()


def event_senders() -> dict[str, int]:
    with get_engine().connect() as connection:
        rows = connection.execute(text(
            "SELECT sender_id, count(*) FROM events GROUP BY sender_id")).all()
    return dict(rows)


def count(session: Session, model: Any, *where: Any) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def audit_entries(action: str) -> list[AuditEntry]:
    with session_scope() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)
                                    .order_by(AuditEntry.id)))


def fill(session: Session, phone: str, telegram_id: str | None = None) -> Person:
    """A person with something in every table that can hold their data."""
    person = people.get_or_create(session, phone)
    if telegram_id:
        person = people.link_telegram_contact(
            session, people.get_or_create(session, f"tg:{telegram_id}"), phone)
    case = cases.create_case(session, service_slug="id_cards", phone=phone,
                             date_of_birth=dt.date(1980, 1, 2), person=person)
    cases.change_status(session, case, "in_review", None, "api")  # a notification row
    session.add(ProblemReport(case_id=case.id, kind="pothole", place="Main St 1",
                              contact="this_channel", contact_phone=phone, media=[]))
    booked = cases.create_case(session, service_slug="id_cards", person=person)
    office = session.scalar(select(Office).where(Office.slug == "city_hall"))
    session.add(Booking(case_id=booked.id, person_id=person.id, office_id=office.id,
                        service_id=booked.service_id, desk=1,
                        starts_at=dt.datetime(2030, 1, 7, 9, 0) + dt.timedelta(
                            minutes=int(phone[-3:]))))
    by_phone_only = cases.create_case(session, service_slug="id_cards", phone=phone)
    assert by_phone_only.person_id is None
    session.add(VerificationAttempt(person_id=person.id, reference="40217382", failures=1))
    session.add(VerificationFailure(person_id=person.id, reference="40217382"))
    session.add(HeldMessage(recipient=phone, country="US", reason="budget", body="Hello"))
    session.add(ConversationEvent(event_key=f"ev-{phone}", sender_id=phone, type_name="user",
                                  name="greet", timestamp=1_700_000_000.0))
    drafts.save(session, person, REPORT_FORM, {"problem_kind": "graffiti"}, "sms")
    inbound.remember(session, person, "sms", [("A", "/a")])
    session.add(InboundMessage(channel="sms", external_id=f"SM-{phone}", person_id=person.id))
    handoff = handoffs.request(session, phone, channel="sms", language="en",
                               local_now=MONDAY_NOON).handoff
    handoffs.add_note(session, handoff, "agent1", f"Call back on {phone}")
    session.flush()
    return person


# A column holds a person when it is a key to `people`, or names a phone or a sender id (the
# senders in these tests are phones). Found by walking the models, so a new table or column
# that holds a person is checked by the erasure tests without being listed here.
PHONE_OR_SENDER = re.compile(r"(^|_)(phone|recipient|sender_id)$")
NOT_A_PERSON = {("offices", "phone")}  # an office's public number


def personal_columns() -> list[Column]:
    people_id = Person.__table__.c.id
    found = [people_id]
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if (table.name, column.name) in NOT_A_PERSON:
                continue
            if any(key.column is people_id for key in column.foreign_keys) \
                    or PHONE_OR_SENDER.search(column.name):
                found.append(column)
    return found


def held_about(session: Session, person_id: int, phone: str) -> dict[str, int]:
    """Rows that hold the person (their id, phone or sender id), per column of every model."""
    session.flush()  # the counts are Core queries: no autoflush
    held = {}
    for column in personal_columns():
        value = person_id if column.foreign_keys or column.primary_key else phone
        held[f"{column.table.name}.{column.name}"] = session.scalar(
            select(func.count()).select_from(column.table).where(column == value))
    return held


# --- purge -------------------------------------------------------------------------------------


def test_purge_deletes_old_transcripts_and_keeps_records_open_hand_offs_and_recent_ones(
        database: str, capsys: pytest.CaptureFixture) -> None:
    old = utcnow() - dt.timedelta(days=100)
    recent = utcnow() - dt.timedelta(days=5)
    with session_scope() as session:
        quiet = people.get_or_create(session, "+15550700001")
        talking = people.get_or_create(session, "+15550700002")
        waiting = handoffs.request(session, "+15550700003", channel="sms", language="en",
                                   local_now=MONDAY_NOON).handoff
        waiting.created_at = old
        closed_old = handoffs.request(session, "+15550700004", channel="sms", language="en",
                                      local_now=MONDAY_NOON).handoff
        handoffs.add_note(session, closed_old, "agent1", "old note")
        handoffs.close(session, closed_old, "agent1", "resolved")
        closed_old.closed_at = old
        closed_new = handoffs.request(session, "+15550700005", channel="sms", language="en",
                                      local_now=MONDAY_NOON).handoff
        handoffs.add_note(session, closed_new, "agent1", "new note")
        handoffs.close(session, closed_new, "agent1", "resolved")
        closed_new.closed_at = recent
        for person, when in ((quiet, old), (talking, recent)):
            session.add(InboundMessage(channel="sms", external_id=f"SM-{person.id}",
                                       person_id=person.id, received_at=when))
            drafts.save(session, person, REPORT_FORM, {"problem_kind": "graffiti"})
            drafts.load(session, person, REPORT_FORM).updated_at = when
            inbound.remember(session, person, "sms", [("A", "/a")])
            inbound.state(session, person, "sms").updated_at = when
            session.add(TelegramCallback(digest=f"{person.id:064d}", payload="/x",
                                         created_at=when))
        old_case = cases.create_case(session, service_slug="id_cards", person=quiet,
                                     phone="+15550700001")
        old_case.created_at = old_case.updated_at = old
        cases.change_status(session, old_case, "approved", None, "api")
        for row in session.scalars(select(CaseEvent).where(CaseEvent.case_id == old_case.id)):
            row.created_at = old
        ids = {"quiet": quiet.id, "talking": talking.id, "waiting": waiting.id,
               "closed_old": closed_old.id, "closed_new": closed_new.id,
               "case": old_case.id}
    with session_scope() as session:
        audit_before = count(session, AuditEntry)
    save_conversation("+15550700001", 200, 100)  # all old: goes
    save_conversation("+15550700002", 200, 5)  # last message recent: stays whole
    save_conversation("+15550700003", 100)  # old, but its hand-off is still open: stays
    save_conversation("tg:9001", 95)  # goes

    assert cli.main(["purge", "--older-than", "90"]) == 0

    output = capsys.readouterr().out
    assert "older than 90 days" in output
    assert event_senders() == {"+15550700002": 6, "+15550700003": 3}
    with session_scope() as session:
        remaining = set(session.scalars(select(Handoff.id)))
        assert ids["waiting"] in remaining and ids["closed_new"] in remaining
        assert ids["closed_old"] not in remaining
        assert count(session, HandoffNote, HandoffNote.handoff_id == ids["closed_old"]) == 0
        assert count(session, HandoffNote, HandoffNote.handoff_id == ids["closed_new"]) == 1
        for model in (InboundMessage, FormDraft, ChannelState):
            assert count(session, model, model.person_id == ids["quiet"]) == 0, model
            assert count(session, model, model.person_id == ids["talking"]) == 1, model
        assert set(session.scalars(select(TelegramCallback.digest))) == {
            f"{ids['talking']:064d}"}
        # records: the case, its history and notification, the people, the audit log
        case = session.get(Case, ids["case"])
        assert case is not None and case.status == "approved"
        assert count(session, CaseEvent, CaseEvent.case_id == ids["case"]) == 2
        assert count(session, OutboxMessage, OutboxMessage.case_id == ids["case"]) == 1
        assert session.get(Person, ids["quiet"]) is not None
        assert count(session, AuditEntry) == audit_before + 1  # the log is kept, and grows
    [entry] = audit_entries("retention.purge")
    assert entry.actor == "cli" and entry.detail["older_than_days"] == 90
    assert entry.detail["dry_run"] is False
    assert entry.detail["conversations"] == 2 and entry.detail["conversation_events"] == 9
    assert entry.detail["handoffs"] == 1 and entry.detail["form_drafts"] == 1


def test_purge_dry_run_counts_and_deletes_nothing(database: str,
                                                  capsys: pytest.CaptureFixture) -> None:
    with session_scope() as session:
        person = people.get_or_create(session, "+15550700011")
        session.add(InboundMessage(channel="sms", external_id="SM-dry", person_id=person.id,
                                   received_at=utcnow() - dt.timedelta(days=40)))
    save_conversation("+15550700011", 40)

    assert cli.main(["purge", "--older-than", "30d", "--dry-run"]) == 0

    output = capsys.readouterr().out
    assert "dry run" in output and "would be deleted" in output
    assert event_senders() == {"+15550700011": 3}
    with session_scope() as session:
        assert count(session, InboundMessage, InboundMessage.external_id == "SM-dry") == 1
    [entry] = audit_entries("retention.purge")
    assert entry.detail["dry_run"] is True
    assert entry.detail["conversations"] == 1 and entry.detail["inbound_messages"] == 1


def test_purge_before_rasa_ever_ran(session: Session) -> None:
    """A fresh database has no `events` table yet: purge still works, and does not make it."""
    assert not inspect(session.connection()).has_table("events")
    counts = retention.purge(session, dt.timedelta(days=1), actor="test")
    assert counts["conversations"] == 0 and counts["conversation events"] == 0
    assert not inspect(session.connection()).has_table("events")


@pytest.mark.parametrize("age", ["0", "-3", "ninety", "90h"])
def test_purge_needs_a_positive_number_of_days(database: str, age: str,
                                               capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["purge", "--older-than", age])
    assert exit_info.value.code == 2
    assert "number of days" in capsys.readouterr().err


# --- erase -------------------------------------------------------------------------------------


def test_erase_removes_everything_about_one_person_and_nothing_of_another(
        database: str, capsys: pytest.CaptureFixture) -> None:
    with session_scope() as session:
        erased = fill(session, "+15550700021", telegram_id="7021")
        other = fill(session, "+15550700022")
        # the other person's report gives the erased person's phone as contact
        other_report = session.scalar(select(ProblemReport).join(Case).where(
            Case.person_id == other.id))
        other_report.contact_phone = "+15550700021"
        ids = (erased.id, other.id)
        before = held_about(session, other.id, "+15550700022")
    save_conversation("+15550700021", 3)
    save_conversation("tg:7021", 2)
    save_conversation("+15550700022", 1)

    assert cli.main(["erase", "+15550700021", "--yes"]) == 0

    output = capsys.readouterr().out
    assert "+1•••••••021" in output and "+15550700021" not in output
    assert event_senders() == {"+15550700022": 3}
    with session_scope() as session:
        gone = held_about(session, ids[0], "+15550700021")
        assert gone == dict.fromkeys(gone, 0)
        assert people.find(session, "tg:7021") is None
        assert count(session, HandoffNote, HandoffNote.text.contains("0700021")) == 0
        assert count(session, CaseEvent, CaseEvent.case_id.not_in(select(Case.id))) == 0
        assert held_about(session, ids[1], "+15550700022") == before
        assert count(session, ProblemReport) == 1  # the other person's, contact cleared
        assert count(session, OptOutSuppression) == 0
    [entry] = audit_entries("retention.erase")
    assert entry.actor == "cli" and entry.target == "+1•••••••021"
    assert entry.detail["outcome"] == "erased" and entry.detail["people"] == 1
    assert entry.detail["cases"] == 3 and entry.detail["conversations"] == 2
    assert entry.detail["report_contact_phones"] == 1
    assert entry.detail["opt_out_suppression_kept"] is False
    assert "0700021" not in json.dumps(entry.detail) + entry.target


def test_erase_empties_every_column_of_the_models_that_holds_a_person(database: str) -> None:
    """Every column the models have for a person (see :func:`personal_columns`) is filled by
    :func:`fill` and emptied by the erasure: a new one fails here until both know it."""
    assert {"people.id", "cases.person_id", "cases.phone", "handoffs.sender_id",
            "problem_reports.contact_phone", "held_messages.recipient",
            "verification_failures.person_id"} <= {
        f"{c.table.name}.{c.name}" for c in personal_columns()}
    with session_scope() as session:
        person_id = fill(session, "+15550700025", telegram_id="7025").id
        before = held_about(session, person_id, "+15550700025")
    assert [name for name, rows in before.items() if not rows] == [], \
        "fill() leaves these empty: give them a row (and make retention.erase delete it)"
    with session_scope() as session:
        retention.erase(session, "+15550700025", actor="test")
    with session_scope() as session:
        after = held_about(session, person_id, "+15550700025")
    assert {name: rows for name, rows in after.items() if rows} == {}, \
        "retention.erase leaves these rows"


def test_an_erased_opted_out_phone_comes_back_opted_out(database: str) -> None:
    with session_scope() as session:
        person = people.get_or_create(session, "+15550700031")
        set_sms_opt_out(person, True)
    assert cli.main(["erase", "+15550700031", "--yes"]) == 0
    with session_scope() as session:
        assert people.find(session, "+15550700031") is None
        [row] = session.scalars(select(OptOutSuppression))
        assert len(row.phone_hash) == 64 and "0700031" not in row.phone_hash
        assert row.phone_hash not in json.dumps([e.detail for e in session.scalars(
            select(AuditEntry))])
    [entry] = audit_entries("retention.erase")
    assert entry.detail["opt_out_suppression_kept"] is True

    with session_scope() as session:
        again = people.get_or_create(session, "+1 555 070 0031")
        assert again.sms_opted_out and again.sms_opted_out_at is not None
        assert count(session, OptOutSuppression) == 0  # the person's own flag holds it now
        assert not people.get_or_create(session, "+15550700032").sms_opted_out
        assert not people.get_or_create(session, "tg:70031").sms_opted_out


def test_an_erased_phone_that_opted_back_in_leaves_no_suppression(database: str) -> None:
    """STOP, erased, wrote again (still opted out), START, erased again: nothing is kept."""
    with session_scope() as session:
        set_sms_opt_out(people.get_or_create(session, "+15550700041"), True)
    assert cli.main(["erase", "+15550700041", "--yes"]) == 0
    with session_scope() as session:
        assert suppression.is_suppressed(session, "+15550700041")
        session.add(OptOutSuppression(phone_hash=suppression.phone_hash("+15550700041")
                                      [::-1]))  # someone else's row stays
    with session_scope() as session:
        person = people.get_or_create(session, "+15550700041")
        assert person.sms_opted_out
        set_sms_opt_out(person, False)
        suppression.add(session, "+15550700041")  # even a stray row for the number goes
    assert cli.main(["erase", "+15550700041", "--yes"]) == 0
    with session_scope() as session:
        assert not suppression.is_suppressed(session, "+15550700041")
        assert count(session, OptOutSuppression) == 1
        assert not people.get_or_create(session, "+15550700041").sms_opted_out


def test_erase_by_telegram_id_external_id_or_unformatted_phone(database: str) -> None:
    with session_scope() as session:
        people.get_or_create(session, "tg:7051")
        people.get_or_create(session, "rest-user-7052")
        people.get_or_create(session, "+15550700053")
    save_conversation("tg:7051", 1)
    save_conversation("rest-user-7052", 1)
    save_conversation("+15550700053", 1)
    for sender in ("tg:7051", "rest-user-7052", "(555) 070-0053"):
        assert cli.main(["erase", sender, "--yes"]) == 0, sender
    assert event_senders() == {}
    with session_scope() as session:
        assert count(session, Person, Person.telegram_user_id == "7051") == 0
        assert count(session, Person, Person.external_id == "rest-user-7052") == 0
        assert count(session, Person, Person.phone == "+15550700053") == 0
    assert [e.target for e in audit_entries("retention.erase")] == [
        "tg:••••", "re•••••••••052", "+1•••••••053"]


def test_erase_without_a_person_still_erases_what_is_filed_under_the_phone(
        database: str) -> None:
    """A case entered by staff for a phone that never wrote: it is theirs all the same."""
    with session_scope() as session:
        cases.create_case(session, service_slug="id_cards", phone="+15550700061")
    assert cli.main(["erase", "+15550700061", "--yes"]) == 0
    with session_scope() as session:
        assert count(session, Case, Case.phone == "+15550700061") == 0


def test_erase_of_an_unknown_sender_is_an_error_and_deletes_nothing(
        database: str, capsys: pytest.CaptureFixture) -> None:
    with session_scope() as session:
        people.get_or_create(session, "+15550700071")
        total = count(session, Person)
    assert cli.main(["erase", "+15550700079", "--yes"]) == 1
    assert cli.main(["erase", "tg:404"]) == 1
    err = capsys.readouterr().err
    assert "nobody is known as +1•••••••079" in err and "nothing deleted" in err
    assert "+15550700079" not in err
    with session_scope() as session:
        assert count(session, Person) == total
    assert [e.detail["outcome"] for e in audit_entries("retention.erase")] == [
        "unknown sender", "unknown sender"]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_erase_asks_first_unless_yes(database: str, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture) -> None:
    with session_scope() as session:
        fill(session, "+15550700081")
    save_conversation("+15550700081", 1)

    monkeypatch.setattr("sys.stdin", io.StringIO("yes\n"))  # not a terminal: refused
    assert cli.main(["erase", "+15550700081"]) == 1
    monkeypatch.setattr("sys.stdin", Terminal("n\n"))
    assert cli.main(["erase", "+15550700081"]) == 1
    output = capsys.readouterr().out
    assert "would be deleted" in output and "Erase everything held about +1•••••••081" in output
    with session_scope() as session:
        assert people.find(session, "+15550700081") is not None
        assert count(session, Case, Case.phone == "+15550700081") == 2
    assert event_senders() == {"+15550700081": 3}

    monkeypatch.setattr("sys.stdin", Terminal("y\n"))
    assert cli.main(["erase", "+15550700081"]) == 0
    with session_scope() as session:
        assert people.find(session, "+15550700081") is None
    assert event_senders() == {}
    assert [e.detail["outcome"] for e in audit_entries("retention.erase")] == [
        "not confirmed", "not confirmed", "erased"]


# --- the hash and the schema -------------------------------------------------------------------


def test_the_suppression_hash_is_keyed_and_older_unkeyed_rows_still_match(
        session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    def use_key(key: str) -> None:
        monkeypatch.setenv(suppression.KEY_NAME, key)
        get_settings.cache_clear()

    use_key("")
    unkeyed = suppression.phone_hash("+15550700091")
    assert suppression.add(session, "+15550700091")
    use_key("a long operator secret")
    keyed = suppression.phone_hash("+15550700091")
    assert keyed != unkeyed and len(keyed) == 64
    assert suppression.is_suppressed(session, "+15550700091")  # made before the key was set
    assert not suppression.add(session, "+15550700091")
    assert suppression.add(session, "+15550700092")
    assert set(session.scalars(select(OptOutSuppression.phone_hash))) == {
        unkeyed, suppression.phone_hash("+15550700092")}
    use_key("another secret")
    assert not suppression.is_suppressed(session, "+15550700092")  # why the key must not change


def test_migration_0005_matches_the_model_and_downgrades(database: str) -> None:
    with get_engine().connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [d for d in diff if "opt_out_suppressions" in repr(d)] == []
    config = alembic_config(database)
    command.downgrade(config, "0004")
    with get_engine().connect() as connection:
        assert not inspect(connection).has_table("opt_out_suppressions")
        assert inspect(connection).has_table("form_drafts")
    command.upgrade(config, "head")
    with get_engine().connect() as connection:
        assert inspect(connection).has_table("opt_out_suppressions")
        head = ScriptDirectory.from_config(config).get_current_head()  # later ones follow
        assert MigrationContext.configure(connection).get_current_revision() == head


def test_production_refuses_to_start_without_the_suppression_key(
        database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.config import ConfigError, load_settings

    for name, value in PRODUCTION_SETTINGS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv(suppression.KEY_NAME, raising=False)
    with pytest.raises(ConfigError, match="CIVICLINE_SUPPRESSION_KEY"):
        load_settings(env_file=Path("/nonexistent/.env"))
    monkeypatch.setenv(suppression.KEY_NAME, "an operator secret")
    monkeypatch.setenv("CIVICLINE_DOB_KEY", "an operator dob key")  # also required (0006)
    assert load_settings(env_file=Path("/nonexistent/.env")).is_production


def test_purge_keeps_a_button_key_handed_out_again_recently(database: str) -> None:
    payload = '/book_appointment{"appointment_service": "id_cards", "appointment_office": "x"}'
    with session_scope() as session:
        key = callback_key(session, payload)
        session.get(TelegramCallback, key).created_at = utcnow() - dt.timedelta(days=200)
    with session_scope() as session:
        assert callback_key(session, payload) == key  # a new message shows the button
    with session_scope() as session:
        retention.purge(session, dt.timedelta(days=90), actor="test")
    with session_scope() as session:
        assert callback_payload(session, str(key)) == payload
