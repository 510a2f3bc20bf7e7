"""The operators' analytics (issue 14 §1) on a generated data set whose figures are known:
read from Rasa's own events table and from the event stream's rows, folded live and from the
daily rollups, per channel and language."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.analytics import fold, report, rollup
from bot.config import get_settings
from bot.store import event_stream
from bot.store.db import session_scope
from bot.store.tracker_events import REPLAYED
from server.console.analytics import as_csv, period_of
from tests.support.analytics_data import (
    Talk,
    known_talks,
    write_known,
    write_stream,
    write_tracker,
)

TODAY = dt.datetime.now(dt.timezone.utc).date()
DAY = TODAY - dt.timedelta(days=10)
NOON = dt.datetime.combine(DAY, dt.time(12))
PERIOD = report.Period(DAY - dt.timedelta(days=2), TODAY)


@pytest.fixture(params=["tracker", "stream"])
def known(request, database: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The data set in the database, its events where ``request.param`` says."""
    if request.param == "stream":
        monkeypatch.setenv("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
        get_settings.cache_clear()
    with session_scope() as session:
        write_known(session, known_talks(NOON), request.param)
    yield request.param
    get_settings.cache_clear()


def tables(period: report.Period = PERIOD, roll: bool = False) -> dict[str, report.Table]:
    with session_scope() as session:
        if roll:
            assert rollup.catch_up(session) >= 1
        return {t.name: t for t in report.build(session, period)}


def rows_by_place(table: report.Table) -> dict[tuple[str, str], dict]:
    return {(row["channel"], row["language"]): row for row in table.rows}


@pytest.mark.parametrize("roll", [False, True], ids=["live", "rolled"])
def test_the_figures_equal_the_hand_counted_ones(known: str, roll: bool) -> None:
    result = tables(roll=roll)
    overview = rows_by_place(result["conversations"])
    assert overview[("sms", "en")] == {"channel": "sms", "language": "en", "conversations": 10,
                                       "handed_off": 3, "containment": 70.0,
                                       "handoff_rate": 30.0}
    assert overview[("telegram", "es")] == {
        "channel": "telegram", "language": "es", "conversations": 4, "handed_off": 1,
        "containment": 75.0, "handoff_rate": 25.0}
    understanding = rows_by_place(result["understanding"])
    # SMS: 5×3 + 5×2 messages, plus 3+3+1+2 form answers = 34; 5 not understood.
    assert understanding[("sms", "en")]["messages"] == 34
    assert understanding[("sms", "en")]["not_understood"] == 5
    assert understanding[("sms", "en")]["understanding"] == 85.3
    assert understanding[("telegram", "es")]["understanding"] == 100.0
    reasons = {(r["channel"], r["reason"]): r["handoffs"] for r in result["handoff_reasons"].rows}
    assert reasons == {("sms", "request_human"): 2, ("sms", "fallback"): 1,
                       ("telegram", "request_human"): 1}
    waits = rows_by_place(result["waits"])
    assert waits[("sms", "en")] == {"channel": "sms", "language": "en", "taken": 3,
                                    "not_taken": 0, "p50": 4.0, "p90": 10.0}
    assert waits[("telegram", "es")]["not_taken"] == 1 and waits[("telegram", "es")]["p50"] is None
    funnel = [(r["step"], r["people"], r["share"], r["left"]) for r in result["funnels"].rows]
    assert funnel == [("started", 4, 100.0, 0), ("problem_kind", 4, 100.0, 1),
                      ("problem_place", 3, 75.0, 1), ("contact_preference", 2, 50.0, 0),
                      ("completed", 2, 50.0, None)]
    notifications = rows_by_place(result["notifications"])
    # 10 sent: 7 delivered, 2 not delivered, 1 without a final receipt; 1 failed to send.
    assert notifications[("sms", "en")] == {
        "channel": "sms", "language": "en", "sent": 10, "delivered": 7, "undelivered": 2,
        "unconfirmed": 1, "delivery_rate": 70.0, "failed": 1, "skipped": 0, "pending": 0}
    assert notifications[("telegram", "es")] == {
        "channel": "telegram", "language": "es", "sent": 1, "delivered": 0, "undelivered": 0,
        "unconfirmed": 1, "delivery_rate": 0.0, "failed": 0, "skipped": 1, "pending": 0}
    sms = {(r["language"], r["kind"]): (r["messages"], r["segments"]) for r in result["sms"].rows}
    assert sms == {("en", "reply"): (2, 3), ("ar", "later"): (1, 2)}


def test_the_notifications_delivered_on_postgresql(postgres_database: str) -> None:
    """The delivery join (one-part texts in SQL, several-part ones part by part) on
    PostgreSQL: the same known figures."""
    with session_scope() as session:
        write_known(session, known_talks(NOON), "stream")
    notifications = rows_by_place(tables()["notifications"])
    assert [notifications[("sms", "en")][k] for k in
            ("sent", "delivered", "undelivered", "unconfirmed", "delivery_rate", "failed")] == \
        [10, 7, 2, 1, 70.0, 1]


def test_a_filter_keeps_one_channel_or_language(known: str) -> None:
    telegram = tables(report.Period(PERIOD.first, PERIOD.last, channel="telegram"))
    assert [(r["channel"], r["conversations"]) for r in telegram["conversations"].rows] == \
        [("telegram", 4)]
    assert telegram["funnels"].rows == []
    english = tables(report.Period(PERIOD.first, PERIOD.last, language="en"), roll=True)
    assert [r["language"] for r in english["conversations"].rows] == ["en"]
    assert english["sms"].rows[0]["segments"] == 3


def test_a_period_without_the_day_counts_nothing(known: str) -> None:
    before = tables(report.Period(DAY - dt.timedelta(days=5), DAY - dt.timedelta(days=1)))
    assert all(not table.rows for table in before.values())


def test_a_conversation_is_counted_again_on_another_day(known: str) -> None:
    later = Talk("+15557770000", "sms", "en", NOON + dt.timedelta(days=1))
    with session_scope() as session:
        (write_stream if known == "stream" else write_tracker)(session, [later.says("hi", "greet")])
    overview = rows_by_place(tables(roll=True)["conversations"])
    assert overview[("sms", "en")]["conversations"] == 11


def test_the_csv_holds_the_table_with_headings(known: str) -> None:
    lines = as_csv(tables()["conversations"]).splitlines()
    assert lines[0] == ("Channel,Language,Conversations,Handed to a person,Containment (%),"
                        "Hand-off rate (%)")
    assert "sms,en,10,3,70.0,30.0" in lines
    assert "telegram,es,4,1,75.0,25.0" in lines


def test_the_page_refuses_a_bad_period() -> None:
    from server.http import InputError

    for args, message in (({"from": "yesterday"}, "dates must look like"),
                          ({"from": "2026-11-30", "to": "2026-11-01"}, "after its last"),
                          ({"from": "2024-01-01", "to": "2026-01-01"}, "at most 400 days"),
                          ({"channel": "fax"}, "no such channel"),
                          ({"language": "de"}, "no such language")):
        with pytest.raises(InputError, match=message):
            period_of(args)
    assert period_of({}, TODAY).days == 30


def test_migration_0015_matches_the_models_and_downgrades(database: str) -> None:
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import inspect

    from bot.store.db import get_engine
    from bot.store.migrate import alembic_config
    from bot.store.models import Base

    mine = ("analytics_daily", "analytics_rolled_days", "sms_usage", "learn_labels",
            "ix_handoffs_created_at", "ix_outbox_created_at")
    with get_engine().connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [d for d in diff if any(name in repr(d) for name in mine)] == []
    command.downgrade(alembic_config(database), "0014")
    with get_engine().connect() as connection:
        assert not inspect(connection).has_table("analytics_daily")
    command.upgrade(alembic_config(database), "head")
    with get_engine().connect() as connection:
        assert inspect(connection).has_table("learn_labels")


def test_sms_sent_are_counted_per_day_language_and_kind(session) -> None:
    from bot.analytics import usage
    from bot.store.models import SmsUsage

    usage.record_sms(session, "fr", usage.REPLY, ["Bonjour", "é" * 161])
    usage.record_sms(session, "fr", usage.REPLY, ["ç"])
    usage.record_sms(session, None, usage.LATER, [""])
    rows = [(r.language, r.kind, r.messages, r.segments) for r in session.query(SmsUsage)]
    assert rows == [("fr", "reply", 3, 4)]  # 1 + 2 (161 GSM-7 septets) + 1 (UCS-2)


def test_the_first_message_answered_again_after_the_language_menu_counts_once() -> None:
    stamp = NOON.replace(tzinfo=dt.timezone.utc).timestamp()
    first = {"event": "user", "text": "salam bghit nchouf dossier", "input_channel": "sms",
             "parse_data": {"intent": {"name": "check_application_status", "confidence": 0.6}},
             "timestamp": stamp}
    events = [first,
              {"event": "bot", "text": "1. English 2. Español 3. Français 4. العربية",
               "timestamp": stamp + 1},
              {"event": "user", "text": "4", "input_channel": "sms", "timestamp": stamp + 2,
               "parse_data": {"intent": {"name": "change_language", "confidence": 1.0}}},
              {"event": "slot", "name": "language", "value": "ar", "timestamp": stamp + 3},
              {**first, "timestamp": stamp + 4, "metadata": {REPLAYED: True}}]
    rows = [event_stream.summarise(event, "+15550100077") for event in events]
    assert [row["type_name"] for row in rows] == [
        "user", "bot", "user", "slot", event_stream.REPLAYED_USER]
    assert fold.fold(rows)[(DAY, "sms", "ar", "messages", "")] == 2  # not 3
