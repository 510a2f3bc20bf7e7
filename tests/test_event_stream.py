"""Rasa's events through RabbitMQ into ``conversation_events`` (issue 12 §2), on the real
RabbitMQ (127.0.0.1:5672, guest) with a queue of each test's own.

- What is kept of an event: names, channel, confidence, time; never a message's text.
- The consumer (`python -m bot events consume`, a real process) killed mid-stream and started
  again records every published event exactly once.
- The Rasa server with ``RABBITMQ_URL`` publishes every event its tracker store saves; without
  it there is no broker and the consumer says why.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import aio_pika
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from rasa.core.brokers.broker import EventBroker
from rasa.core.utils import AvailableEndpoints
from sqlalchemy import func, inspect, select

from bot.cli.events import declare, write_batch
from bot.config import get_settings
from bot.domain import retention
from bot.store import event_stream
from bot.store.db import get_engine, session_scope
from bot.store.migrate import alembic_config
from bot.store.models import Base, ConversationEvent
from tests.support.environment import ROOT, base_env
from tests.support.providers import Providers
from tests.support.stack import Stack, running_stack
from tests.support.stack_data import query

RABBITMQ_URL = os.environ.get("CIVICLINE_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")


def rasa_events(sender: str, turns: int, start: float) -> list[dict[str, Any]]:
    """A conversation's events as Rasa's Pika broker publishes them (text and all)."""
    events: list[dict[str, Any]] = [
        {"event": "action", "name": "action_session_start", "timestamp": start},
        {"event": "session_started", "timestamp": start + 0.001},
        {"event": "slot", "name": "language", "value": "es", "timestamp": start + 0.002}]
    for turn in range(turns):
        at = start + 1 + turn
        events += [
            {"event": "user", "timestamp": at, "text": f"mi número es {sender} ({turn})",
             "input_channel": "sms", "message_id": secrets.token_hex(8),
             "parse_data": {"intent": {"name": "check_status", "confidence": 0.93},
                            "entities": [], "text": f"mi número es {sender}"}},
            {"event": "slot", "name": "case_reference", "value": "CL-1234-5678",
             "timestamp": at + 0.1},
            {"event": "action", "name": "action_check_status", "confidence": 0.88,
             "policy": "RulePolicy", "timestamp": at + 0.2},
            {"event": "bot", "text": "Su caso está en revisión.", "timestamp": at + 0.3},
            {"event": "action", "name": "action_listen", "timestamp": at + 0.4}]
    return [{"sender_id": sender, **event} for event in events]


async def publish(queue: str, events: list[dict[str, Any]]) -> None:
    """Publish as Rasa's Pika broker does: JSON, persistent, to the fanout exchange."""
    connection = await aio_pika.connect_robust(RABBITMQ_URL)
    async with connection:
        channel = await connection.channel()
        await declare(channel, queue)
        exchange = await channel.get_exchange(queue)
        for event in events:
            await exchange.publish(aio_pika.Message(
                json.dumps(event).encode(),
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT), "")


async def waiting(queue: str) -> int:
    connection = await aio_pika.connect_robust(RABBITMQ_URL)
    async with connection:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, durable=True, passive=True)
        return declared.declaration_result.message_count or 0


async def delete_queue(queue: str) -> None:
    connection = await aio_pika.connect_robust(RABBITMQ_URL)
    async with connection:
        channel = await connection.channel()
        await channel.queue_delete(queue)
        await channel.exchange_delete(queue)


@pytest.fixture
def queue(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A queue (and exchange) of this test's own, deleted afterwards."""
    name = f"civicline_test_{secrets.token_hex(4)}"
    monkeypatch.setenv("CIVICLINE_EVENTS_QUEUE", name)
    yield name
    asyncio.run(delete_queue(name))


def consumer_env(database_url: str, queue: str) -> dict[str, str]:
    return {**base_env(database_url), "RABBITMQ_URL": RABBITMQ_URL,
            "CIVICLINE_EVENTS_QUEUE": queue}


def recorded() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(ConversationEvent)) or 0


# --- What is kept ------------------------------------------------------------------------------

def test_an_event_keeps_what_the_analytics_read_and_no_text() -> None:
    events = rasa_events("+15550123456", 1, 1_700_000_000.0)
    rows = [event_stream.summarise(e) for e in events]
    by_type = {(r["type_name"], r["name"]): r for r in rows}
    user = by_type[("user", "check_status")]
    assert (user["input_channel"], user["confidence"]) == ("sms", 0.93)
    assert by_type[("slot", "language")]["value"] == "es"
    assert by_type[("slot", "case_reference")]["value"] is None  # not a kept slot
    assert by_type[("action", "action_check_status")]["confidence"] == 0.88
    assert not any("número" in str(v) or "revisión" in str(v) for r in rows for v in r.values())
    for bad in (b"not json", b"[1, 2]", b'{"event": "user"}'):
        with pytest.raises(event_stream.BadEvent):
            event_stream.parse(bad)


def test_a_batch_delivered_again_is_counted_once(database: str) -> None:
    bodies = [json.dumps(e).encode()
              for e in rasa_events("+15550123457", 3, 1_700_000_000.0)]
    assert write_batch([*bodies, b"garbage"]) == (len(bodies), 1)
    assert write_batch(bodies[:5]) == (0, 0)
    assert recorded() == len(bodies)


def test_purge_and_erase_take_the_analytics_rows_too(database: str) -> None:
    old = [json.dumps(e).encode() for e in rasa_events("+15550123460", 2, 1_600_000_000.0)]
    recent = [json.dumps(e).encode() for e in rasa_events("+15550123461", 2, time.time())]
    write_batch(old + recent)
    with session_scope() as session:
        purged = retention.purge(session, dt.timedelta(days=30), actor="test")
        assert purged["analytics events"] == len(old)
    assert recorded() == len(recent)
    with session_scope() as session:
        erased = retention.erase(session, "+15550123461", actor="test")
        assert erased.counts["analytics events"] == len(recent)
    assert recorded() == 0


def test_migration_0009_matches_the_model_and_downgrades(database: str) -> None:
    with get_engine().connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [d for d in diff if "conversation_events" in repr(d)] == []
    config = alembic_config(database)
    command.downgrade(config, "0008")
    with get_engine().connect() as connection:
        assert not inspect(connection).has_table("conversation_events")
    command.upgrade(config, "head")
    with get_engine().connect() as connection:
        assert inspect(connection).has_table("conversation_events")


# --- The consumer, killed and started again ----------------------------------------------------

@pytest.mark.slow  # a real consumer process, killed and started again
def test_the_consumer_killed_mid_stream_counts_every_event_once(database: str,
                                                                 queue: str) -> None:
    senders = [f"+1555020{i:04d}" for i in range(200)]
    published = [e for i, s in enumerate(senders) for e in rasa_events(s, 9, 1_700_000_000.0 + i)]
    asyncio.run(publish(queue, published))
    assert asyncio.run(waiting(queue)) == len(published)  # 9,600 events, before any consumer

    command = [sys.executable, "-m", "bot", "events", "consume"]
    env = consumer_env(database, queue)
    first = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while recorded() < 2000:
        assert first.poll() is None, first.stderr.read().decode() if first.stderr else ""
        assert time.monotonic() < deadline, "the consumer recorded nothing"
        time.sleep(0.01)
    first.send_signal(signal.SIGKILL)
    first.wait()
    midway = recorded()
    print(f"\nkilled with {midway} of {len(published)} events recorded")
    assert 2000 <= midway < len(published)

    again = subprocess.run([*command, "--idle-exit", "2"], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert recorded() == len(published)
    assert asyncio.run(waiting(queue)) == 0
    with session_scope() as session:
        rows = session.execute(select(ConversationEvent.sender_id, ConversationEvent.type_name,
                                      ConversationEvent.name, ConversationEvent.timestamp)).all()
    assert Counter(rows) == Counter(
        (e["sender_id"], e["event"], e.get("name") or (e.get("parse_data") or {}).get(
            "intent", {}).get("name"), e["timestamp"]) for e in published)


# --- endpoints.yml and the Rasa server ---------------------------------------------------------

def test_without_rabbitmq_url_there_is_no_broker_and_the_consumer_says_why(
        monkeypatch: pytest.MonkeyPatch, database: str) -> None:
    monkeypatch.setenv("ACTION_ENDPOINT_URL", "http://127.0.0.1:5055/webhook")
    monkeypatch.setenv("CIVICLINE_ACTION_SECRET", "secret")
    monkeypatch.delenv("RABBITMQ_URL", raising=False)
    get_settings.cache_clear()
    config = AvailableEndpoints.read_endpoints(str(ROOT / "endpoints.yml")).event_broker
    assert asyncio.run(EventBroker.create(config)) is None
    result = subprocess.run([sys.executable, "-m", "bot", "events", "consume"], cwd=ROOT,
                            env=base_env(database), capture_output=True, text=True)
    assert result.returncode == 2 and "RABBITMQ_URL is not set" in result.stderr


@pytest.fixture(scope="module")
def broker_stack(tmp_path_factory: pytest.TempPathFactory,
                 providers: Providers) -> Iterator[tuple[Stack, str]]:
    """The real stack publishing to a queue of its own."""
    name = f"civicline_test_{secrets.token_hex(4)}"
    env = {**providers.env, "RABBITMQ_URL": RABBITMQ_URL, "CIVICLINE_EVENTS_QUEUE": name}
    try:
        with running_stack(tmp_path_factory.mktemp("broker"), extra_env=env) as stack:
            yield stack, name
    finally:
        asyncio.run(delete_queue(name))


@pytest.mark.stack
@pytest.mark.own_stack
def test_every_event_the_rasa_server_saves_is_recorded_once(
        broker_stack: tuple[Stack, str]) -> None:
    stack, name = broker_stack
    sender = f"+1555030{secrets.randbelow(10**4):04d}"
    for text in ("hello", "what is the status of my application", "thanks, bye"):
        assert stack.say(sender, text)
    consumer = subprocess.Popen([sys.executable, "-m", "bot", "events", "consume"], cwd=ROOT,
                                env=consumer_env(stack.database_url, name),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sql_events = "SELECT type_name, coalesce(intent_name, action_name), timestamp FROM events " \
                 "WHERE sender_id = :s ORDER BY id"
    sql_recorded = "SELECT type_name, name, timestamp FROM conversation_events " \
                   "WHERE sender_id = :s"
    try:
        deadline = time.monotonic() + 60
        while len(query(stack, sql_recorded, s=sender)) < len(query(stack, sql_events, s=sender)):
            assert time.monotonic() < deadline, "the published events were not all recorded"
            time.sleep(0.1)
    finally:
        consumer.send_signal(signal.SIGTERM)
        consumer.wait(timeout=20)
    saved = sorted(tuple(row) for row in query(stack, sql_events, s=sender))
    assert sorted(tuple(row) for row in query(stack, sql_recorded, s=sender)) == saved
    assert Counter(kind for kind, _, _ in saved)["user"] == 3
    texts = query(stack, "SELECT count(*) FROM conversation_events WHERE sender_id = :s AND "
                  "(name LIKE '%status of my%' OR value LIKE '%status of my%')", s=sender)
    assert texts[0][0] == 0
