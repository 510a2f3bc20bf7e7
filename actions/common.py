"""What every action needs: a database session, the person, their language, the channel."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rasa_sdk import Tracker
from sqlalchemy.orm import Session

from bot import people
from bot.config import get_settings
from bot.db import session_scope
from bot.i18n import normalise
from bot.models import Person

# Channels whose sender id is a phone number the provider has proven (a text or a call from it).
PHONE_CHANNELS = frozenset({"sms", "voice"})


@contextmanager
def person_session(tracker: Tracker) -> Iterator[tuple[Session, Person]]:
    """A transaction and the person behind this conversation."""
    with session_scope() as session:
        yield session, people.get_or_create(session, tracker.sender_id)


def language_of(tracker: Tracker) -> str:
    return normalise(tracker.get_slot("language"))


def channel_of(tracker: Tracker) -> str:
    return tracker.get_latest_input_channel() or ""


def trusts_phone(tracker: Tracker, person: Person) -> bool:
    """Whether the sender's phone number is proven on this channel (SPEC §5.1).

    SMS and voice come from the number; Telegram proves it when the contact is shared
    (``person.phone_verified``). The REST channel has no proof: trusted in development only,
    so the demo and tests can play a phone owner.
    """
    channel = channel_of(tracker)
    if channel in PHONE_CHANNELS or person.phone_verified:
        return True
    return channel == "rest" and not get_settings().is_production


def latest_text(tracker: Tracker) -> str:
    return tracker.latest_message.get("text") or ""


def entity(tracker: Tracker, name: str) -> Any:
    return next(tracker.get_latest_entity_values(name), None)


def inform(entity: str, value: str) -> str:
    """The payload of a button that answers with ``entity`` = ``value``
    (``/inform{"appointment_day": "2026-12-01"}``)."""
    return "/inform" + json.dumps({entity: value}, ensure_ascii=False)


def buttons(options: list[tuple[str, str]]) -> list[dict[str, str]]:
    """Rasa buttons from (title, payload) pairs."""
    return [{"title": title, "payload": payload} for title, payload in options]
