"""Generated conversations with known figures, for the analytics: as Rasa's events (its
``events`` table, the tracker store) and as the event stream's rows (``conversation_events``),
plus hand-offs, outbox rows and SMS sent; and a million-event year written in bulk."""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from bot.store import event_stream
from bot.store.models import ConversationEvent, Handoff, OutboxMessage

RASA_EVENTS = """CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, type_name VARCHAR(255) NOT NULL,
  timestamp FLOAT, intent_name VARCHAR(255), action_name VARCHAR(255), data TEXT)"""
RASA_EVENTS_PG = RASA_EVENTS.replace("id INTEGER PRIMARY KEY", "id SERIAL PRIMARY KEY")


def epoch(moment: dt.datetime) -> float:
    return moment.replace(tzinfo=dt.timezone.utc).timestamp()


@dataclass
class Talk:
    """One generated conversation: its Rasa events, oldest first."""

    sender: str
    channel: str
    language: str
    start: dt.datetime
    events: list[dict[str, Any]] = field(default_factory=list)

    def _at(self) -> float:
        return epoch(self.start) + len(self.events) * 2.0

    def says(self, words: str, intent: str, confidence: float = 0.9) -> Talk:
        self.events.append({"event": "user", "timestamp": self._at(), "text": words,
                            "input_channel": self.channel,
                            "parse_data": {"text": words, "intent": {
                                "name": intent, "confidence": confidence}}})
        self.slot("language", self.language)
        return self

    def slot(self, name: str, value: Any) -> Talk:
        self.events.append({"event": "slot", "timestamp": self._at(), "name": name,
                            "value": value})
        return self

    def action(self, name: str) -> Talk:
        self.events.append({"event": "action", "timestamp": self._at(), "name": name,
                            "confidence": 1.0})
        return self

    def bot(self, words: str) -> Talk:
        self.events.append({"event": "bot", "timestamp": self._at(), "text": words})
        return self

    def form(self, name: str, steps: list[str], submitted: bool) -> Talk:
        self.events.append({"event": "active_loop", "timestamp": self._at(), "name": name})
        for step in steps:
            self.slot("requested_slot", step)
            self.says("an answer", "inform")
        if submitted:
            self.slot("form_reference", "40217382")
        self.events.append({"event": "active_loop", "timestamp": self._at(), "name": None})
        return self


def write_tracker(session: Session, talks: list[Talk]) -> None:
    """The talks in Rasa's ``events`` table, as its SQL tracker store writes them."""
    create = RASA_EVENTS_PG if session.bind.dialect.name == "postgresql" else RASA_EVENTS
    session.execute(text(create))
    rows = [{"sender_id": t.sender, "type_name": e["event"], "timestamp": e["timestamp"],
             "intent_name": ((e.get("parse_data") or {}).get("intent") or {}).get("name"),
             "action_name": e.get("name") if e["event"] == "action" else None,
             "data": json.dumps({**e, "sender_id": t.sender})}
            for t in talks for e in t.events]
    session.execute(text("INSERT INTO events (sender_id, type_name, timestamp, intent_name, "
                         "action_name, data) VALUES (:sender_id, :type_name, :timestamp, "
                         ":intent_name, :action_name, :data)"), rows)


def write_stream(session: Session, talks: list[Talk]) -> None:
    """The talks as the event consumer records them (``conversation_events``)."""
    rows = []
    for talk in talks:
        for event in talk.events:
            body = json.dumps({**event, "sender_id": talk.sender}).encode()
            rows.append(event_stream.parse(body))
    event_stream.record(session, rows)


def handoff(session: Session, talk: Talk, reason: str, waited_minutes: float | None) -> None:
    created = talk.start + dt.timedelta(seconds=30)
    session.add(Handoff(sender_id=talk.sender, channel=talk.channel, language=talk.language,
                        reason=reason, status="resolved" if waited_minutes is not None
                        else "waiting", created_at=created,
                        claimed_at=None if waited_minutes is None
                        else created + dt.timedelta(minutes=waited_minutes)))


def outbox(session: Session, key: str, channel: str, language: str, status: str,
           at: dt.datetime) -> None:
    session.add(OutboxMessage(idempotency_key=key, channel=channel, language=language,
                              status=status, created_at=at, payload={}))


# --- a year of events, in bulk ----------------------------------------------------------------

CHANNELS = ("sms", "telegram", "voice")
LANGUAGES = ("en", "es", "fr", "ar")


def year_rows(total: int, last_day: dt.date, seed: int = 14) -> Iterator[dict[str, Any]]:
    """``total`` stream rows over the 365 days up to ``last_day``: conversations of 10 events
    (4 messages, one in 8 not understood, 4 language slots, a form started in one in 5)."""
    rng = random.Random(seed)
    start = epoch(dt.datetime.combine(last_day - dt.timedelta(days=364), dt.time()))
    for number in range(total // 10):
        sender = f"+1555{number:07d}"
        at = start + rng.random() * 365 * 86400 - 600
        channel, language = rng.choice(CHANNELS), rng.choice(LANGUAGES)
        base = {"sender_id": sender, "input_channel": None, "confidence": None, "value": None}
        for step in range(4):
            yield {**base, "event_key": f"{number}-u{step}", "type_name": "user",
                   "name": "nlu_fallback" if rng.random() < 0.125 else "check_service_status",
                   "input_channel": channel, "confidence": 0.9, "timestamp": at + step * 10}
            yield {**base, "event_key": f"{number}-l{step}", "type_name": "slot",
                   "name": "language", "value": language, "timestamp": at + step * 10 + 1}
        if rng.random() < 0.2:
            yield {**base, "event_key": f"{number}-f", "type_name": "active_loop",
                   "name": "report_problem_form", "timestamp": at + 50}
            yield {**base, "event_key": f"{number}-q", "type_name": "slot",
                   "name": "requested_slot", "value": "problem_kind", "timestamp": at + 51}
        else:
            yield {**base, "event_key": f"{number}-a", "type_name": "action",
                   "name": "action_listen", "timestamp": at + 50}
            yield {**base, "event_key": f"{number}-b", "type_name": "action",
                   "name": "utter_service_status", "timestamp": at + 51}


def write_year(session: Session, total: int, last_day: dt.date, batch: int = 50_000) -> int:
    """Bulk-insert :func:`year_rows` into ``conversation_events``; rows written."""
    table = ConversationEvent.__table__
    now, written, chunk = dt.datetime(2026, 1, 1), 0, []
    for row in year_rows(total, last_day):
        chunk.append({**row, "received_at": now})
        if len(chunk) == batch:
            session.execute(insert(table), chunk)
            written, chunk = written + len(chunk), []
    if chunk:
        session.execute(insert(table), chunk)
        written += len(chunk)
    return written
