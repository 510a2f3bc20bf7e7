"""Fail closed, lose nothing (issue 10 §6), through the real webhooks, the trained model and
the action server, on SQLite and on PostgreSQL.

The database is made unavailable mid-conversation (the SQLite file held under an exclusive
lock from the test; PostgreSQL refusing connections after ``pg_terminate_backend``; Rasa's
``events`` table locked), then restored: the citizen got the technical-problem reply with the
call centre's number within Twilio's 15 s, Twilio's retry of the same MessageSid gets a real
answer, and the tracker holds every user message exactly once. A Rasa server killed with
SIGKILL between claim and answer is restarted on the same database and the retry is
processed; an answered MessageSid retried gets the same TwiML and no second turn; two first
messages from one new number at once are both answered. A production-mode stack whose private
Redis (rate limits, lock store) is stopped: REST gets 503 with the reason, an SMS the apology.

Measured latencies are printed (``pytest -s``) as ``latency: ...`` lines.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import signal
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from bot.devtools.clients import CallClient, SmsClient, SmsReply, TelegramClient
from tests.support import stack as stack_support
from tests.support.clients import channel_hooks, texting
from tests.support.databases import postgres_admin, postgres_url
from tests.support.environment import CALL_CENTRE, PRODUCTION_SETTINGS
from tests.support.providers import Providers
from tests.support.replicas import PrivateRedis, private_redis
from tests.support.stack import Stack, running_stack
from tests.support.stack_data import execute, query, user_turns
from tests.support.unique import phone, telegram_user
from tests.support.waiting import eventually
from tests.support.web import http

pytestmark = pytest.mark.stack
# This module starts three more stacks; on a loaded machine loading the model takes minutes.
stack_support.STARTUP_SECONDS = max(stack_support.STARTUP_SECONDS, 900)
APOLOGY = f"Sorry, something went wrong. Please try again, or call {CALL_CENTRE}."
TWILIO_LIMIT_SECONDS = 15
def timed(sms: SmsClient, params: dict[str, str], what: str) -> tuple[SmsReply, float]:
    started = time.monotonic()
    reply = sms.post(params)
    seconds = time.monotonic() - started
    print(f"latency: {what}: {seconds:.2f} s")
    return reply, seconds


def answered(reply: SmsReply) -> str:
    """A real answer: 200, at least one message, and not the apology."""
    assert reply.status == 200, reply.raw
    assert reply.bodies and APOLOGY not in reply.bodies, reply.bodies
    return "\n".join(reply.bodies)


def user_texts(stack: Stack, sender: str) -> list[str]:
    """What the tracker holds of the person's messages, in order."""
    rows = query(stack, "SELECT data FROM events WHERE sender_id = :s AND type_name = 'user' "
                        "ORDER BY id", s=sender)
    return [json.loads(data).get("text") for (data,) in rows]


def inbound_row(stack: Stack, channel: str, external_id: str) -> tuple | None:
    rows = query(stack, "SELECT state, seen, reply FROM inbound_messages WHERE channel = :c "
                        "AND external_id = :e", c=channel, e=external_id)
    return rows[0] if rows else None


# --- SQLite: the shared stack ----------------------------------------------------------------

@contextmanager
def sqlite_locked(stack: Stack) -> Iterator[None]:
    """The stack's SQLite file under an exclusive (write) lock held by this test."""
    db = sqlite3.connect(stack.database_url.removeprefix("sqlite:///"), isolation_level=None,
                         timeout=30)
    try:
        db.execute("BEGIN EXCLUSIVE")
        yield
    finally:
        db.execute("ROLLBACK")
        db.close()


def test_a_locked_sqlite_gets_the_apology_in_time_and_the_retry_a_real_answer(
        stack: Stack) -> None:
    sms = texting(stack)
    answered(sms.send("hello"))
    params = sms.params("I want to report a broken streetlight")
    with sqlite_locked(stack):
        reply, seconds = timed(sms, params, "SMS while the SQLite file is locked")
    assert reply.status == 200 and reply.bodies == [APOLOGY]
    assert seconds < TWILIO_LIMIT_SECONDS
    assert inbound_row(stack, "sms", params["MessageSid"]) is None  # not marked processed
    retry, _ = timed(sms, params, "Twilio's retry after the lock")
    answered(retry)
    assert user_texts(stack, sms.phone) == ["hello", "I want to report a broken streetlight"]
    assert inbound_row(stack, "sms", params["MessageSid"])[0] == "answered"


def test_an_answered_message_sid_retried_gets_the_same_reply_and_no_second_turn(
        stack: Stack) -> None:
    sms = texting(stack)
    params = sms.params("what are the opening hours of city hall?")
    first = sms.post(params)
    answered(first)
    turns = user_turns(stack, sms.phone)
    again, _ = timed(sms, params, "retry of an answered MessageSid")
    assert again.status == 200 and again.raw == first.raw
    assert user_turns(stack, sms.phone) == turns == 1
    state, seen, reply = inbound_row(stack, "sms", params["MessageSid"])
    assert (state, seen, reply) == ("answered", 2, first.raw)


def test_two_first_messages_at_once_from_one_new_number_are_both_answered(
        stack: Stack) -> None:
    number = phone()
    start = threading.Barrier(2)
    replies: dict[str, SmsReply] = {}

    def text(body: str) -> None:
        sms = texting(stack, number)
        start.wait()
        replies[body] = sms.send(body)

    threads = [threading.Thread(target=text, args=(body,)) for body in ("hello", "help me")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert set(replies) == {"hello", "help me"}
    for reply in replies.values():
        answered(reply)
    assert query(stack, "SELECT count(*) FROM people WHERE phone = :p", p=number) == [(1,)]
    assert sorted(user_texts(stack, number)) == ["hello", "help me"]


def test_voice_replays_of_a_step_that_is_never_answered_end_with_an_apology_and_dial(
        stack: Stack) -> None:
    """A crash after claiming CallSid:step left the step claimed: the caller hears pauses and
    redirects for a bounded time, then an apology and a <Dial> to the call centre."""
    call = CallClient(channel_hooks(stack), phone())
    until = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) + dt.timedelta(hours=1)
    execute(stack, "INSERT INTO inbound_messages (channel, external_id, state, claimed_until, "
                   "seen, received_at) VALUES ('voice', :e, 'claimed', :u, 1, :u)",
            e=f"{call.call_sid}:0", u=until)
    turns = [call.start() for _ in range(14)]  # requests 2..15 of the step
    assert all(t.status == 200 and t.redirect and not t.says and not t.dial for t in turns)
    last = call.start()  # the 16th: nobody is answering it
    assert last.dial == CALL_CENTRE and "Sorry" in last.text and last.hangup


# --- PostgreSQL: a stack of its own ----------------------------------------------------------

@pytest.fixture(scope="module")
def pg(tmp_path_factory: pytest.TempPathFactory, postgres_template: str,
       providers: Providers) -> Iterator[tuple[Stack, str]]:
    """A stack whose data and tracker store are on a PostgreSQL database of its own; and the
    database's name."""
    name = f"civicline_failclosed_{secrets.token_hex(6)}"
    postgres_admin(f'CREATE DATABASE "{name}" TEMPLATE "{postgres_template}"')
    try:
        with running_stack(tmp_path_factory.mktemp("pgfail"), extra_env=providers.env,
                           database_url=postgres_url(name)) as running:
            running.providers = providers
            yield running, name
    finally:
        postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def postgres_down(name: str) -> Iterator[None]:
    """The database refuses new connections and every open one is terminated; then back."""
    postgres_admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
    postgres_admin(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                   f"WHERE datname = '{name}' AND pid <> pg_backend_pid()")
    try:
        yield
    finally:
        postgres_admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')


@contextmanager
def events_locked(url: str) -> Iterator[None]:
    """Rasa's events table locked (ACCESS EXCLUSIVE) by a transaction of this test: only the
    tracker store is stuck, CivicLine's own tables answer."""
    engine = create_engine(url)
    connection = engine.connect()
    transaction = connection.begin()
    try:
        connection.execute(text("LOCK TABLE events IN ACCESS EXCLUSIVE MODE"))
        yield
    finally:
        transaction.rollback()
        connection.close()
        engine.dispose()


def test_postgres_terminated_mid_conversation_then_restored(pg: tuple[Stack, str]) -> None:
    stack, name = pg
    sms = texting(stack)
    answered(sms.send("hello"))
    params = sms.params("I want to report a pothole")
    with postgres_down(name):
        reply, seconds = timed(sms, params, "SMS while PostgreSQL refuses connections")
        status, body, _ = http("GET", f"{stack.url}/ready", timeout=20)
    assert reply.status == 200 and reply.bodies == [APOLOGY]
    assert seconds < TWILIO_LIMIT_SECONDS
    assert status == 503 and body["database"] is False and body["tracker_store"] is False
    assert body["model"] is True
    retry, _ = timed(sms, params, "Twilio's retry once PostgreSQL is back")
    answered(retry)
    assert user_texts(stack, sms.phone) == ["hello", "I want to report a pothole"]
    assert http("GET", f"{stack.url}/ready")[0] == 200


def test_a_stuck_tracker_store_fails_closed_not_into_memory(pg: tuple[Stack, str]) -> None:
    stack, _name = pg
    sms = texting(stack)
    answered(sms.send("hello"))
    answered(sms.send("I want to report a broken streetlight"))
    params = sms.params("it is on Main Street near the school")
    marks = stack.log_marks()
    with events_locked(stack.database_url):
        reply, seconds = timed(sms, params, "SMS while the tracker store's table is locked")
        status, body, _ = http("GET", f"{stack.url}/ready", timeout=20)
    assert reply.status == 200 and reply.bodies == [APOLOGY]
    assert seconds < TWILIO_LIMIT_SECONDS
    assert (status, body["database"], body["tracker_store"]) == (503, True, False)
    logs = stack.logs_since(marks)
    assert "InMemoryTrackerStore" not in logs and "TrackerStoreUnavailable" in logs
    assert inbound_row(stack, "sms", params["MessageSid"])[0] == "failed"
    retry, _ = timed(sms, params, "Twilio's retry once the table is free")
    answered(retry)
    assert user_texts(stack, sms.phone) == [
        "hello", "I want to report a broken streetlight", "it is on Main Street near the school"]
    # The form goes on where it was: nothing was forgotten.
    assert inbound_row(stack, "sms", params["MessageSid"])[:2] == ("answered", 2)


def test_telegram_gets_the_apology_sent_and_its_retry_is_processed(
        pg: tuple[Stack, str]) -> None:
    stack, _name = pg
    assert stack.providers is not None
    client = TelegramClient(channel_hooks(stack), telegram_user())
    update = client.update(message=client.message(text="hello"))
    with events_locked(stack.database_url):
        started = time.monotonic()
        status, body = client.post(update)
        print(f"latency: Telegram update while the tracker store is stuck: "
              f"{time.monotonic() - started:.2f} s")
    assert status == 200 and [r["text"] for r in body["replies"]] == [APOLOGY]
    sent = stack.providers.messages("sendMessage", chat_id=client.user_id)
    assert [m["text"] for m in sent] == [APOLOGY]  # the person is told, in the chat
    status, body = client.post(update)  # Telegram's retry of the same update
    assert status == 200 and body["replies"] and APOLOGY not in [r["text"] for r in
                                                                 body["replies"]]
    assert user_texts(stack, f"tg:{client.user_id}") == ["hello"]
    assert len(stack.providers.messages("sendMessage", chat_id=client.user_id)) == 1 + len(
        body["replies"])


def test_a_server_killed_between_claim_and_answer_processes_the_retry_after_restart(
        tmp_path_factory: pytest.TempPathFactory, postgres_template: str,
        providers: Providers) -> None:
    name = f"civicline_crash_{secrets.token_hex(6)}"
    postgres_admin(f'CREATE DATABASE "{name}" TEMPLATE "{postgres_template}"')
    url = postgres_url(name)
    number = phone()
    try:
        slow = {**providers.env, "CIVICLINE_TRACKER_TIMEOUT_SECONDS": "120",
                "CIVICLINE_INBOUND_LEASE_SECONDS": "5"}
        with running_stack(tmp_path_factory.mktemp("crash1"), extra_env=slow,
                           database_url=url) as first:
            sms = texting(first, number)
            params = sms.params("hello")
            outcome: dict[str, object] = {}

            def deliver() -> None:
                try:
                    outcome["reply"] = sms.post(params)
                except OSError as exc:  # the server dies under the request
                    outcome["error"] = exc

            with events_locked(url):  # the turn hangs reading the conversation
                thread = threading.Thread(target=deliver)
                thread.start()
                deadline = time.monotonic() + 60
                while inbound_row(first, "sms", params["MessageSid"]) is None:
                    assert time.monotonic() < deadline, "the message was never claimed"
                    time.sleep(0.1)
                assert inbound_row(first, "sms", params["MessageSid"])[0] == "claimed"
                rasa = first.processes[-1]
                os.killpg(rasa.pid, signal.SIGKILL)
                rasa.wait(20)
                thread.join(30)
            assert "reply" not in outcome or outcome["reply"].status != 200  # no answer
        # The second server also answers within a short budget while the database waits
        # longer than that (below).
        budget = {**providers.env, "CIVICLINE_WEBHOOK_BUDGET_SECONDS": "6",
                  "CIVICLINE_TRACKER_TIMEOUT_SECONDS": "60"}
        with running_stack(tmp_path_factory.mktemp("crash2"), extra_env=budget,
                           database_url=url) as second:
            assert inbound_row(second, "sms", params["MessageSid"])[0] == "claimed"
            sms = texting(second, number)
            retry, _ = timed(sms, params, "Twilio's retry after the restart")
            answered(retry)
            assert user_texts(second, number) == ["hello"]
            assert inbound_row(second, "sms", params["MessageSid"])[:2] == ("answered", 2)
            _a_turn_over_budget_answers_in_time_and_finishes_behind(second, sms, url)
    finally:
        postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _a_turn_over_budget_answers_in_time_and_finishes_behind(stack: Stack, sms: SmsClient,
                                                             url: str) -> None:
    """The conversation store waits longer than the webhook may (6 s here): the webhook
    answers with the apology in time, the turn finishes when the database is free and is
    recorded, and Twilio's retry gets that answer, not a second turn."""
    params = sms.params("what are the opening hours of city hall?")
    with events_locked(url):
        reply, seconds = timed(sms, params, "SMS over the webhook's 6 s budget")
    assert reply.bodies == [APOLOGY] and seconds < 10
    deadline = time.monotonic() + 60
    while inbound_row(stack, "sms", params["MessageSid"])[0] != "answered":
        assert time.monotonic() < deadline, "the turn never finished"
        time.sleep(0.2)
    retry = sms.post(params)
    answered(retry)
    assert retry.raw == inbound_row(stack, "sms", params["MessageSid"])[2]
    assert user_texts(stack, sms.phone) == ["hello", "what are the opening hours of city hall?"]


def test_the_staff_api_answers_503_while_the_stores_are_down_then_works(
        pg: tuple[Stack, str]) -> None:
    """Staff calls that touch a conversation or the database get a 503 with a reason while the
    conversation store or the database is down (never a 500), and work once they are back."""
    stack, name = pg
    number = phone()
    outreach = {"phone": number, "task": "status"}
    with events_locked(stack.database_url):
        status, body = stack.api("POST", "/api/outreach", outreach, timeout=30)
    assert status == 503 and "conversation store" in body["error"], (status, body)
    with postgres_down(name):
        status, body = stack.api("GET", "/api/cases/40217382", timeout=30)
    assert status == 503 and "database" in body["error"], (status, body)
    assert stack.api("GET", "/api/cases/40217382")[0] == 200
    status, body = stack.api("POST", "/api/outreach", outreach)
    assert status == 200 and body["delivered"] is True, (status, body)


# --- Redis down: the REST channel's rate limits, in production --------------------------------

REST_TOKEN = "test-rest-token-" + "r" * 16


@pytest.fixture(scope="module")
def production_redis(tmp_path_factory: pytest.TempPathFactory
                     ) -> Iterator[tuple[Stack, PrivateRedis]]:
    """A stack in production mode (the REST channel behind CIVICLINE_REST_TOKEN) whose rate
    limits and lock store are a private redis-server, so that the test can stop it."""
    env = {k: v for k, v in PRODUCTION_SETTINGS.items() if k != "PUBLIC_BASE_URL"}
    with private_redis(tmp_path_factory.mktemp("redis")) as redis_server, \
            running_stack(tmp_path_factory.mktemp("production-redis"),
                          extra_env={**env, "REDIS_URL": redis_server.url,
                                     "CIVICLINE_REST_TOKEN": REST_TOKEN}) as up:
        yield up, redis_server


def rest_post(stack: Stack, sender: str, text: str) -> tuple[int, Any, dict[str, str], float]:
    started = time.monotonic()
    status, body, headers = http("POST", f"{stack.url}/webhooks/rest/webhook",
                                 {"sender": sender, "message": text},
                                 headers={"Authorization": f"Bearer {REST_TOKEN}"}, timeout=30)
    return status, body, headers, time.monotonic() - started


def test_rest_with_redis_down_is_refused_503_with_a_reason_in_time_then_works(
        production_redis: tuple[Stack, PrivateRedis]) -> None:
    """The rate limits cannot be counted while Redis is down: the REST channel fails closed
    (503, the reason, Retry-After), within seconds, never a 500; an SMS gets the apology (its
    message unprocessed, for Twilio's retry); with Redis back REST answers again."""
    stack, redis_server = production_redis
    sender = f"web-{secrets.token_hex(4)}"
    status, body, _, _ = rest_post(stack, sender, "hello")
    assert status == 200 and body and body[0].get("text"), (status, body)
    redis_server.stop()
    try:
        marks = stack.log_marks()
        for text in ("hello", "where is the nearest office"):
            status, body, headers, seconds = rest_post(stack, sender, text)
            print(f"latency: REST with Redis down: {seconds:.2f} s")
            assert status == 503, (status, body)
            assert "rate limits cannot be checked" in body["error"], body
            assert headers.get("Retry-After") == "30", headers
            assert seconds < TWILIO_LIMIT_SECONDS, seconds
        sms = texting(stack)
        reply, seconds = timed(sms, sms.params("hello"), "SMS with Redis down")
        assert reply.status == 200 and reply.bodies == [APOLOGY], reply.raw  # Twilio retries
        assert seconds < TWILIO_LIMIT_SECONDS, seconds
        logged = stack.logs_since(marks)
        assert "rate limits cannot be counted (CountersUnavailable)" in logged
        assert "Exception occurred while handling uri" not in logged  # Sanic's 500
    finally:
        redis_server.start()
    status, body = eventually(lambda: _answered_rest(stack, sender),
                              "REST answers once Redis is back", 30, 0.5)
    assert status == 200 and body[0].get("text"), (status, body)


def _answered_rest(stack: Stack, sender: str) -> tuple[int, Any] | None:
    status, body, _, _ = rest_post(stack, sender, "hello")
    return (status, body) if status == 200 else None
