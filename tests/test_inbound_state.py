"""Lose nothing, answer nothing twice (issue 10 §6), at the database: the inbound record's
states, race-free ``people.get_or_create``, and outbox claims that outlive a hung provider.

Real SQLite here; tests/test_postgres.py runs this module again on PostgreSQL, where the
concurrent inserts really run in parallel.
"""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time

import pytest
from sqlalchemy import select, update

from bot.domain import notifications, people
from bot.messaging import inbound
from bot.store.db import session_scope
from bot.store.models import InboundMessage, OutboxMessage, Person, utcnow
from server import api


def row(channel: str, external_id: str) -> InboundMessage:
    with session_scope() as session:
        return session.scalar(select(InboundMessage).where(
            InboundMessage.channel == channel, InboundMessage.external_id == external_id))


def test_an_answered_message_gives_its_reply_again(database: str) -> None:
    assert inbound.claim("sms", "SM-a").ours
    inbound.answered("sms", "SM-a", "<Response><Message>Hi</Message></Response>")
    again = inbound.claim("sms", "SM-a")
    assert (again.outcome, again.reply, again.seen) == (
        inbound.ANSWERED, "<Response><Message>Hi</Message></Response>", 2)
    assert row("sms", "SM-a").state == inbound.ANSWERED


def test_a_failed_turn_is_run_again_by_the_retry(database: str) -> None:
    assert inbound.claim("sms", "SM-f").ours
    assert inbound.claim("sms", "SM-f").outcome == inbound.BUSY  # while its turn runs
    assert inbound.release("sms", "SM-f")
    assert row("sms", "SM-f").state == inbound.FAILED
    retry = inbound.claim("sms", "SM-f")
    assert retry.ours and retry.seen == 3
    assert row("sms", "SM-f").state == inbound.CLAIMED


def test_a_claim_whose_process_died_is_taken_again_after_its_lease(database: str) -> None:
    assert inbound.claim("voice", "CA1:3").ours
    assert inbound.claim("voice", "CA1:3").outcome == inbound.BUSY
    with session_scope() as session:  # the lease ran out: the claiming process died
        session.execute(update(InboundMessage).values(
            claimed_until=utcnow() - dt.timedelta(seconds=1)))
    assert inbound.claim("voice", "CA1:3").ours
    assert inbound.claim("voice", "CA1:3").outcome == inbound.BUSY  # the new claim holds


def test_an_answer_is_never_taken_over(database: str) -> None:
    assert inbound.claim("telegram", "77").ours
    inbound.answered("telegram", "77", "[]")
    with session_scope() as session:
        session.execute(update(InboundMessage).values(
            claimed_until=utcnow() - dt.timedelta(hours=1)))
    assert inbound.release("telegram", "77")  # a late failure does not undo an answer
    assert inbound.claim("telegram", "77").outcome == inbound.ANSWERED


def test_rows_from_before_the_migration_count_as_answered(database: str) -> None:
    from sqlalchemy import text

    with session_scope() as session:
        session.execute(text("INSERT INTO inbound_messages (channel, external_id, received_at)"
                             " VALUES ('sms', 'SM-old', :now)"), {"now": utcnow()})
    assert inbound.claim("sms", "SM-old").outcome == inbound.ANSWERED


def _first_contact_race(sender: str) -> list[int]:
    """Two transactions create the person behind ``sender`` at once: the first inserts and
    holds its transaction open while the second inserts too; both must end with one person."""
    inserted, second_started = threading.Event(), threading.Event()
    ids: list[int] = []
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with session_scope() as session:
                ids.append(people.get_or_create(session, sender).id)
                inserted.set()
                second_started.wait(10)
                time.sleep(0.5)  # the second is now waiting on our uncommitted insert
        except BaseException as exc:  # reported below
            errors.append(exc)
            inserted.set()

    def second() -> None:
        try:
            inserted.wait(10)
            second_started.set()
            with session_scope() as session:
                ids.append(people.get_or_create(session, sender).id)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    return ids


@pytest.mark.parametrize("sender", ["+15550440001", "tg:440002", "web-440003"])
def test_two_first_messages_at_once_make_one_person(database: str, sender: str) -> None:
    ids = _first_contact_race(sender)
    assert len(ids) == 2 and ids[0] == ids[1]
    with session_scope() as session:
        assert len(session.scalars(select(Person).where(Person.id == ids[0])).all()) == 1
        assert people.find(session, sender).id == ids[0]


# --- outbox: a hung provider and two dispatchers ---------------------------------------------
# (``hung_provider``, tests/conftest.py: a Twilio stand-in that accepts and never answers)

@pytest.mark.slow
def test_a_hung_provider_times_out_and_a_second_dispatcher_does_not_send_again(
        hung_provider: list[socket.socket]) -> None:
    code, body = api._patch_case("40217382", {"status": "approved"})
    assert code == 200, body
    outcome: dict[str, object] = {}

    def first() -> None:
        started = time.monotonic()
        outcome["first"] = notifications.dispatch_due()
        outcome["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=first)
    thread.start()
    deadline = time.monotonic() + 10
    while not hung_provider and time.monotonic() < deadline:
        time.sleep(0.05)
    assert hung_provider, "the first dispatcher never reached the provider"
    # While the first one's send hangs, a second dispatcher keeps polling: nothing is due,
    # although the configured lease (1 s) is long over.
    rounds = []
    while thread.is_alive():
        rounds.append(notifications.dispatch_due())
        time.sleep(0.2)
    thread.join()
    print(f"latency: a send to the hung provider gave up after {outcome['seconds']:.2f} s; "
          f"the second dispatcher polled {len(rounds)} times meanwhile")
    assert rounds and all(r == {} for r in rounds), rounds
    assert outcome["first"] == {"pending": 1}  # timed out: a retryable failure, recorded
    assert 1.5 < outcome["seconds"] < 8, outcome  # the 2 s timeout, not for ever
    assert len(hung_provider) == 1  # one attempt reached the provider
    with session_scope() as session:
        [message] = session.scalars(select(OutboxMessage)).all()
        assert (message.status, message.attempts) == ("pending", 1)
        assert "could not be reached" in message.last_error
    assert notifications.dispatch_due() == {}  # backing off: nothing sent again now


def test_the_lease_outlives_the_provider_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIVICLINE_OUTBOX_LEASE_SECONDS", "1")
    monkeypatch.setenv("CIVICLINE_PROVIDER_TIMEOUT_SECONDS", "60")  # capped at 10 s
    assert notifications.send_bound() == dt.timedelta(seconds=21)
    assert notifications.lease() > notifications.send_bound()


def test_migration_0008_matches_the_model_and_downgrades(database: str) -> None:
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import inspect

    from bot.store.db import get_engine
    from bot.store.migrate import alembic_config
    from bot.store.models import Base

    with get_engine().connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [d for d in diff if "inbound_messages" in repr(d)] == []
    config = alembic_config(database)
    command.downgrade(config, "0005")
    with get_engine().connect() as connection:
        columns = {c["name"] for c in inspect(connection).get_columns("inbound_messages")}
    assert not columns & {"state", "claimed_until", "seen"}
    command.upgrade(config, "head")
    with get_engine().connect() as connection:
        columns = {c["name"] for c in inspect(connection).get_columns("inbound_messages")}
    assert {"state", "claimed_until", "seen"} <= columns


@pytest.mark.slow
def test_the_dispatcher_has_its_own_pool_and_a_hung_provider_leaves_the_loop_free(
        hung_provider: list[socket.socket]) -> None:
    """The server's dispatcher loop sends in its own worker thread: while the provider hangs,
    the event loop ticks on and the default executor the webhooks use answers at once."""
    import asyncio

    from server import dispatcher

    code, body = api._patch_case("40217382", {"status": "approved"})
    assert code == 200, body

    async def main() -> dict[str, object]:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        task = loop.create_task(dispatcher.run(stop))
        deadline = loop.time() + 10
        while not hung_provider and loop.time() < deadline:
            await asyncio.sleep(0.02)
        senders = [t.name for t in threading.enumerate() if t.name.startswith("outbox")]
        started = loop.time()
        await asyncio.to_thread(lambda: None)  # what a webhook's database work waits for
        executor_wait = loop.time() - started
        longest, last = 0.0, loop.time()
        while loop.time() - started < 1:  # the provider still hangs (2 s timeout)
            await asyncio.sleep(0.01)
            longest, last = max(longest, loop.time() - last), loop.time()
        stop.set()
        await asyncio.wait_for(task, 15)
        return {"senders": senders, "executor_wait": executor_wait, "longest_tick": longest}

    measured = asyncio.run(main())
    print(f"latency: default executor while the provider hangs: "
          f"{measured['executor_wait']:.3f} s; longest event-loop tick "
          f"{measured['longest_tick']:.3f} s")
    assert hung_provider and measured["senders"]
    assert measured["executor_wait"] < 0.5 and measured["longest_tick"] < 0.5
    with session_scope() as session:
        [message] = session.scalars(select(OutboxMessage)).all()
        assert (message.status, message.attempts) == ("pending", 1)  # timed out, recorded
