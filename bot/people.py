"""People: who is writing, across channels, and their sticky language (SPEC §3, §6.3).

A Rasa sender id names the person: an E.164 phone number (SMS and voice share it), ``tg:<id>``
for a Telegram user, anything else for other channels (the REST channel, the web).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import language as lang
from bot.models import Person
from bot.phones import to_e164

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
    """The person behind a sender id, created on first contact."""
    person = find(session, sender_id)
    if person is not None:
        return person
    person = Person()
    if sender_id.startswith(TELEGRAM_PREFIX):
        person.telegram_user_id = sender_id[len(TELEGRAM_PREFIX):]
    elif sender_id.startswith("+") and to_e164(sender_id):
        person.phone = to_e164(sender_id)
    else:
        person.external_id = sender_id
    session.add(person)
    session.flush()
    return person


def verified_phone(person: Person) -> str | None:
    """The phone number this person has proved they hold, if any.

    An SMS or call comes from the number itself; a Telegram user proves it by sharing their
    contact (the channel then sets ``phone_verified``).
    """
    if person.phone and (person.telegram_user_id is None or person.phone_verified):
        return person.phone
    return None


def apply_language(session: Session, person: Person, text: str) -> lang.Decision:
    """Decide the language for this message and remember it for the person."""
    decision = lang.decide(person.language, text, chosen=person.language_explicit)
    if decision.changed or person.language is None:
        person.language = decision.language
        person.language_explicit = decision.explicit
        session.flush()
    return decision


def set_language(session: Session, person: Person, code: str) -> None:
    """An explicit choice (a menu pick, the voice language menu)."""
    person.language = lang.DEFAULT if code not in lang.SUPPORTED else code
    person.language_explicit = True
    session.flush()
