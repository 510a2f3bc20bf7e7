"""What the console's pages are built from, for accessibility and daily use (issue 14 §5):
the language of each transcript line, the reply box's SMS count, the charts' bars, and search
by phone, reference and day."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.callcentre import search, transcript
from bot.domain import references
from bot.store.models import AuditEntry, Case, Handoff, Person, Service
from server.console.charts import bars
from server.console.sms_counter import sms_count


def test_each_line_of_a_transcript_has_its_language() -> None:
    events = [
        {"event": "user", "timestamp": 1.0, "text": "hello"},
        {"event": "slot", "timestamp": 1.1, "name": "language", "value": "en"},
        {"event": "bot", "timestamp": 1.2, "text": "Hi! How can I help?"},
        {"event": "user", "timestamp": 2.0, "text": "بدي موظف"},
        {"event": "slot", "timestamp": 2.1, "name": "language", "value": "ar"},
        {"event": "bot", "timestamp": 2.2, "text": "سأحولك إلى موظف"},
        {"event": "user", "timestamp": 3.0, "text": "1234"},
    ]
    entries = transcript.entries(events, [], default_language="fr")
    lines = [(e.kind, e.text, e.language) for e in entries if e.kind in ("citizen", "bot")]
    assert lines == [("citizen", "hello", "en"), ("bot", "Hi! How can I help?", "en"),
                     ("citizen", "بدي موظف", "ar"), ("bot", "سأحولك إلى موظف", "ar"),
                     ("citizen", "1234", "ar")]
    assert transcript.entries(events[:1], [], default_language="fr")[0].language == "fr"


@pytest.mark.parametrize(("text", "described"), [
    ("", "0 characters: nothing to send yet."),
    ("Hola, soy Marta.", "16 characters, 1 SMS segment (GSM-7)."),
    ("€" * 81, "162 characters, 2 SMS segments (GSM-7)."),
    ("مرحبا", "5 characters, 1 SMS segment (UCS-2)."),
    ("a" * 470, "470 characters, 4 SMS segments (GSM-7). More than 3 segments costs more."),
])
def test_the_reply_box_counts_sms_as_the_server_sends_them(text: str, described: str) -> None:
    assert sms_count(text).describe == described


def test_a_chart_draws_bars_to_scale_and_says_when_a_value_is_missing() -> None:
    chart = bars("Containment", [("SMS", 70.0), ("Telegram", 100.0), ("Voice", None)], "%", 100)
    assert [(b.label, b.width, b.shown) for b in chart.bars] == [
        ("SMS", 231.0, "70%"), ("Telegram", 330.0, "100%"), ("Voice", 0.0, "n/a")]


def test_search_finds_conversations_by_phone_reference_and_day(session) -> None:
    person = Person(phone="+15550101234", language="en")
    session.add(person)
    session.flush()
    case = Case(reference=references.generate(), service_id=session.query(Service).first().id,
                status="in_review", phone="+15550101234", language="en")
    session.add(case)
    day = dt.datetime(2026, 11, 3, 10)
    session.add(Handoff(sender_id="+15550101234", person_id=person.id, channel="sms",
                        language="en", created_at=day))
    session.add(Handoff(sender_id="tg:42", channel="telegram", language="es",
                        created_at=day + dt.timedelta(days=1)))
    session.flush()
    by_phone = search.find(session, search.parse("(555) 010-1234", ""), actor="agent")
    assert [h.sender_id for h in by_phone] == ["+15550101234"]
    by_day = search.find(session, search.parse("", "2026-11-04"), actor="agent")
    assert [h.sender_id for h in by_day] == ["tg:42"]
    spaced = f"{case.reference[:4]} {case.reference[4:]}"
    by_reference = search.find(session, search.parse(spaced, ""), actor="agent")
    assert [h.sender_id for h in by_reference] == ["+15550101234"]
    audited = session.query(AuditEntry).filter_by(action="handoff.search").all()
    assert "+15550101234" not in repr([(a.target, a.detail) for a in audited])
    with pytest.raises(search.SearchError):
        search.parse("", "")
    with pytest.raises(search.SearchError):
        search.parse("", "tomorrow")
