"""Rasa's conversation events, as its SQL tracker store keeps them in our database (SPEC §8:
one database). CivicLine reads them for the staff transcript and deletes them for retention
(bot.domain.retention); Rasa alone writes them.

The table is Rasa's ``events`` (``rasa.core.tracker_store.SQLTrackerStore.SQLEvent``): one row
per event in insertion order, ``timestamp`` in Unix seconds, ``data`` the event's
``as_dict()`` as JSON. Only the columns used here are declared.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Table, column, inspect, select, table
from sqlalchemy.orm import Session

EVENTS = "events"
# Metadata of a user event that an action put back into the conversation (the first message,
# answered again once the language menu is answered: actions/language.py): the same words the
# person wrote once, not a new message. Readers of what the person said leave it out.
REPLAYED = "replayed"
events: Table = table(EVENTS, column("id"), column("sender_id"), column("timestamp"),
                      column("type_name"), column("data"))


def has_events_table(session: Session) -> bool:
    """False before Rasa first ran against this database (it creates its table itself)."""
    return inspect(session.connection()).has_table(EVENTS)


def recent(session: Session, sender_id: str, limit: int) -> list[dict[str, Any]]:
    """The conversation's last ``limit`` events across its sessions, oldest first.

    Read straight from the table: no tracker is rebuilt (replaying every event of every
    session), which matters for a transcript polled every few seconds.
    """
    if not has_events_table(session):
        return []
    rows = session.scalars(select(events.c.data).where(events.c.sender_id == sender_id)
                           .order_by(events.c.id.desc()).limit(limit)).all()
    return [json.loads(data) for data in reversed(rows)]
