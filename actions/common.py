"""What every action needs: a database session, the person, their language, the channel."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rasa_sdk import Tracker
from sqlalchemy.orm import Session

from bot.domain import people
from bot.language.i18n import normalise
from bot.store.db import session_scope
from bot.store.models import Person

# Channels whose sender id is a phone number the provider has proven (a text, a WhatsApp
# message or a call from it: WhatsApp registers a number by a code sent to it). USSD too: the
# operator puts the caller's number in every request (SPEC §6.5).
PHONE_CHANNELS = frozenset({"sms", "voice", "whatsapp", "ussd"})


class Clocked:
    """An action that reads the local time through ``self.now`` rather than the wall clock,
    so a test passes a fixed ``now`` ("tomorrow" then means one day, whatever the calendar).
    Rasa's action server builds actions without arguments: the real clock."""

    def __init__(self, now: Callable[[], dt.datetime] | None = None) -> None:
        self.now = now or dt.datetime.now

    def today(self) -> dt.date:
        return self.now().date()


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
    """Whether the channel that received this turn proves the sender's phone (SPEC §5.1, §6).

    The channel is the input channel class that took the message (channels/*.py set it; the
    REST channel always says "rest"), never anything the caller wrote. SMS and voice come from
    the number itself. Telegram proves it only for the Telegram user who shared that contact,
    on Telegram. REST proves nothing, in any environment.
    """
    channel = channel_of(tracker)
    if channel in PHONE_CHANNELS:
        return True
    return (channel == "telegram" and person.phone_verified
            and person.telegram_user_id is not None
            and tracker.sender_id == people.telegram_sender_id(person.telegram_user_id))


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


def said_this_turn(tracker: Tracker) -> list[str]:
    """The responses the bot has said since the person's latest message."""
    said: list[str] = []
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            break
        if event.get("event") == "bot":
            name = (event.get("metadata") or {}).get("utter_action")
            if name:
                said.append(name)
    return said[::-1]
