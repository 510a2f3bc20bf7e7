"""Telegram contact sharing and the person behind it (bot.domain.people.link_telegram_contact), and
the
channel state kept per person (bot.messaging.inbound)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain import drafts, people, suppression
from bot.domain.forms import BOOKING_FORM, REPORT_FORM
from bot.messaging import inbound
from bot.store.models import (
    FormDraft,
    InboundMessage,
    Person,
    VerificationAttempt,
    VerificationFailure,
    utcnow,
)


def test_a_new_phone_becomes_the_telegram_users_verified_phone(session: Session) -> None:
    person = people.get_or_create(session, "tg:501")
    assert people.verified_phone(person) is None
    linked = people.link_telegram_contact(session, person, "+15550360001")
    assert linked is person and people.verified_phone(person) == "+15550360001"


def test_a_phone_known_by_sms_takes_the_telegram_id_language_and_locks(session: Session) -> None:
    by_sms = people.get_or_create(session, "+15550360002")
    by_sms.language, by_sms.language_explicit = "fr", False
    by_telegram = people.get_or_create(session, "tg:502")
    people.set_language(session, by_telegram, "es")
    locked_until = utcnow() + dt.timedelta(minutes=10)
    session.add_all([
        VerificationAttempt(person_id=by_telegram.id, reference="40217382", failures=3,
                            locked_until=locked_until),
        VerificationAttempt(person_id=by_sms.id, reference="40217382", failures=1),
        VerificationAttempt(person_id=by_telegram.id, reference="12345674", failures=2),
        VerificationFailure(reference="12345674", person_id=by_telegram.id),
    ])
    session.flush()

    owner = people.link_telegram_contact(session, by_telegram, "+15550360002")

    assert owner.id == by_sms.id and people.find(session, "tg:502").id == by_sms.id
    assert owner.phone_verified and owner.language == "es" and owner.language_explicit
    assert by_telegram.telegram_user_id is None
    attempts = {a.reference: (a.failures, a.locked_until) for a in session.scalars(
        select(VerificationAttempt).where(VerificationAttempt.person_id == owner.id))}
    assert attempts == {"40217382": (3, locked_until), "12345674": (2, None)}
    assert session.scalars(select(VerificationFailure.person_id)).all() == [owner.id]  # too
    assert session.scalar(select(Person).where(Person.phone == "+15550360002")) is owner


def test_options_are_remembered_per_person_and_channel(session: Session) -> None:
    person = people.get_or_create(session, "+15550360003")
    inbound.remember(session, person, "sms", [("A", "/a")])
    inbound.remember(session, person, "voice", [("B", "/b"), ("C", "/c")],
                     prompt=[{"text": "Pick"}])
    assert inbound.options(session, person, "sms") == [("A", "/a")]
    assert inbound.options(session, person, "voice") == [("B", "/b"), ("C", "/c")]
    assert inbound.state(session, person, "voice").prompt == [{"text": "Pick"}]


def test_a_message_id_is_claimed_once(database: str) -> None:
    assert inbound.claim("sms", "SM-once").ours
    assert inbound.claim("sms", "SM-once").outcome == inbound.BUSY  # its turn still runs
    assert inbound.claim("telegram", "SM-once").ours  # per channel


def test_drafts_and_history_follow_the_telegram_account_into_the_phones_person(
        session: Session) -> None:
    """A report started on Telegram before the contact was shared resumes by SMS too; where
    both had a draft of the same form, the one answered last is kept."""
    by_sms = people.get_or_create(session, "+15550360004")
    by_telegram = people.get_or_create(session, "tg:504")
    old = utcnow() - dt.timedelta(hours=2)
    drafts.save(session, by_sms, BOOKING_FORM, {"appointment_service": "id_cards"}, "sms")
    drafts.load(session, by_sms, BOOKING_FORM).updated_at = old
    drafts.save(session, by_sms, REPORT_FORM, {"problem_kind": "graffiti"}, "sms")
    drafts.save(session, by_telegram, BOOKING_FORM, {"appointment_service": "permits"},
                "telegram")
    drafts.load(session, by_sms, REPORT_FORM).updated_at = utcnow() + dt.timedelta(seconds=1)
    drafts.save(session, by_telegram, REPORT_FORM, {"problem_kind": "pothole"}, "telegram")
    session.add(InboundMessage(channel=inbound.TELEGRAM, external_id="upd-504",
                               person_id=by_telegram.id))
    session.flush()

    owner = people.link_telegram_contact(session, by_telegram, "+15550360004")

    assert owner.id == by_sms.id
    assert drafts.load(session, owner, BOOKING_FORM).answers == {
        "appointment_service": "permits"}  # the Telegram one was newer
    assert drafts.load(session, owner, REPORT_FORM).answers == {"problem_kind": "graffiti"}
    assert session.scalars(select(FormDraft).where(
        FormDraft.person_id == by_telegram.id)).all() == []
    assert session.scalar(select(InboundMessage.person_id).where(
        InboundMessage.external_id == "upd-504")) == owner.id


def test_an_erased_opted_out_phone_stays_opted_out_when_a_telegram_user_shares_it(
        session: Session) -> None:
    suppression.add(session, "+15550360005")  # what erasing an opted-out person leaves
    person = people.get_or_create(session, "tg:505")
    linked = people.link_telegram_contact(session, person, "+15550360005")
    assert linked.sms_opted_out and not suppression.is_suppressed(session, "+15550360005")
    other = people.link_telegram_contact(session, people.get_or_create(session, "tg:506"),
                                         "+15550360006")
    assert not other.sms_opted_out
