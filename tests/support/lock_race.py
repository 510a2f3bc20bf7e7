"""Two processes taking the lock of the same conversations at the same moment, as two Rasa
workers do when one sender's messages arrive together (tests/test_lock_store.py).

Each side, in a process of its own, runs batches of conversations: at a barrier both start
every conversation of the batch at once and, under the lock store's lock, do what Rasa's
``MessageProcessor`` does with the tracker: read it from CivicLine's tracker store (PostgreSQL
here), add a user message, save it. Rasa's SQL tracker store saves the events past the number
already stored, so two turns that overlap lose one of the two messages. Afterwards every
conversation should hold both sides' messages.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import queue
import secrets
import time
import traceback
from collections import Counter
from dataclasses import dataclass
from typing import Any

import redis
import sqlalchemy as sa
from redis.connection import parse_url

TURN_TIMEOUT_SECONDS = 60  # Sanic's default response timeout, after which Rasa answers 503


@dataclass(frozen=True)
class Race:
    kind: str
    pairs: int
    stored: int  # user messages found in the tracker store
    errors: int  # turns refused with an error (LockError) or stuck past Sanic's response timeout
    stuck: int  # of which stuck
    seconds: float
    leftover_keys: int  # lock keys still in Redis once every turn has ended
    overlaps: int = 0  # turns inside which another turn of the conversation was stored

    @property
    def lost(self) -> int:
        """Turns that went through without an error and whose message is not stored."""
        return 2 * self.pairs - self.errors - self.stored

    def summary(self) -> str:
        return (f"{self.pairs} pairs ({2 * self.pairs} turns): {self.stored} stored, "
                f"{self.lost} lost silently, {self.errors} failed ({self.stuck} of them stuck "
                f"waiting for the lock for {TURN_TIMEOUT_SECONDS} s), {self.overlaps} ran while "
                f"another turn of their conversation did, {self.seconds:.1f} s")


def redis_parts(url: str) -> tuple[str, int, int]:
    """Host, port and database of a redis:// URL (Rasa's store takes them apart)."""
    parts = parse_url(url)
    return parts.get("host", "127.0.0.1"), int(parts.get("port", 6379)), int(parts.get("db", 0))


def make_store(kind: str, redis_url: str, prefix: str) -> Any:
    if kind == "stock":
        from rasa.core.lock_store import RedisLockStore

        host, port, db = redis_parts(redis_url)
        return RedisLockStore(host=host, port=port, db=db, key_prefix=prefix)
    from server.lock_store import RedisTicketLockStore

    return RedisTicketLockStore(redis_url, key_prefix=f"{prefix}:lock:")


def tracker_store() -> Any:
    from rasa.shared.core.domain import Domain

    from server.tracker_store import CivicLineTrackerStore

    return CivicLineTrackerStore(domain=Domain.empty())


async def _side(name: str, store: Any, prefix: str, batches: int, width: int,
                barrier: Any) -> Counter:
    from rasa.shared.core.events import UserUttered

    trackers = tracker_store()
    outcomes: Counter = Counter()

    def said(tracker: Any) -> int:
        return sum(isinstance(event, UserUttered) for event in tracker.events)

    async def turn(conversation: str) -> str:
        """One turn; "overlap" when another turn of the conversation was stored inside it.

        Rasa's own SQL store lost such a turn's message; ours stores both (it inserts after
        what its tracker knows), so the overlap itself is what shows a lock that let two turns
        in at once.
        """
        async with store.lock(conversation):
            tracker = await trackers.get_or_create_tracker(conversation)
            seen = said(tracker)
            tracker.update(UserUttered(f"message from {name}"))
            stored_now = await trackers.retrieve(conversation)
            overlapped = stored_now is not None and said(stored_now) != seen
            await trackers.save(tracker)
        return "overlap" if overlapped else "ok"

    async def bounded(conversation: str) -> str:
        try:  # Sanic answers 503 after its 60 s response timeout: the turn is abandoned
            return await asyncio.wait_for(turn(conversation), TURN_TIMEOUT_SECONDS)
        except asyncio.TimeoutError:
            return "stuck"
        except Exception as exc:
            return type(exc).__name__

    for batch in range(batches):
        barrier.wait(timeout=120)
        outcomes.update(await asyncio.gather(
            *(bounded(f"{prefix}-b{batch}-c{i}") for i in range(width))))
    return outcomes


def side(name: str, kind: str, redis_url: str, database_url: str, prefix: str, batches: int,
         width: int, barrier: Any, results: Any) -> None:
    """One process's part (the target of a spawned process)."""
    try:
        os.environ["DATABASE_URL"] = database_url
        from bot.config import get_settings

        get_settings.cache_clear()
        store = make_store(kind, redis_url, prefix)
        outcomes = asyncio.run(_side(name, store, prefix, batches, width, barrier))
        results.put((name, dict(outcomes)))
    except Exception:
        barrier.abort()
        results.put((name, {"crash": traceback.format_exc()}))


def stored_user_messages(database_url: str, prefix: str) -> int:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text(
                "SELECT count(*) FROM events WHERE type_name = 'user' AND sender_id LIKE :p"),
                {"p": f"{prefix}-%"}).scalar_one()
    finally:
        engine.dispose()


def collect(processes: list[Any], results: Any, limit: float = 900) -> dict[str, dict[str, Any]]:
    """Each side's outcomes; a side that dies without reporting, or a run past ``limit``
    seconds, is a failure that says so."""
    outcomes: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + limit
    while len(outcomes) < len(processes):
        try:
            name, outcome = results.get(timeout=1)
            outcomes[name] = outcome
            continue
        except queue.Empty:
            pass
        dead = [p.exitcode for p in processes if p.exitcode is not None]
        if len(dead) > len(outcomes) and results.empty():
            raise AssertionError(f"a side died without reporting (exit codes {dead}); "
                                 f"reported: {outcomes}")
        assert time.monotonic() < deadline, f"the race did not end in {limit} s: {outcomes}"
    return outcomes


def race(kind: str, redis_url: str, database_url: str, batches: int, width: int) -> Race:
    """Run both sides with lock store ``kind`` ("stock" or "ours"); count what was stored."""
    tracker_store()  # creates Rasa's events table once, before two processes would race to
    prefix = f"race{secrets.token_hex(4)}"
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    processes = [context.Process(target=side, args=(name, kind, redis_url, database_url, prefix,
                                                    batches, width, barrier, results),
                                 daemon=True)
                 for name in ("a", "b")]
    started = time.monotonic()
    for process in processes:
        process.start()
    try:
        outcomes = collect(processes, results)
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
    seconds = time.monotonic() - started
    client = redis.Redis.from_url(redis_url)
    leftovers = list(client.scan_iter(f"{prefix}*"))
    if leftovers:
        client.delete(*leftovers)
    crashes = [o["crash"] for o in outcomes.values() if "crash" in o]
    assert not crashes, crashes[0]
    errors = sum(n for o in outcomes.values() for what, n in o.items()
                 if what not in ("ok", "overlap"))
    overlaps = sum(o.get("overlap", 0) for o in outcomes.values())
    stuck = sum(o.get("stuck", 0) for o in outcomes.values())
    return Race(kind, batches * width, stored_user_messages(database_url, prefix), errors,
                stuck, seconds, len(leftovers), overlaps)
