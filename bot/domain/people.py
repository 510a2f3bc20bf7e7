"""People: who is writing, across channels, and their sticky language (SPEC §3, §6.3).

A Rasa sender id names the person: an E.164 phone number (SMS and voice share it), ``tg:<id>``
for a Telegram user, anything else for other channels (the REST channel, the web).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.domain import suppression
from bot.domain.phones import to_e164
from bot.language import detect as lang
from bot.store.models import (
    Booking,
    Case,
    ChannelState,
    FormDraft,
    Handoff,
    InboundMessage,
    OutboxMessage,
    Person,
    VerificationAttempt,
    VerificationFailure,
)

TELEGRAM_PREFIX = "tg:"


def telegram_sender_id(user_id: int | str) -> str:
    return f"{TELEGRAM_PREFIX}{user_id}"


def find(session: Session, sender_id: str) -> Person | None:
    """The person behind a sender id, if known."""
    if sender_id.startswith(TELEGRAM_PREFIX):
        return session.scalar(
            select(Person).where(Person.telegram_user_id == sender_id[len(TELEGRAM_PREFIX):])
        )
    phone = to_e164(sender_id) if sender_id.startswith("+") else None
    if phone:
        return session.scalar(select(Person).where(Person.phone == phone))
    return session.scalar(select(Person).where(Person.external_id == sender_id))


def get_or_create(session: Session, sender_id: str) -> Person:
    """The person behind a sender id, created on first contact.

    Race-free: two first messages from one new number at once both get the same person. The
    row is inserted with ``ON CONFLICT DO NOTHING`` (SQLite and PostgreSQL), which waits for
    the other transaction's insert and then does nothing, and is read back either way.
    """
    person = find(session, sender_id)
    if person is not None:
        return person
    new = Person()
    if sender_id.startswith(TELEGRAM_PREFIX):
        new.telegram_user_id = sender_id[len(TELEGRAM_PREFIX):]
    elif sender_id.startswith("+") and to_e164(sender_id):
        new.phone = to_e164(sender_id)
        suppression.apply(session, new)  # an erased number that had opted out stays so
    else:
        new.external_id = sender_id
    values = {column: getattr(new, column) for column in (
        "phone", "telegram_user_id", "external_id", "sms_opted_out", "sms_opted_out_at")
        if getattr(new, column) is not None}  # the others get their column defaults
    session.execute(_insert(session)(Person).values(**values).on_conflict_do_nothing())
    person = find(session, sender_id)
    if person is None:  # cannot happen: the insert or the other one's row is there
        raise RuntimeError("the new person was neither inserted nor found")
    return person


def _insert(session: Session) -> Any:
    """The dialect's INSERT, which knows ``ON CONFLICT DO NOTHING``."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def verified_phone(person: Person) -> str | None:
    """The phone number this person has proved they hold, if any.

    An SMS or call comes from the number itself; a Telegram user proves it by sharing their
    contact (the channel then sets ``phone_verified``).
    """
    if person.phone and (person.telegram_user_id is None or person.phone_verified):
        return person.phone
    return None


def apply_language(session: Session, person: Person, text: str, keep: bool = False
                   ) -> lang.Decision:
    """Decide the language for this message and remember it for the person.

    ``keep``: the message answers a free-text question (an address, a description), whose
    words are content, not the conversation's language: only an explicit request switches.
    Someone new whose message is too uncertain for a language (``show_menu``) stays without
    one until they pick from the language menu.
    """
    decision = lang.decide(person.language, text, chosen=person.language_explicit or keep)
    if decision.changed or (person.language is None and not decision.show_menu):
        person.language = decision.language
        person.language_explicit = decision.explicit
        session.flush()
    return decision


def first_language_hint(session: Session, person: Person, code: str | None) -> None:
    """A language the client already knows (Telegram's ``language_code``, "es-MX") for
    someone new: the first reply is in it. Not a choice: their own words still decide."""
    base = (code or "").split("-")[0].lower()
    if person.language is None and base in lang.SUPPORTED:
        person.language = base
        person.language_explicit = False
        session.flush()


def set_language(session: Session, person: Person, code: str) -> None:
    """An explicit choice (a menu pick, the voice language menu)."""
    person.language = lang.DEFAULT if code not in lang.SUPPORTED else code
    person.language_explicit = True
    session.flush()


def link_telegram_contact(session: Session, person: Person, phone: str) -> Person:
    """A Telegram user shared their *own* contact, so Telegram vouches for the phone (§5.1).

    When nobody else has that phone, it becomes this person's, verified. When someone does
    (they texted or called before), the Telegram account joins that person instead: one
    person, one language, one verification, one lock count. Everything the Telegram-only
    record held follows: cases, bookings, hand-offs, messages, notifications, form drafts
    (the newer one per form), channel state. The emptied record no longer answers to the
    Telegram id. Returns the person the Telegram id now belongs to.
    """
    owner = session.scalar(select(Person).where(Person.phone == phone))
    if owner is None or owner.id == person.id:
        if person.phone != phone:
            person.phone = phone
            suppression.apply(session, person)  # an erased number that had opted out stays so
        person.phone_verified = True
        session.flush()
        return person
    if person.language and (person.language_explicit or not owner.language_explicit):
        owner.language = person.language
        owner.language_explicit = person.language_explicit
    telegram_id = person.telegram_user_id
    person.telegram_user_id = None
    session.flush()  # the Telegram id is unique: free it before giving it to the owner
    owner.telegram_user_id = telegram_id
    owner.phone_verified = True
    for model in (Case, Booking, Handoff, InboundMessage, OutboxMessage):
        session.execute(update(model).where(model.person_id == person.id)
                        .values(person_id=owner.id))
    _merge_attempts(session, person, owner)
    _merge_newest(session, FormDraft, "form", person, owner)
    _merge_newest(session, ChannelState, "channel", person, owner)
    session.flush()
    return owner


def _merge_newest(session: Session, model: Any, key: str, old: Person, new: Person) -> None:
    """Rows unique per (person, ``key``) move to ``new``; where both have one, the more
    recently updated stays (a draft answered last on Telegram beats an older SMS one)."""
    kept = {getattr(row, key): row
            for row in session.scalars(select(model).where(model.person_id == new.id))}
    for row in session.scalars(select(model).where(model.person_id == old.id)).all():
        mine = kept.get(getattr(row, key))
        if mine is not None and mine.updated_at >= row.updated_at:
            session.delete(row)
            continue
        if mine is not None:
            session.delete(mine)
            session.flush()  # free the unique (person, key) pair before the row moves
        row.person_id = new.id


def _merge_attempts(session: Session, old: Person, new: Person) -> None:
    """Failed date-of-birth attempts follow the person: merging never resets a lock."""
    session.execute(update(VerificationFailure).where(VerificationFailure.person_id == old.id)
                    .values(person_id=new.id).execution_options(synchronize_session=False))
    kept = {a.reference: a for a in session.scalars(
        select(VerificationAttempt).where(VerificationAttempt.person_id == new.id))}
    for attempt in session.scalars(
            select(VerificationAttempt).where(VerificationAttempt.person_id == old.id)).all():
        mine = kept.get(attempt.reference)
        if mine is None:
            attempt.person_id = new.id
            continue
        mine.failures = max(mine.failures, attempt.failures)
        if attempt.locked_until and (not mine.locked_until
                                     or attempt.locked_until > mine.locked_until):
            mine.locked_until = attempt.locked_until
        session.delete(attempt)
