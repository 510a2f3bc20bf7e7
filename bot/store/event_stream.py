"""Rasa events, as published to RabbitMQ, turned into rows for the operators' analytics
(``conversation_events``), counted once each (issue 12 §2).

Rasa's Pika broker publishes every new tracker event as JSON, ``{"sender_id": ..., "event":
"user", "timestamp": ..., ...}`` (``rasa.core.tracker_store.TrackerStore.stream_events``).
:func:`summarise` keeps what the analytics read: who (the conversation), what (user message,
action, slot, form...), its intent, action or slot name and confidence, the input channel and
when; never a message's text, and only the values of the slots in :data:`KEPT_SLOTS`
(and whether a :data:`MARKED_SLOTS` slot was set).
:func:`summarise` works as well on the ``data`` column of Rasa's own ``events`` table, the same
event as the tracker store keeps it, for a set-up without RabbitMQ.

:func:`record` writes a batch in one transaction and skips the events already there (same
``event_key``, a hash of the published body): a consumer that dies after committing and before
acknowledging gets the batch again from RabbitMQ, and counts nothing twice.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import text_setting
from bot.store.models import ConversationEvent
from bot.store.tracker_events import REPLAYED

# Slots whose values are categories, never personal data: the reply language, the form's
# pending question (form funnels), and what was asked about.
KEPT_SLOTS = frozenset({"language", "requested_slot", "service", "office", "digital_topic",
                        "problem_kind", "urgency", "status_outcome"})
# Slots whose value is personal (a case reference) but whose being set is a fact the analytics
# need: a form's ``form_reference`` is set when the form was submitted (its funnel's last step).
# Their rows say "set" (or nothing), never the value.
MARKED_SLOTS = frozenset({"form_reference"})
SET = "set"
# The kind of a citizen's first message answered again after the language menu
# (actions/language.py replays it, marked in its metadata): the analytics count it once, as
# the ``user`` row it was the first time.
REPLAYED_USER = "user_replayed"
TEXT_LIMIT = 255
DEFAULT_QUEUE = "civicline_events"


def queue_name() -> str:
    """The RabbitMQ queue (and fanout exchange) of the event stream: ``CIVICLINE_EVENTS_QUEUE``."""
    return text_setting("CIVICLINE_EVENTS_QUEUE", DEFAULT_QUEUE) or DEFAULT_QUEUE


class BadEvent(ValueError):
    """A message that is not a Rasa event (no sender, type or time): never recorded."""


def event_key(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def _short(value: Any) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text[:TEXT_LIMIT]


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
        else None


def summarise(event: dict[str, Any], sender_id: str | None = None) -> dict[str, Any]:
    """The analytics row of one Rasa event (``sender_id`` when the event does not carry it)."""
    sender = event.get("sender_id") or sender_id
    kind = event.get("event")
    timestamp = _number(event.get("timestamp"))
    if not isinstance(sender, str) or not isinstance(kind, str) or timestamp is None:
        raise BadEvent("not a Rasa event: sender_id, event and timestamp are required")
    row: dict[str, Any] = {"sender_id": sender[:255], "type_name": kind[:32], "name": None,
                           "value": None, "input_channel": None, "confidence": None,
                           "timestamp": timestamp}
    if kind == "user":
        intent = (event.get("parse_data") or {}).get("intent") or {}
        row.update(name=_short(intent.get("name")), confidence=_number(intent.get("confidence")),
                   input_channel=_short(event.get("input_channel")))
        if (event.get("metadata") or {}).get(REPLAYED) is True:
            row["type_name"] = REPLAYED_USER
        return row
    # As Rasa's events table names them: the action, slot, loop, reminder... ("name").
    row["name"] = _short(event.get("name"))
    if kind == "action":
        row["confidence"] = _number(event.get("confidence"))
    elif kind == "slot" and event.get("name") in KEPT_SLOTS:
        row["value"] = _short(event.get("value"))
    elif kind == "slot" and event.get("name") in MARKED_SLOTS:
        row["value"] = SET if event.get("value") not in (None, "", []) else None
    return row


def parse(body: bytes) -> dict[str, Any]:
    """The row of one published message, keyed by its body's hash; :class:`BadEvent` if it is
    not a Rasa event."""
    try:
        event = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadEvent(f"not JSON: {exc}") from exc
    if not isinstance(event, dict):
        raise BadEvent("not a JSON object")
    return {**summarise(event), "event_key": event_key(body)}


def record(session: Session, rows: list[dict[str, Any]]) -> int:
    """Add the rows not already recorded (by ``event_key``); return how many were added."""
    fresh: dict[str, dict[str, Any]] = {row["event_key"]: row for row in rows}
    if not fresh:
        return 0
    known = set(session.scalars(select(ConversationEvent.event_key)
                                .where(ConversationEvent.event_key.in_(list(fresh)))))
    added = [ConversationEvent(**row) for key, row in fresh.items() if key not in known]
    session.add_all(added)
    session.flush()
    return len(added)
