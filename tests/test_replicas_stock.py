"""Issue 12: what tests/test_replicas.py's pair test is there to catch. The same 1,000 pairs of
simultaneous messages for 50 conversations, each pair split across two Rasa replicas sharing
PostgreSQL and Redis, with Rasa 3.6's own ``RedisLockStore`` as the conversation lock: its
read-modify-write of the ticket queue lets both halves of a pair run at once, and one of the
two user messages is lost without an error (SPEC §10). One start of two replicas for the
module."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from tests.support.replicas import (
    Replicas,
    pair_race,
    paused_conversations,
    stock_lock_replicas,
)

pytestmark = [pytest.mark.stack, pytest.mark.own_stack, pytest.mark.postgres, pytest.mark.slow]

REDIS_URL = "redis://127.0.0.1:6379/0"  # the machine's Redis: keys under a prefix of this run


@pytest.fixture(scope="module")
def stock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replicas]:
    with stock_lock_replicas(tmp_path_factory.mktemp("stock"), REDIS_URL) as running:
        yield running


def test_rasas_own_redis_lock_store_loses_messages_of_split_pairs(stock: Replicas) -> None:
    run = secrets.token_hex(3)
    senders = [f"stock-{run}-{n}" for n in range(50)]
    paused_conversations(stock.database_url, senders)
    race = pair_race(stock, stock.replica_urls, senders, 20,
                     lambda base, sender, text: stock.rest(base, sender, text)[0])
    broken = [s for s in senders if not race.intact(s)]
    print(f"Rasa's RedisLockStore: {race.lost()} of {race.statuses[200]} answered messages "
          f"lost, {len(broken)} of {len(senders)} conversations broken, {race.seconds:.1f} s")
    assert race.statuses[200] > 0.9 * 2000
    assert race.lost() > 0 and broken
