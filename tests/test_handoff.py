"""Hand-off domain logic against a real seeded database: distress words, staffed hours, the
queue, state changes, the transcript, staff accounts and sessions, the command line, and the
0003 migration matching the models."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import pytest
import yaml
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.callcentre import handoffs, staff, staffed_hours, transcript
from bot.cli import main as cli
from bot.domain import distress
from bot.store.db import get_engine, session_scope
from bot.store.models import (
    AuditEntry,
    Base,
    CannedReply,
    Handoff,
    StaffSession,
    StaffUser,
    utcnow,
)

ROOT = Path(__file__).resolve().parent.parent
MONDAY_NOON = dt.datetime(2030, 1, 7, 12, 0)  # a Monday
SUNDAY_NOON = dt.datetime(2030, 1, 6, 12, 0)
MY_TABLES = {"staff_users", "staff_sessions", "staff_login_failures", "handoffs",
             "handoff_notes", "canned_replies", "staffed_hours", "staff_holidays"}


# --- distress words ----------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "kind"), [
    ("I want to kill myself", "self_harm"),
    ("i feel suicidal", "self_harm"),
    ("quiero suicidarme", "self_harm"),
    ("Me quiero morir", "self_harm"),
    ("je veux me suicider", "self_harm"),
    ("j'ai envie de mourir", "self_harm"),
    ("أريد أن أموت", "self_harm"),
    ("أفكر في الانتحار", "self_harm"),
    ("my partner hits me", "violence"),
    ("mi esposo me pega", "violence"),
    ("il me frappe tous les jours", "violence"),
    ("زوجي يضربني", "violence"),
    ("we are being evicted today", "housing"),
    ("me desalojan hoy", "housing"),
    ("je suis à la rue ce soir", "housing"),
    ("أنام في الشارع", "housing"),
    ("we have nothing to eat", "hunger"),
    ("no tenemos comida", "hunger"),
    ("j'ai faim", "hunger"),
    ("ليس عندي طعام", "hunger"),
    ("it is an EMERGENCY", "emergency"),
    ("I can't breathe", "emergency"),
    ("es una emergencia", "emergency"),
    ("c'est une urgence", "emergency"),
    ("حالة طارئة", "emergency"),
])
def test_distress_words_in_every_language(text: str, kind: str) -> None:
    assert distress.category(text) == kind
    assert distress.is_distress(text)


@pytest.mark.parametrize("text", [
    "how do I appeal an eviction notice?", "the office at the rue de la Paix", "hola",
    "is the bin collection running?", "I want to talk to a person", "4021 7382",
    "dangerous dog in the park", "violet", "", "l'ambulancier", "the emergent plan",
])
def test_everyday_messages_are_not_distress(text: str) -> None:
    assert distress.category(text) is None


def test_no_training_example_reads_as_distress() -> None:
    """The NLU data of every language is everyday talk: none of it may trip the detector."""
    hits = []
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
            for line in str(block.get("examples", "")).splitlines():
                text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", line.lstrip("- "))
                if distress.is_distress(text):
                    hits.append((path.name, block.get("intent"), text))
    assert hits == []


def test_emergency_numbers_by_region() -> None:
    assert distress.emergency_numbers("US") == ("911", "988")
    assert distress.emergency_numbers("fr") == ("112", "3114")
    assert distress.emergency_numbers("ZZ") == distress.DEFAULT_NUMBERS


# --- staffed hours -----------------------------------------------------------------------------


def test_default_staffed_hours(session: Session) -> None:
    assert staffed_hours.weekly(session)[0] == ("08:00", "18:00")
    assert staffed_hours.weekly(session)[6] == (None, None)
    assert staffed_hours.is_staffed(session, MONDAY_NOON)
    assert not staffed_hours.is_staffed(session, MONDAY_NOON.replace(hour=7, minute=59))
    assert not staffed_hours.is_staffed(session, MONDAY_NOON.replace(hour=18))
    assert not staffed_hours.is_staffed(session, SUNDAY_NOON)
    assert staffed_hours.next_opening(session, SUNDAY_NOON) == dt.datetime(2030, 1, 7, 8, 0)
    assert staffed_hours.next_opening(session, MONDAY_NOON) == MONDAY_NOON


def test_holidays_close_the_day(session: Session) -> None:
    staffed_hours.add_holiday(session, MONDAY_NOON.date(), "New Year break", actor="test")
    assert not staffed_hours.is_staffed(session, MONDAY_NOON)
    assert staffed_hours.next_opening(session, SUNDAY_NOON) == dt.datetime(2030, 1, 8, 8, 0)
    with pytest.raises(staffed_hours.HoursError):
        staffed_hours.add_holiday(session, MONDAY_NOON.date(), actor="test")
    holiday = staffed_hours.holidays(session)[0]
    assert staffed_hours.remove_holiday(session, holiday.id, actor="test")
    assert staffed_hours.is_staffed(session, MONDAY_NOON)


def test_round_the_clock_and_closed_days(session: Session) -> None:
    for day in range(7):
        staffed_hours.set_day(session, day, "00:00", "24:00")
    assert staffed_hours.is_staffed(session, SUNDAY_NOON.replace(hour=23, minute=59))
    for day in range(7):
        staffed_hours.set_day(session, day, "", "")
    assert not staffed_hours.is_staffed(session, MONDAY_NOON)
    assert staffed_hours.next_opening(session, MONDAY_NOON) is None


@pytest.mark.parametrize(("opens", "closes"), [
    ("8:00", "18:00"), ("08:00", "25:00"), ("18:00", "08:00"), ("08:00", ""), ("24:00", "24:00"),
    ("noon", "18:00"),
])
def test_bad_staffed_hours_are_refused(session: Session, opens: str, closes: str) -> None:
    with pytest.raises(staffed_hours.HoursError):
        staffed_hours.set_day(session, 0, opens, closes)
    with pytest.raises(staffed_hours.HoursError):
        staffed_hours.set_day(session, 7, "08:00", "09:00")


# --- hand-offs ---------------------------------------------------------------------------------


def open_handoff(session: Session, sender: str, **kwargs) -> handoffs.Outcome:
    values = {"channel": "sms", "language": "en", "local_now": MONDAY_NOON, **kwargs}
    return handoffs.request(session, sender, **values)


def test_a_request_in_staffed_hours_pauses_and_queues(session: Session) -> None:
    outcome = open_handoff(session, "+15550100001")
    handoff = outcome.handoff
    assert outcome.created and outcome.staffed and outcome.position == 1
    assert outcome.wait_minutes == handoffs.DEFAULT_HANDLING_MINUTES
    assert (handoff.status, handoff.paused, handoff.contact_later) == ("waiting", True, False)
    assert handoff.person is not None and handoff.person.phone == "+15550100001"
    again = open_handoff(session, "+15550100001", language="es")
    assert not again.created and again.handoff.id == handoff.id
    assert again.handoff.language == "es"


def test_outside_staffed_hours_it_is_a_call_back(session: Session) -> None:
    outcome = open_handoff(session, "+15550100002", local_now=SUNDAY_NOON)
    assert not outcome.staffed and outcome.back_at == dt.datetime(2030, 1, 7, 8, 0)
    assert (outcome.handoff.paused, outcome.handoff.contact_later) == (False, True)
    # Asked again once staff are on duty: now the bot goes quiet.
    later = open_handoff(session, "+15550100002")
    assert later.handoff.paused and not later.handoff.contact_later


def test_a_voice_caller_is_transferred_not_paused(session: Session) -> None:
    outcome = open_handoff(session, "+15550100003", channel="voice")
    assert outcome.staffed and not outcome.handoff.paused


def test_urgent_ones_go_first(session: Session) -> None:
    first = open_handoff(session, "+15550100011").handoff
    second = open_handoff(session, "+15550100012").handoff
    urgent = open_handoff(session, "tg:5001", channel="telegram", urgent=True).handoff
    assert urgent.reason == "distress" and urgent.urgent
    assert [handoffs.position(session, h) for h in (urgent, first, second)] == [1, 2, 3]
    assert handoffs.mark_urgent(session, second) and not handoffs.mark_urgent(session, second)
    # Among urgent ones, who has waited longest goes first.
    assert [handoffs.position(session, h) for h in (second, urgent, first)] == [1, 2, 3]
    queue = handoffs.page(session, handoffs.OPEN, 10, None).rows
    assert [h.id for h in queue] == [second.id, urgent.id, first.id]
    assert handoffs.counts(session) == {"waiting": 3, "active": 0, "urgent": 2}


def test_wait_estimate_uses_recent_handling_times_and_staff_on_duty(session: Session) -> None:
    now = utcnow()
    for minutes in (4, 8):
        session.add(Handoff(sender_id=f"+1555020000{minutes}", status="resolved",
                            claimed_at=now - dt.timedelta(minutes=minutes + 1),
                            closed_at=now - dt.timedelta(minutes=1)))
    session.flush()
    assert handoffs.average_handling_minutes(session) == pytest.approx(6.0)
    assert handoffs.estimated_wait_minutes(session, 3) == 18
    for name in ("ann", "ben"):
        user = staff.create(session, name, "long enough password", actor="test")
        session.add(StaffSession(token_hash=name * 8, staff_id=user.id, csrf_token="x",
                                 expires_at=now + dt.timedelta(hours=1)))
    session.flush()
    assert staff.on_duty(session) == 2
    assert handoffs.estimated_wait_minutes(session, 3) == 9


def test_claim_and_close(session: Session) -> None:
    agent = staff.create(session, "agent1", "long enough password", actor="test")
    callback = open_handoff(session, "+15550100021", local_now=SUNDAY_NOON).handoff
    assert handoffs.claim(session, callback, agent, actor="agent1")  # not paused: pause now
    assert (callback.status, callback.assignee_id, callback.paused) == ("active", agent.id, True)
    assert not handoffs.claim(session, callback, None, actor="api")  # already paused
    assert handoffs.close(session, callback, "agent1", "released")
    assert (callback.status, callback.resolution, callback.paused) == (
        "resolved", "released", False)
    with pytest.raises(handoffs.HandoffClosed):
        handoffs.claim(session, callback, agent, actor="agent1")
    with pytest.raises(handoffs.HandoffClosed):
        handoffs.close(session, callback, "agent1", "resolved")
    assert handoffs.open_for(session, "+15550100021") is None
    assert handoffs.to_json(callback)["resolution"] == "released"


def test_notes_and_canned_replies(session: Session) -> None:
    handoff = open_handoff(session, "+15550100031").handoff
    handoffs.add_note(session, handoff, "agent1", "  Called back, no answer ")
    assert [n.text for n in handoff.notes] == ["Called back, no answer"]
    for bad in ("", "   ", "x" * (handoffs.MAX_TEXT + 1), None):
        with pytest.raises(handoffs.HandoffError):
            handoffs.add_note(session, handoff, "agent1", bad)
    spanish = handoffs.canned_replies(session, "es")
    assert spanish and {r.language for r in spanish} == {"es"}
    assert {r.language for r in handoffs.canned_replies(session)} == {"en", "es", "fr", "ar"}
    added = handoffs.add_canned_reply(session, "fr", "Rappel", "Je vous rappelle demain.",
                                     actor="test")
    assert handoffs.remove_canned_reply(session, added.id, actor="test")
    assert not handoffs.remove_canned_reply(session, added.id, actor="test")
    with pytest.raises(handoffs.HandoffError):
        handoffs.add_canned_reply(session, "de", "Hallo", "Guten Tag", actor="test")


def test_transcript_merges_events_and_notes(session: Session) -> None:
    handoff = open_handoff(session, "+15550100041").handoff
    note = handoffs.add_note(session, handoff, "agent1", "Needs a call")
    failed = handoffs.add_note(session, handoff, "agent1", "Are you there?", kind="reply",
                               delivered=False, error="Twilio refused the SMS (400)")
    base = note.created_at.replace(tzinfo=dt.timezone.utc).timestamp() - 60
    events = [
        {"event": "action", "name": "action_listen", "timestamp": base},
        {"event": "user", "text": "hola", "input_channel": "sms", "timestamp": base + 1},
        {"event": "slot", "name": "language", "value": "es", "timestamp": base + 2},
        {"event": "slot", "name": "case_reference", "value": "40217382", "timestamp": base + 3},
        {"event": "slot", "name": "requested_slot", "value": "date_of_birth",
         "timestamp": base + 3},
        {"event": "user", "text": "31 01 1980", "input_channel": "sms", "timestamp": base + 3.5},
        {"event": "slot", "name": "date_of_birth", "value": "1980-01-31",
         "timestamp": base + 3.6},
        {"event": "slot", "name": "requested_slot", "value": None, "timestamp": base + 3.7},
        {"event": "bot", "text": "Elija:", "data": {"buttons": [{"title": "Uno"}]},
         "timestamp": base + 4},
        {"event": "pause", "timestamp": base + 5},
        {"event": "bot", "text": "Hola, soy Ana", "metadata": {"agent": "ana"},
         "timestamp": base + 6},
        {"event": "user", "text": "EXTERNAL: book_appointment", "timestamp": base + 7,
         "metadata": {"is_external": True},
         "parse_data": {"intent": {"name": "book_appointment"}}},
        {"event": "slot", "name": "language", "value": "es", "timestamp": base + 8},
        # a citizen's own words that merely look like a staff action stay the citizen's
        {"event": "user", "text": "EXTERNAL: give me the status", "input_channel": "sms",
         "timestamp": base + 9, "metadata": {"is_external": "yes"}},
    ]
    entries = transcript.entries(events, [note, failed])
    assert [(e.kind, e.text, e.who) for e in entries] == [
        ("citizen", "hola", ""),
        ("language", "es", ""),
        ("answer", "40217382", "case_reference"),
        ("citizen", transcript.SECRET_ANSWER, ""),  # the date of birth is never shown to staff
        ("answer", transcript.SECRET_ANSWER, "date_of_birth"),
        ("bot", "Elija:\n1. Uno", ""),
        ("system", "Handed to staff: the assistant is silent.", ""),
        ("agent", "Hola, soy Ana", "ana"),
        ("system", "Sent to the bot: book_appointment", ""),
        ("citizen", "EXTERNAL: give me the status", ""),
        ("note", "Needs a call", "agent1"),
        ("failed", "Are you there?", "agent1"),
    ]
    assert entries[0].channel == "sms" and entries[-1].error.startswith("Twilio")
    assert not any("1980" in e.text for e in entries)
    assert len({e.key for e in entries}) == len(entries)


def test_a_numbered_pick_reads_as_the_option_picked_not_its_payload() -> None:
    menu = {"event": "bot", "text": "Language? / ¿Idioma?", "data": {"buttons": [
        {"title": "English", "payload": '/change_language{"language_choice": "en"}'},
        {"title": "Español", "payload": '/change_language{"language_choice": "es"}'}]}}
    events = [
        {"event": "user", "text": "salam bghit dossier"},
        {"event": "slot", "name": "language_menu", "value": True}, menu,
        {"event": "bot", "text": "Write the number."},  # a line without options keeps them
        {"event": "user", "text": '/change_language{"language_choice": "es"}'},
        {"event": "bot", "text": "Vale."},
        {"event": "user", "text": '/change_language{"language_choice": "fr"}'},  # not offered
    ]
    entries = transcript.entries(events)
    citizen = [e.text for e in entries if e.kind == "citizen"]
    assert citizen == ["salam bghit dossier", "2. Español",
                       '/change_language{"language_choice": "fr"}']
    assert [e for e in entries if e.kind == "answer"] == []  # the menu's slot is bookkeeping


# --- staff accounts and sessions ---------------------------------------------------------------


def test_accounts_are_checked_and_passwords_hashed(session: Session) -> None:
    user = staff.create(session, " Maria.Lopez ", "correct horse battery", "admin", actor="test")
    assert user.username == "maria.lopez" and user.role == "admin"
    assert user.password_hash.startswith("$argon2id$")
    assert "correct horse" not in user.password_hash
    for name, password, role in [("maria.lopez", "another password", "agent"),
                                 ("x", "long enough password", "agent"),
                                 ("bad name!", "long enough password", "agent"),
                                 ("newbie", "short", "agent"),
                                 ("newbie", "long enough password", "root")]:
        with pytest.raises(staff.StaffError):
            staff.create(session, name, password, role, actor="test")


def test_login_session_and_logout(session: Session) -> None:
    staff.create(session, "ana", "correct horse battery", actor="test")
    result = staff.login(session, "ANA", "correct horse battery", "10.0.0.1")
    assert result.token and result.staff.username == "ana"
    stored = session.scalar(select(StaffSession))
    assert stored.token_hash != result.token and len(stored.token_hash) == 64
    found = staff.session_for(session, result.token)
    assert found is not None and staff.csrf_matches(found, found.csrf_token)
    assert not staff.csrf_matches(found, "forged") and not staff.csrf_matches(found, None)
    assert staff.session_for(session, "not-a-token") is None
    later = utcnow() + staff.IDLE_TIMEOUT + dt.timedelta(minutes=1)
    assert staff.session_for(session, result.token, now=later) is None  # idle: gone
    again = staff.login(session, "ana", "correct horse battery", "10.0.0.1")
    staff.logout(session, again.token, actor="ana")
    assert staff.session_for(session, again.token) is None


@pytest.mark.slow
def test_wrong_passwords_are_throttled_per_account_whatever_the_address(
        session: Session) -> None:
    staff.create(session, "ana", "correct horse battery", actor="test")
    now = utcnow()
    for attempt in range(staff.MAX_FAILURES):
        result = staff.login(session, "ana", f"guess {attempt}", f"10.0.0.{attempt}",
                             now=now + dt.timedelta(seconds=attempt))
        assert result.problem == "refused" and result.token is None
    # The account waits now, from any address (1 minute after the 5th failure, then longer).
    blocked = staff.login(session, "ana", "correct horse battery", "10.0.0.99",
                          now=now + dt.timedelta(seconds=30))
    assert blocked.problem == "throttled" and 0 < blocked.retry_after <= 60
    result = staff.login(session, "ana", "correct horse battery", "10.0.0.99",
                         now=now + dt.timedelta(seconds=70))
    assert result.token and result.device_token
    # A browser that logged in before is not held up by failures elsewhere.
    for attempt in range(3):
        assert staff.login(session, "ana", "another guess", "10.0.1.1",
                           now=now + dt.timedelta(seconds=80 + attempt)).problem
    assert staff.login(session, "ana", "correct horse battery", "10.0.0.99",
                       now=now + dt.timedelta(seconds=90),
                       device_cookie=result.device_token).token
    # Unknown usernames are refused the same way (and counted).
    assert staff.login(session, "nobody", "whatever", "10.0.0.4").problem == "refused"


@pytest.mark.slow
def test_password_reset_and_locking_end_sessions(session: Session) -> None:
    user = staff.create(session, "ana", "correct horse battery", actor="test")
    token = staff.login(session, "ana", "correct horse battery", "10.0.0.1").token
    staff.set_password(session, user, "a brand new password", actor="test")
    assert staff.session_for(session, token) is None
    assert staff.login(session, "ana", "correct horse battery", "10.0.0.1").problem == "refused"
    token = staff.login(session, "ana", "a brand new password", "10.0.0.1").token
    staff.set_role(session, user, active=False, actor="test")
    assert staff.session_for(session, token) is None
    assert staff.login(session, "ana", "a brand new password", "10.0.0.1").problem == "refused"
    with pytest.raises(staff.StaffError):
        staff.set_role(session, user, role="boss", actor="test")


# --- command line ------------------------------------------------------------------------------


def test_staff_commands(database: str, monkeypatch: pytest.MonkeyPatch,
                        capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("correct horse battery\n"))
    assert cli.main(["staff", "create", "Omar", "--role", "admin", "--password-stdin"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert cli.main(["staff", "create", "lea", "--password-stdin"]) == 2
    monkeypatch.setattr("sys.stdin", io.StringIO("another long password\n"))
    assert cli.main(["staff", "reset-password", "omar", "--password-stdin"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("another long password\n"))
    assert cli.main(["staff", "reset-password", "nobody", "--password-stdin"]) == 1
    assert cli.main(["staff", "list"]) == 0
    output = capsys.readouterr().out
    assert "created omar (admin)" in output and "omar\tadmin\tactive" in output
    with session_scope() as session:
        assert staff.login(session, "omar", "another long password", "cli").token
        actions = [a.action for a in session.scalars(select(AuditEntry))]
        assert actions == ["staff.create", "staff.password_reset", "staff.login"]


def test_dev_staff_prints_a_login_once(database: str, capsys: pytest.CaptureFixture) -> None:
    assert cli.main(["dev-staff"]) == 0
    first = capsys.readouterr().out
    password = re.search(r"dev-admin / (\S+)", first).group(1)
    assert cli.main(["dev-staff"]) == 0
    second = capsys.readouterr().out
    assert password not in second and "reset-password dev-admin" in second
    with session_scope() as session:
        assert session.scalar(select(StaffUser)).role == "admin"
        assert staff.login(session, "dev-admin", password, "local").token


# --- schema ------------------------------------------------------------------------------------


def test_migration_0003_matches_the_models(database: str) -> None:
    with get_engine().connect() as connection:
        context = MigrationContext.configure(connection)
        diff = compare_metadata(context, Base.metadata)
    mine = [d for d in diff if any(table in repr(d) for table in MY_TABLES)]
    assert mine == []


def test_migration_0003_adds_default_hours_and_canned_replies(session: Session) -> None:
    assert len(staffed_hours.weekly(session)) == 7
    assert session.scalar(select(CannedReply).where(CannedReply.language == "ar")) is not None
