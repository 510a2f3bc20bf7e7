"""Rasa's conversation lock, shared by every worker and replica through Redis (issue 12).

Rasa serialises the turns of one conversation with a lock store: each message takes a ticket
and waits for its turn, so two messages from one sender never read and write the tracker at
the same time (the second would overwrite the first's events). Rasa 3.6 keeps the lock in
memory (one process only) or in Redis with its ``RedisLockStore``, which reads the ticket
queue as JSON, changes it in Python and writes it back: two workers doing that at once both
take "ticket 0", run the turn together, and one user message is lost. Its waiters also poll
once a second.

:class:`RedisTicketLockStore` instead:

- issues tickets with ``INCR`` and changes the queue only in Lua scripts (server/lock_scripts.py),
  which Redis runs whole;
- wakes the next waiter through pub/sub as the holder leaves (a few ms), with a poll of at most
  a second only as a safety net for a lost connection;
- renews the holder's lease while the turn runs (a slow action keeps its lock), and every
  waiter's while it waits, from a thread of its own (:class:`_Heartbeat`): Rasa runs NLU on the
  event loop, and a loop starved by a burst of turns on a busy machine must not let a live
  process's lock lapse (measured: with 100 turns queued on two replicas of a loaded 2-core
  machine, renewals from the loop came more than a lease late hundreds of times);
- leaves nothing behind a dead process: a ticket whose lease ran out is dropped when it reaches
  the head of the queue, and the keys expire one lease after the last write.

endpoints.yml names :class:`CivicLineLockStore`, which is this store when ``REDIS_URL`` is set
and Rasa's own in-memory store otherwise (one process).
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import threading
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Any

from rasa.core.lock import Ticket, TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore, LockError, LockStore
from rasa.utils.endpoints import EndpointConfig
from redis.exceptions import RedisError

from bot.config import ConfigError, get_settings
from server import lock_scripts

logger = logging.getLogger(__name__)

DEFAULT_KEY_PREFIX = "civicline:lock:"
# How long a ticket outlives a process that died holding or waiting for it. Renewed every third
# of it, so a turn may take as long as it needs while its process lives.
DEFAULT_LEASE_SECONDS = 10.0
# A waiter looks again at least this often even without a wake-up (were one lost with a
# dropped connection); wake-ups themselves come through pub/sub.
SAFETY_POLL_SECONDS = 1.0
# A reply slower than this is an unavailable lock store (LockError: the turn fails cleanly).
# Generous: a loaded replica's event loop may read a prompt reply late.
REDIS_TIMEOUT_SECONDS = 5.0
SERVED, WAITING, GONE = 1, 0, -1


@dataclass(frozen=True)
class _Ticket:
    conversation_id: str
    number: int
    member: str  # "<number>:<nonce>", the ticket's name in the queue


class _Connection:
    """One event loop's Redis client, scripts and wake-up listener.

    A single subscription per process to the store's channel carries the id of every
    conversation whose holder left; the waiters of that conversation in this process look again.
    """

    def __init__(self, url: str, channel: str) -> None:
        import redis.asyncio as aioredis

        self.loop = asyncio.get_running_loop()
        self.channel = channel
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff
        from redis.exceptions import ConnectionError as RedisConnectionError

        # A pooled connection that Redis closed (it restarted) fails its next command: that
        # command is sent once more on a new connection instead of failing a turn.
        self.client = aioredis.Redis.from_url(url, socket_timeout=REDIS_TIMEOUT_SECONDS,
                                              socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                                              retry=Retry(NoBackoff(), 1),
                                              retry_on_error=[RedisConnectionError])
        self.enqueue = self.client.register_script(lock_scripts.ENQUEUE)
        self.turn = self.client.register_script(lock_scripts.TURN)
        self.release = self.client.register_script(lock_scripts.RELEASE)
        self.waiters: dict[str, set[asyncio.Event]] = {}
        self.subscribed = asyncio.Event()
        self.listener = self.loop.create_task(self._listen())

    def watch(self, conversation_id: str) -> asyncio.Event:
        event = asyncio.Event()
        self.waiters.setdefault(conversation_id, set()).add(event)
        return event

    def unwatch(self, conversation_id: str, event: asyncio.Event) -> None:
        events = self.waiters.get(conversation_id)
        if events is not None:
            events.discard(event)
            if not events:
                del self.waiters[conversation_id]

    def _wake(self, conversation_id: str) -> None:
        for event in self.waiters.get(conversation_id, ()):
            event.set()

    def _wake_all(self) -> None:
        for events in self.waiters.values():
            for event in events:
                event.set()

    async def _listen(self) -> None:
        while True:
            pubsub = self.client.pubsub()
            try:
                await pubsub.subscribe(self.channel)
                while True:
                    message = await pubsub.get_message(timeout=SAFETY_POLL_SECONDS)
                    if message is None:
                        continue
                    if message["type"] == "subscribe":
                        self.subscribed.set()
                        self._wake_all()  # after a reconnection: a wake-up may have been missed
                    elif message["type"] == "message":
                        self._wake(message["data"].decode("utf-8", "replace"))
            except (RedisError, OSError) as exc:
                self.subscribed.clear()
                logger.warning("lock store: wake-up channel lost (%s); reconnecting", exc)
                self._wake_all()
                await asyncio.sleep(0.5)
            finally:
                with suppress(Exception):
                    await pubsub.close()

    async def ready(self) -> None:
        """Wait (briefly) for the subscription, so the first wake-up is not missed."""
        if not self.subscribed.is_set():
            with suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.subscribed.wait(), REDIS_TIMEOUT_SECONDS)


class _Heartbeat:
    """Pushes the deadline of every ticket this process holds or waits with one lease ahead,
    every third of a lease, from a daemon thread with its own Redis connection: independent of
    how busy the event loop is, and gone with the process (a dead process's tickets lapse)."""

    def __init__(self, url: str, lease_ms: int, keys: Any) -> None:
        self.url = url
        self.lease_ms = lease_ms
        self.keys = keys
        self.tickets: set[_Ticket] = set()
        self.guard = threading.Lock()
        self.thread: threading.Thread | None = None

    def add(self, ticket: _Ticket) -> None:
        with self.guard:
            self.tickets.add(ticket)
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name="lock-heartbeat",
                                               daemon=True)
                self.thread.start()

    def discard(self, ticket: _Ticket) -> None:
        with self.guard:
            self.tickets.discard(ticket)

    def _run(self) -> None:
        import redis

        client = redis.Redis.from_url(self.url, socket_timeout=REDIS_TIMEOUT_SECONDS,
                                      socket_connect_timeout=REDIS_TIMEOUT_SECONDS)
        renew = client.register_script(lock_scripts.RENEW)
        while True:
            time.sleep(self.lease_ms / 3000)
            with self.guard:
                tickets = list(self.tickets)
            for ticket in tickets:
                try:
                    alive = renew(keys=self.keys(ticket.conversation_id),
                                  args=[ticket.member, self.lease_ms])
                except (RedisError, OSError) as exc:
                    logger.warning("lock store: could not renew the lock of %s (%s)",
                                   ticket.conversation_id, exc)
                    continue
                with self.guard:
                    lapsed = not alive and ticket in self.tickets  # not released meanwhile
                    if lapsed:
                        self.tickets.discard(ticket)
                if lapsed:
                    logger.error("lock store: the lock of %s expired (its process stalled "
                                 "past the lease)", ticket.conversation_id)


class RedisTicketLockStore(LockStore):
    """Ticket locks in Redis, changed only by atomic scripts (see the module docstring)."""

    def __init__(self, url: str, key_prefix: str = DEFAULT_KEY_PREFIX,
                 lease_seconds: float = DEFAULT_LEASE_SECONDS, **_: Any) -> None:
        super().__init__()
        self.url = url
        self.key_prefix = key_prefix
        self.lease_seconds = float(lease_seconds)
        self.channel = key_prefix + "released"
        self._connection: _Connection | None = None
        self._sync_client: Any = None
        self._heartbeat = _Heartbeat(url, self.lease_ms, self.keys)

    @property
    def lease_ms(self) -> int:
        return max(int(self.lease_seconds * 1000), 1)

    def keys(self, conversation_id: str) -> list[str]:
        """The queue, the deadlines and the ticket counter of one conversation."""
        return [f"{self.key_prefix}{part}:{conversation_id}" for part in ("q", "d", "n")]

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        if self._connection is None or self._connection.loop is not loop:
            self._connection = _Connection(self.url, self.channel)
        await self._connection.ready()
        return self._connection

    @asynccontextmanager
    async def lock(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME,
                   wait_time_in_seconds: float = 1) -> AsyncIterator[TicketLock]:
        """Hold the conversation's lock for the ``async with`` block.

        ``lock_lifetime``: how long to wait in the queue before :class:`LockError` (Rasa's
        tickets expired after it); once served, the lock lasts as long as the block, renewed
        every third of a lease. ``wait_time_in_seconds`` (Rasa's poll) is not used: the waiter
        is woken when the holder leaves.
        """
        connection = await self._connect()
        event = connection.watch(conversation_id)
        ticket: _Ticket | None = None
        try:
            ticket, state, wait_ms = await self._enqueue(connection, conversation_id)
            self._heartbeat.add(ticket)
            await self._wait_turn(connection, ticket, event, state, wait_ms, lock_lifetime)
            connection.unwatch(conversation_id, event)
            yield TicketLock(conversation_id, deque(
                [Ticket(ticket.number, time.time() + self.lease_seconds)]))
        finally:
            connection.unwatch(conversation_id, event)
            if ticket is not None:
                self._heartbeat.discard(ticket)
                await asyncio.shield(self._release(connection, ticket))

    async def _run(self, script: Any, conversation_id: str, *args: Any) -> Any:
        try:
            return await script(keys=self.keys(conversation_id), args=list(args))
        except (RedisError, OSError) as exc:
            raise LockError(f"the lock store is unavailable ({type(exc).__name__}: {exc})"
                            ) from exc

    async def _enqueue(self, connection: _Connection, conversation_id: str
                       ) -> tuple[_Ticket, int, int]:
        number, member, state, wait_ms = await self._run(
            connection.enqueue, conversation_id, self.lease_ms, secrets.token_hex(8),
            self.channel, conversation_id)
        ticket = _Ticket(conversation_id, int(number), member.decode())
        return ticket, int(state), int(wait_ms)

    async def _wait_turn(self, connection: _Connection, ticket: _Ticket, event: asyncio.Event,
                         state: int, wait_ms: int, patience: float) -> None:
        loop = asyncio.get_running_loop()
        give_up = loop.time() + patience
        while state != SERVED:
            if state == GONE:
                raise LockError(f"the ticket for conversation '{ticket.conversation_id}' "
                                "expired while waiting (its process stalled past the lease)")
            left = give_up - loop.time()
            if left <= 0:
                raise LockError(f"could not acquire the lock for conversation "
                                f"'{ticket.conversation_id}' in {patience:g} s")
            # Until woken, the head's deadline (a dead holder's lease runs out then), our own
            # heartbeat, or the safety poll, whichever comes first.
            timeout = min(max(wait_ms, 1) / 1000, self.lease_seconds / 3, SAFETY_POLL_SECONDS,
                          left)
            with suppress(asyncio.TimeoutError):
                await asyncio.wait_for(event.wait(), timeout)
            event.clear()
            state, wait_ms = await self._run(connection.turn, ticket.conversation_id,
                                             ticket.member, self.lease_ms, self.channel,
                                             ticket.conversation_id)

    async def _release(self, connection: _Connection, ticket: _Ticket) -> None:
        try:
            await connection.release(keys=self.keys(ticket.conversation_id),
                                     args=[ticket.member, self.channel, ticket.conversation_id])
        except (RedisError, OSError) as exc:  # the ticket's lease runs out instead
            logger.warning("lock store: could not release the lock of %s (%s); it expires "
                           "within %g s", ticket.conversation_id, exc, self.lease_seconds)

    # --- Rasa's synchronous LockStore interface (inspection and compatibility) --------------
    # Rasa 3.6 itself only calls ``lock()``; these never read-modify-write the queue either.

    def _sync(self) -> Any:
        if self._sync_client is None:
            import redis

            self._sync_client = redis.Redis.from_url(self.url,
                                                     socket_timeout=REDIS_TIMEOUT_SECONDS)
        return self._sync_client

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """Queue a ticket (atomically) and return its number."""
        try:
            number, *_ = self._sync().eval(
                lock_scripts.ENQUEUE, 3, *self.keys(conversation_id), self.lease_ms,
                secrets.token_hex(8), self.channel, conversation_id)
        except (RedisError, OSError) as exc:
            raise LockError(f"the lock store is unavailable ({exc})") from exc
        return int(number)

    def get_lock(self, conversation_id: str) -> TicketLock | None:
        """A snapshot of the conversation's queue (deadlines as Unix times), or None."""
        queue, deadlines = self.keys(conversation_id)[:2]
        pipe = self._sync().pipeline(transaction=True)
        pipe.zrange(queue, 0, -1, withscores=True)
        pipe.hgetall(deadlines)
        members, expiries = pipe.execute()
        if not members:
            return None
        return TicketLock(conversation_id, deque(
            Ticket(int(score), int(expiries.get(member, 0)) / 1000)
            for member, score in members))

    def save_lock(self, lock: TicketLock) -> None:
        raise LockError("RedisTicketLockStore never writes a queue whole; its scripts change it")

    def update_lock(self, conversation_id: str) -> None:
        """Nothing to do: expired tickets are dropped as they reach the head of the queue."""

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        queue = self.keys(conversation_id)[0]
        for member in self._sync().zrangebyscore(queue, ticket_number, ticket_number):
            self._sync().eval(lock_scripts.RELEASE, 3, *self.keys(conversation_id), member,
                              self.channel, conversation_id)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Release the ticket; the keys go with the last one."""
        self.finish_serving(conversation_id, ticket_number)

    def is_someone_waiting(self, conversation_id: str) -> bool:
        return bool(self._sync().zcard(self.keys(conversation_id)[0]))

    def delete_lock(self, conversation_id: str) -> None:
        deleted = self._sync().delete(*self.keys(conversation_id))
        self._sync().publish(self.channel, conversation_id)
        self._log_deletion(conversation_id, bool(deleted))


def sanic_workers() -> int:
    """``SANIC_WORKERS`` as Rasa reads it (a bad value means 1)."""
    try:
        return int(os.environ.get("SANIC_WORKERS") or 1)
    except ValueError:
        return 1


class CivicLineLockStore(LockStore):
    """The lock store endpoints.yml names: a :class:`RedisTicketLockStore` on ``REDIS_URL``,
    else Rasa's ``InMemoryLockStore`` (what Rasa uses without a ``lock_store`` entry).

    Constructing it returns one of the two (``__new__``): Rasa builds custom lock stores from a
    class path only. Several Sanic workers need the shared one, so ``SANIC_WORKERS`` > 1
    without ``REDIS_URL`` is a start-up error rather than a silently unlocked conversation.
    """

    def __new__(cls, endpoint_config: EndpointConfig | None = None) -> LockStore:  # type: ignore[misc]
        options = dict(endpoint_config.kwargs) if endpoint_config else {}
        url = get_settings().redis_url
        if url:
            store = RedisTicketLockStore(url, **options)
            logger.info("lock store: Redis (lease %g s)", store.lease_seconds)
            return store
        require_shared_lock()
        return InMemoryLockStore()


def require_shared_lock() -> None:
    """:class:`ConfigError` when ``SANIC_WORKERS`` > 1 has no ``REDIS_URL`` to share the lock.

    Checked twice: by the platform channel in Rasa's main process, before any worker starts
    (a refusal there ends `rasa run` with a non-zero exit code; a worker's failing start-up
    would not), and again when a worker builds its lock store.
    """
    if sanic_workers() > 1 and not get_settings().redis_url:
        raise ConfigError(f"SANIC_WORKERS={sanic_workers()} needs REDIS_URL: the workers "
                          "must share the conversation lock (README, 'Settings')")
