"""The conversation lock shared through Redis (server/lock_store.py, issue 12), on the real Redis
(127.0.0.1:6379, database 14, keys under a prefix of each test's own).

- Rasa's stock ``RedisLockStore`` against ours, two processes each taking the lock of the same
  conversations at the same moment and appending a user message to CivicLine's real tracker
  store on PostgreSQL (what two Rasa workers do): stock loses messages, ours none.
- The race itself, made to happen every time: two stock clients read the queue before either
  writes it, and both are served ticket 0.
- Ours: tickets served in the order issued; a waiter woken within 50 ms of the release; a slow
  turn keeps its lock past its lease; a killed holder's lock passes on after its lease and
  leaves no key behind.
- endpoints.yml: Redis on ``REDIS_URL`` (Rasa then runs several workers), Rasa's in-memory store
  without it; and a real Rasa server with two workers loses no message of simultaneous pairs.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis
from rasa.core.lock_store import InMemoryLockStore, LockStore, RedisLockStore
from rasa.core.utils import AvailableEndpoints, number_of_sanic_workers

from bot.config import ConfigError, get_settings
from server.lock_store import RedisTicketLockStore
from tests.support import lock_race
from tests.support.environment import ROOT
from tests.support.stack import Stack, running_stack
from tests.support.stack_data import user_turns
from tests.support.web import http

REDIS_URL = os.environ.get("CIVICLINE_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
WAKE_LIMIT_SECONDS = 0.050
# What any one wake-up may take on a loaded machine (CI runs suites side by side on 2 cores):
# well under the waiter's safety poll (server/lock_store.py, 1 s), so a wake-up that missed
# the pub/sub message and came from the poll still fails; the median must meet the 50 ms.
WAKE_CEILING_SECONDS = 0.5


@pytest.fixture
def prefix() -> Iterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    name = f"t{secrets.token_hex(5)}"
    yield name
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(f"{name}:*"))
    if keys:
        client.delete(*keys)


def ours(prefix: str, lease: float = 10.0) -> RedisTicketLockStore:
    return RedisTicketLockStore(REDIS_URL, key_prefix=f"{prefix}:lock:", lease_seconds=lease)


def leftover_keys(prefix: str) -> list[bytes]:
    return list(redis.Redis.from_url(REDIS_URL).scan_iter(f"{prefix}:*"))


async def wait_for_tickets(store: RedisTicketLockStore, conversation: str, count: int) -> None:
    """Until ``count`` tickets are queued (observed in Redis, bounded)."""
    deadline = time.monotonic() + 10
    while True:
        lock = store.get_lock(conversation)
        if lock is not None and len(lock.tickets) >= count:
            return
        assert time.monotonic() < deadline, f"{count} tickets never queued"
        await asyncio.sleep(0.002)


# --- Stock against ours under load ----------------------------------------------------------

def test_stock_loses_user_messages_under_load_and_ours_none(postgres_database: str) -> None:
    """Two processes (as two Rasa workers), 400 simultaneous same-sender pairs each way.

    A lock that lets two turns of one conversation in at once shows as a lost message with
    Rasa's SQL store, and as an overlap with ours (which stores both turns' events). Stock's
    interleaving needs two ticket reads to meet, which a quiet machine may not produce in one
    race of 400 pairs: its race is run up to three times and the test asks for a loss or an
    overlap in at least one; ours must have neither in its one race.
    """
    ours_run = lock_race.race("ours", REDIS_URL, postgres_database, batches=20, width=20)
    print(f"\nours: {ours_run.summary()}")
    assert ours_run.lost == 0 and ours_run.errors == 0 and ours_run.stored == 2 * ours_run.pairs
    assert ours_run.overlaps == 0
    assert ours_run.leftover_keys == 0
    stock_runs = []
    for _ in range(3):
        stock = lock_race.race("stock", REDIS_URL, postgres_database, batches=20, width=20)
        print(f"\nstock: {stock.summary()}")
        stock_runs.append(stock)
        if stock.lost + stock.errors + stock.overlaps > 0:
            break
    assert any(run.lost + run.errors + run.overlaps > 0 for run in stock_runs), [
        run.summary() for run in stock_runs]


def test_stock_serves_two_clients_at_once_when_their_reads_interleave(prefix: str) -> None:
    """Both clients read the empty queue before either writes it: both hold ticket 0."""
    both_read = threading.Barrier(2, timeout=10)

    class Interleaved(RedisLockStore):
        first = True

        def get_lock(self, conversation_id: str):  # the read of the read-modify-write
            lock = super().get_lock(conversation_id)
            if self.first:
                self.first = False
                both_read.wait()
            return lock

    host, port, db = lock_race.redis_parts(REDIS_URL)
    clients = [Interleaved(host=host, port=port, db=db, key_prefix=prefix) for _ in range(2)]
    with ThreadPoolExecutor(2) as pool:
        tickets = list(pool.map(lambda c: c.issue_ticket("conversation"), clients))
    assert tickets == [0, 0]
    served = [not client.get_lock("conversation").is_locked(ticket)
              for client, ticket in zip(clients, tickets, strict=True)]
    assert served == [True, True]  # two turns of one conversation at once

    mine = [ours(prefix) for _ in range(2)]
    with ThreadPoolExecutor(2) as pool:
        numbers = list(pool.map(lambda c: c.issue_ticket("other"), mine))
    assert sorted(numbers) == [1, 2]


# --- Ours: order, wake-up, renewal, expiry ----------------------------------------------------

def test_tickets_are_served_in_the_order_they_were_issued(prefix: str) -> None:
    async def scenario() -> tuple[list[int], list[int]]:
        stores = [ours(prefix), ours(prefix)]  # two clients, alternately
        issued: list[int] = []
        served: list[int] = []
        release = asyncio.Event()

        async def holder() -> None:
            async with stores[0].lock("c"):
                await release.wait()

        async def waiter(index: int) -> None:
            async with stores[index % 2].lock("c"):
                served.append(index)

        tasks = [asyncio.create_task(holder())]
        await wait_for_tickets(stores[0], "c", 1)
        for index in range(8):
            tasks.append(asyncio.create_task(waiter(index)))
            await wait_for_tickets(stores[0], "c", index + 2)
            issued.append(index)
        release.set()
        await asyncio.gather(*tasks)
        return issued, served

    issued, served = asyncio.run(scenario())
    assert served == issued
    assert leftover_keys(prefix) == []


async def handoff(holder_store: RedisTicketLockStore, waiter_store: RedisTicketLockStore,
                  conversation: str) -> float:
    """Seconds from the holder leaving to the queued waiter (another client) entering."""
    released = 0.0

    async def holder() -> None:
        nonlocal released
        async with holder_store.lock(conversation):
            await wait_for_tickets(holder_store, conversation, 2)
            await asyncio.sleep(0.02)
            released = time.perf_counter()

    async def waiter() -> float:
        async with waiter_store.lock(conversation):
            return time.perf_counter()

    hold = asyncio.create_task(holder())
    await wait_for_tickets(holder_store, conversation, 1)
    entered, _ = await asyncio.gather(waiter(), hold)
    return entered - released


def test_a_waiter_is_woken_within_50_ms_of_the_release(prefix: str) -> None:
    async def handoffs(count: int) -> list[float]:
        holder_store, waiter_store = ours(prefix), ours(prefix)
        return [await handoff(holder_store, waiter_store, f"c{i}") for i in range(count)]

    latencies = asyncio.run(handoffs(40))
    print(f"\nwake-up after release: median {statistics.median(latencies) * 1000:.1f} ms, "
          f"max {max(latencies) * 1000:.1f} ms over {len(latencies)}")
    assert statistics.median(latencies) <= WAKE_LIMIT_SECONDS, latencies
    assert all(0 < latency <= WAKE_CEILING_SECONDS for latency in latencies), latencies
    assert leftover_keys(prefix) == []


@pytest.mark.slow  # waits out a lease, or a process killed
def test_a_turn_longer_than_its_lease_keeps_the_lock(prefix: str) -> None:
    lease = 0.3

    async def scenario() -> tuple[float, float, list[float]]:
        holder_store, waiter_store = ours(prefix, lease), ours(prefix, lease)
        left = 0.0
        deadlines: list[float] = []

        async def holder() -> None:
            nonlocal left
            async with holder_store.lock("c"):
                for _ in range(6):  # 1.5 s: five leases
                    await asyncio.sleep(0.25)
                    deadlines.append(holder_store.get_lock("c").tickets[0].expires)
                left = time.perf_counter()

        async def waiter() -> float:
            async with waiter_store.lock("c"):
                return time.perf_counter()

        hold = asyncio.create_task(holder())
        await wait_for_tickets(holder_store, "c", 1)
        entered, _ = await asyncio.gather(waiter(), hold)
        return left, entered, deadlines

    left, entered, deadlines = asyncio.run(scenario())
    assert left <= entered <= left + WAKE_CEILING_SECONDS
    assert deadlines == sorted(deadlines) and deadlines[-1] - deadlines[0] >= 1.0  # renewed


def test_a_holder_whose_event_loop_is_starved_keeps_its_lock(prefix: str) -> None:
    """Rasa runs NLU on the event loop: a burst of turns can block it for longer than a lease.
    The lease is renewed from a thread, so a waiter elsewhere never enters while the holder,
    alive but busy, is still inside."""
    holder_store, waiter_store = ours(prefix, lease=0.3), ours(prefix, lease=0.3)
    times: dict[str, float] = {}

    async def hold() -> None:
        async with holder_store.lock("c"):
            times["holding"] = time.perf_counter()
            time.sleep(1.2)  # the loop blocked for four leases, as by CPU-bound turns
            times["left"] = time.perf_counter()

    async def wait() -> None:
        while "holding" not in times:
            await asyncio.sleep(0.005)
        async with waiter_store.lock("c"):
            times["entered"] = time.perf_counter()

    waiter = threading.Thread(target=lambda: asyncio.run(wait()))
    waiter.start()
    asyncio.run(hold())
    waiter.join(timeout=30)
    assert times["entered"] >= times["left"], times


HOLDER = """
import asyncio, sys
from server.lock_store import RedisTicketLockStore

async def main():
    store = RedisTicketLockStore(sys.argv[1], key_prefix=sys.argv[2], lease_seconds=0.5)
    async with store.lock("c"):
        print("held", flush=True)
        await asyncio.sleep(120)

asyncio.run(main())
"""


def start_holder(prefix: str) -> subprocess.Popen:
    """A process of its own that takes the lock of conversation "c" (lease 0.5 s) and keeps it."""
    process = subprocess.Popen([sys.executable, "-c", HOLDER, REDIS_URL, f"{prefix}:lock:"],
                               cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stdout.readline().strip() == "held"
    return process


@pytest.mark.slow  # waits out a lease, or a process killed
def test_a_killed_holder_passes_the_lock_on_after_its_lease(prefix: str) -> None:
    holder = start_holder(prefix)

    async def scenario() -> tuple[float, float]:
        store = ours(prefix, lease=0.5)
        entered = 0.0

        async def take() -> None:
            nonlocal entered
            async with store.lock("c"):
                entered = time.perf_counter()

        task = asyncio.create_task(take())
        await wait_for_tickets(store, "c", 2)
        await asyncio.sleep(0.8)  # longer than a lease: the living holder renews, no entry
        assert not task.done()
        killed = time.perf_counter()
        holder.send_signal(signal.SIGKILL)
        await task
        return killed, entered

    try:
        killed, entered = asyncio.run(scenario())
    finally:
        holder.kill()
        holder.wait()
    print(f"\nentered {(entered - killed) * 1000:.0f} ms after the holder was killed (lease 500)")
    assert killed < entered <= killed + 0.5 + 0.3  # its lease, and a loaded machine's delay
    assert leftover_keys(prefix) == []


@pytest.mark.slow  # waits out a lease, or a process killed
def test_a_killed_holder_leaves_no_key_behind(prefix: str) -> None:
    holder = start_holder(prefix)
    assert leftover_keys(prefix)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    killed = time.monotonic()
    while leftover_keys(prefix) and time.monotonic() < killed + 5:
        time.sleep(0.05)
    assert leftover_keys(prefix) == []
    assert time.monotonic() - killed <= 0.5 + 0.3


# --- endpoints.yml and Rasa ---------------------------------------------------------------------

@pytest.fixture
def endpoints_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """What endpoints.yml's ${...} need, and no developer's .env."""
    monkeypatch.setenv("CIVICLINE_ENV_FILE", os.devnull)
    monkeypatch.setenv("ACTION_ENDPOINT_URL", "http://127.0.0.1:5055/webhook")
    monkeypatch.setenv("CIVICLINE_ACTION_SECRET", "secret")
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("SANIC_WORKERS", raising=False)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def test_endpoints_yml_shares_the_lock_through_redis_url_only(
        endpoints_env: pytest.MonkeyPatch) -> None:
    config = AvailableEndpoints.read_endpoints(str(ROOT / "endpoints.yml")).lock_store
    assert type(LockStore.create(config)) is InMemoryLockStore  # no REDIS_URL: Rasa's own

    endpoints_env.setenv("SANIC_WORKERS", "2")
    with pytest.raises(ConfigError, match="SANIC_WORKERS=2 needs REDIS_URL"):
        LockStore.create(config)

    endpoints_env.setenv("REDIS_URL", REDIS_URL)
    get_settings.cache_clear()
    store = LockStore.create(config)
    assert isinstance(store, RedisTicketLockStore) and store.url == REDIS_URL
    assert number_of_sanic_workers(config) == 2  # Rasa runs two workers on it


def worker_cpu_seconds(stack: Stack) -> dict[int, float]:
    """CPU time so far of each Sanic worker (the children of the `rasa run` process)."""
    rasa = stack.processes[-1].pid
    children = Path(f"/proc/{rasa}/task/{rasa}/children").read_text().split()
    ticks = os.sysconf("SC_CLK_TCK")
    seconds = {}
    for pid in map(int, children):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        seconds[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return seconds


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory, providers) -> Iterator[Stack]:
    """The real stack with two Sanic workers sharing the lock through Redis."""
    env = {**providers.env, "SANIC_WORKERS": "2", "REDIS_URL": REDIS_URL}
    with running_stack(tmp_path_factory.mktemp("workers"), extra_env=env) as stack:
        yield stack


@pytest.mark.stack
@pytest.mark.own_stack
def test_two_rasa_workers_lose_no_message_of_simultaneous_pairs(two_workers: Stack) -> None:
    stack = two_workers
    before = worker_cpu_seconds(stack)
    assert len(before) == 2, before
    senders = [f"+1555{secrets.randbelow(10**7):07d}" for _ in range(40)]

    def say(sender: str) -> int:
        status, body, _ = http("POST", f"{stack.url}/webhooks/rest/webhook",
                               {"sender": sender, "message": "hello"}, timeout=120)
        return status if body else 0

    statuses: Counter = Counter()
    with ThreadPoolExecutor(8) as pool:
        for start in range(0, len(senders), 4):  # 4 senders, 2 messages each, at once
            batch = [s for s in senders[start:start + 4] for _ in range(2)]
            statuses.update(pool.map(say, batch))
    assert statuses == Counter({200: 80})
    assert {s: user_turns(stack, s) for s in senders} == {s: 2 for s in senders}
    used = {pid: cpu - before[pid] for pid, cpu in worker_cpu_seconds(stack).items()}
    assert all(seconds > 0.5 for seconds in used.values()), used  # both workers answered
