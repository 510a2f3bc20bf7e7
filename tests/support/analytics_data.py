"""Generated conversations with known figures, for the analytics: as Rasa's events (its
``events`` table, the tracker store) and as the event stream's rows (``conversation_events``),
plus hand-offs, outbox rows and SMS sent; and a million-event year written in bulk."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import create_engine, insert, text
from sqlalchemy.orm import Session

from bot.store import event_stream
from bot.store.models import ConversationEvent, DeliveryReceipt, Handoff, OutboxMessage

RASA_EVENTS = """CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, type_name VARCHAR(255) NOT NULL,
  timestamp FLOAT, intent_name VARCHAR(255), action_name VARCHAR(255), data TEXT)"""
RASA_EVENTS_PG = RASA_EVENTS.replace("id INTEGER PRIMARY KEY", "id SERIAL PRIMARY KEY")


@contextmanager
def session_on(database_url: str) -> Iterator[Session]:
    """A session on another process's database (the running stack's), committed at the end."""
    engine = create_engine(database_url)
    session = Session(engine)
    try:
        yield session
        session.commit()
    finally:
        session.close()
        engine.dispose()


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
    claimed = None if waited_minutes is None else created + dt.timedelta(minutes=waited_minutes)
    session.add(Handoff(sender_id=talk.sender, channel=talk.channel, language=talk.language,
                        reason=reason, status="resolved", resolution="resolved",
                        created_at=created, claimed_at=claimed,
                        closed_at=created + dt.timedelta(hours=1)))


def outbox(session: Session, key: str, channel: str, language: str, status: str,
           at: dt.datetime, receipts_: tuple[str, ...] = ()) -> None:
    """An outbox row; when sent, one provider message per receipt state (``receipts_``),
    recorded as the delivery receipts of SPEC §6.6 record them."""
    from bot.messaging import receipts

    ids = [f"SM{key}-{part}"[-64:] for part in range(len(receipts_))]
    session.add(OutboxMessage(idempotency_key=key, channel=channel, language=language,
                              status=status, created_at=at, payload={},
                              provider_id=",".join(ids) or None))
    for provider_id, state in zip(ids, receipts_, strict=True):
        receipts.sent(provider_id, channel, state, session=session)


# What became of the known day's notifications: (key, channel, language, outbox status,
# delivery receipt of each part). SMS/English: 10 sent (7 delivered, one of them read and one
# in two parts; 2 not delivered, one of them a two-part text with a failed part; 1 without a
# final receipt) and 1 failed to send; Telegram/Spanish: 1 sent (no receipts) and 1 skipped.
KNOWN_NOTIFICATIONS = (
    *((key, "sms", "en", "sent", ("delivered",)) for key in "abcde"),
    ("f", "sms", "en", "sent", ("read",)),
    ("g", "sms", "en", "sent", ("delivered", "delivered")),
    ("h", "sms", "en", "sent", ("undelivered",)),
    ("i", "sms", "en", "sent", ("delivered", "failed")),
    ("j", "sms", "en", "sent", ("sent",)),
    ("k", "sms", "en", "failed", ()),
    ("l", "telegram", "es", "sent", ()),
    ("m", "telegram", "es", "skipped", ()),
)


# --- a day with known figures ------------------------------------------------------------------

FORM = "report_problem_form"


def known_talks(noon: dt.datetime, prefix: str = "+155577700") -> list[Talk]:
    """10 SMS conversations in English (5 with a message not understood, 4 in the form: 2
    submitted, one leaving at the first question, one at the second) and 4 Telegram ones in
    Spanish. With :func:`write_known`: SMS/English 10 conversations, 3 handed off (70 %
    containment), 34 messages of which 5 not understood, waits 2, 4 and 10 minutes (p50 4,
    p90 10); Telegram/Spanish 4 conversations, 1 handed off and never taken (75 %)."""
    made = []
    steps = {0: ["problem_kind", "problem_place", "contact_preference"],
             1: ["problem_kind", "problem_place", "contact_preference"],
             2: ["problem_kind"], 3: ["problem_kind", "problem_place"]}
    for n in range(10):
        talk = Talk(f"{prefix}{n}", "sms", "en", noon + dt.timedelta(minutes=n))
        talk.says("hello", "greet")
        if n < 5:
            talk.says("blorp the thing", "nlu_fallback", 0.2).action("action_fallback")
        talk.says("thanks", "thank_you")
        if n in steps:
            talk.form(FORM, steps[n], submitted=n < 2)
        made.append(talk)
    for n in range(4):
        talk = Talk(f"tg:{prefix[-6:]}{n}", "telegram", "es", noon + dt.timedelta(minutes=30 + n))
        made.append(talk.says("hola", "greet").says("gracias", "thank_you"))
    return made


def write_known(session: Session, talks: list[Talk], where: str) -> None:
    """The talks' events (``where``: tracker or stream), their hand-offs, the notifications of
    :data:`KNOWN_NOTIFICATIONS` and SMS sent on their day
    (English replies: 2 messages, 3 segments; Arabic later: 1 message, 2 segments)."""
    from bot.analytics import usage

    (write_stream if where == "stream" else write_tracker)(session, talks)
    for talk, reason, waited in ((talks[7], "request_human", 2), (talks[8], "request_human", 4),
                                 (talks[9], "fallback", 10), (talks[10], "request_human", None)):
        handoff(session, talk, reason, waited)
    noon = talks[0].start
    for key, channel, language, status, parts in KNOWN_NOTIFICATIONS:
        outbox(session, f"analytics-{talks[0].sender}-{key}", channel, language, status, noon,
               parts)
    usage.record_sms(session, "en", usage.REPLY, ["a" * 200, "ok"], day=noon.date())
    usage.record_sms(session, "ar", usage.LATER, ["مرحبا بكم " * 8], day=noon.date())


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


COLUMNS = ("event_key", "sender_id", "type_name", "name", "value", "input_channel",
           "confidence", "timestamp", "received_at")


def _copy_year(session: Session, total: int, last_day: dt.date) -> int:
    """PostgreSQL: :func:`year_rows` through COPY (one round trip, not a million)."""
    buffer, written = io.StringIO(), 0
    out = csv.writer(buffer)
    for row in year_rows(total, last_day):
        out.writerow([("" if row.get(c) is None else row[c]) if c != "received_at"
                      else "2026-01-01 00:00:00" for c in COLUMNS])
        written += 1
    buffer.seek(0)
    cursor = session.connection().connection.cursor()
    cursor.copy_expert(f"COPY conversation_events ({', '.join(COLUMNS)}) FROM STDIN "
                       "WITH (FORMAT csv)", buffer)
    return written


def _year_records(session: Session, total: int, last_day: dt.date, seed: int = 15) -> None:
    """One hand-off for one conversation in ten (half taken by staff) and one notification
    for one in twenty (with the delivery receipts of the sent ones), spread over the year."""
    rng = random.Random(seed)
    first = dt.datetime.combine(last_day - dt.timedelta(days=364), dt.time())
    handoffs, notes = [], []
    for number in range(total // 100):
        at = first + dt.timedelta(seconds=rng.random() * 365 * 86400)
        handoffs.append({"sender_id": f"+1555{number:07d}", "channel": rng.choice(CHANNELS),
                         "language": rng.choice(LANGUAGES), "reason": "request_human",
                         "urgent": False, "status": "resolved", "paused": False,
                         "contact_later": False, "created_at": at,
                         "claimed_at": at + dt.timedelta(minutes=rng.random() * 30)
                         if number % 2 else None})
    receipts = []
    for number in range(total // 200):
        status = rng.choice(("sent", "sent", "failed"))
        notes.append({"idempotency_key": f"year-{number}", "kind": "case_status",
                      "payload": {}, "status": status,
                      "attempts": 1, "channel": "sms", "language": rng.choice(LANGUAGES),
                      "next_attempt_at": first, "created_at": first + dt.timedelta(
                          seconds=rng.random() * 365 * 86400),
                      "provider_id": f"SMyear{number}" if status == "sent" else None})
        if status == "sent":  # its delivery receipt: mostly delivered
            receipts.append({"provider_id": f"SMyear{number}", "channel": "sms",
                             "status": rng.choice(("delivered",) * 8 + ("undelivered", "sent")),
                             "created_at": first, "updated_at": first})
    session.execute(insert(Handoff.__table__), handoffs)
    session.execute(insert(OutboxMessage.__table__), notes)
    session.execute(insert(DeliveryReceipt.__table__), receipts)


def write_year(session: Session, total: int, last_day: dt.date, batch: int = 50_000) -> int:
    """Bulk-insert :func:`year_rows` into ``conversation_events`` (COPY on PostgreSQL, batched
    inserts on SQLite), with a year's hand-offs and notifications; events written."""
    _year_records(session, total, last_day)
    if session.bind.dialect.name == "postgresql":
        return _copy_year(session, total, last_day)
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
