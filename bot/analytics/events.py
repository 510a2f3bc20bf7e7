"""The conversation events the analytics read, as :func:`bot.store.event_stream.summarise`
rows (sender, type, name, value, input channel, confidence, timestamp), one sender's events
together and in order.

With ``RABBITMQ_URL`` set the Rasa server publishes every event and `python -m bot events
consume` writes them to ``conversation_events`` (the *stream*); without it the same rows are
made from Rasa's own ``events`` table (the *tracker* store), which holds the same events.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import get_settings
from bot.store import event_stream, tracker_events
from bot.store.models import ConversationEvent

STREAM = "stream"
TRACKER = "tracker"
# What the figures need: messages, slots (language, the form's question, submitted) and forms.
KINDS = ("user", "slot", "active_loop")
BATCH = 5000


def source() -> str:
    """``stream`` when the Rasa server publishes its events to RabbitMQ, else ``tracker``."""
    return STREAM if get_settings().rabbitmq_url else TRACKER


def _from_stream(session: Session, start: float, end: float) -> Iterator[dict[str, Any]]:
    table = ConversationEvent.__table__
    query = (select(table.c.sender_id, table.c.type_name, table.c.name, table.c.value,
                    table.c.input_channel, table.c.confidence, table.c.timestamp)
             .where(table.c.timestamp >= start, table.c.timestamp < end,
                    table.c.type_name.in_(KINDS))
             .order_by(table.c.sender_id, table.c.timestamp, table.c.id))
    for row in session.execute(query.execution_options(yield_per=BATCH)):
        yield dict(row._mapping)


def _from_tracker(session: Session, start: float, end: float) -> Iterator[dict[str, Any]]:
    if not tracker_events.has_events_table(session):
        return
    table = tracker_events.events
    query = (select(table.c.sender_id, table.c.data)
             .where(table.c.timestamp >= start, table.c.timestamp < end,
                    table.c.type_name.in_(KINDS))
             .order_by(table.c.sender_id, table.c.timestamp, table.c.id))
    for sender_id, data in session.execute(query.execution_options(yield_per=BATCH)):
        try:
            yield event_stream.summarise(json.loads(data), sender_id)
        except (ValueError, event_stream.BadEvent):
            continue  # not an event the analytics can read: the figures leave it out


def read(session: Session, start: float, end: float, where: str | None = None
         ) -> Iterator[dict[str, Any]]:
    """Events with ``start <= timestamp < end`` from ``where`` (default :func:`source`),
    ordered by sender then time."""
    if (where or source()) == STREAM:
        return _from_stream(session, start, end)
    return _from_tracker(session, start, end)
