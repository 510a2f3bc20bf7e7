"""Issue 12, points 3 and 4: CivicLine as `make serve` runs it, two Rasa replicas (separate
processes and ports, each with its action server) behind a real nginx, sharing one PostgreSQL
database and a Redis (a private redis-server, so it can be restarted).

One start of the whole thing for the module. The tests that hurt it (Redis restarted, a
replica killed) come last.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress

import pytest

from bot.devtools.webhooks import twilio_post
from tests.support.clients import Sms, channel_hooks
from tests.support.environment import CALL_CENTRE
from tests.support.providers import Providers
from tests.support.replicas import (
    PrivateRedis,
    Replicas,
    pair_race,
    paused_conversations,
    private_redis,
    running_replicas,
    user_texts,
)
from tests.support.stack_data import make_staff, new_case, query
from tests.support.unique import phone
from tests.support.waiting import eventually
from tests.support.web import Browser, csrf
from tests.support.wire import twilio_sms_form

pytestmark = [pytest.mark.stack, pytest.mark.own_stack, pytest.mark.postgres, pytest.mark.slow]

CONVERSATIONS = 50
ROUNDS = 20  # 50 conversations x 20 rounds = 1,000 pairs


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateRedis]:
    with private_redis(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory, providers: Providers,
             redis_server: PrivateRedis) -> Iterator[Replicas]:
    with running_replicas(tmp_path_factory.mktemp("replicas"), providers,
                          redis_server.url) as running:
        yield running


def sms_post(stack: Replicas, base: str, form: dict[str, str]) -> tuple[int, str]:
    """A signed SMS webhook post to ``base`` (a replica or nginx): Twilio signs the public
    address (PUBLIC_BASE_URL, nginx here), whoever receives it."""
    hooks = channel_hooks(stack)
    hooks = type(hooks)(url=base, public_base_url=stack.url,
                        twilio_auth_token=hooks.twilio_auth_token,
                        telegram_secret=hooks.telegram_secret)
    return twilio_post(hooks, f"{stack.url}/webhooks/sms/webhook", form)


# --- make serve --------------------------------------------------------------------------------


def test_make_serve_is_production_with_json_logs_and_one_migration(replicas: Replicas
                                                                   ) -> None:
    records = replicas.records()  # every line of stdout is a JSON object
    assert {"time", "process", "level", "message"} <= set(records[0])
    processes = Counter(r["process"] for r in records)
    assert {"migrate", "rasa-1", "rasa-2", "actions-1", "actions-2", "nginx"} <= set(processes)
    started = [r["message"].split(":")[0] for r in records if r["process"] == "serve"
               and r["message"].startswith("starting")]
    assert started.count("starting migrate") == 1
    assert started.index("starting migrate") == 0  # before any replica
    assert any("migrated to the latest schema" in r["message"] for r in records
               if r["process"] == "migrate")
    assert query(replicas, "SELECT count(*) FROM cases") == [(0,)]  # production: no demo cases
    assert query(replicas, "SELECT count(*) FROM services")[0][0] > 0  # the city's catalogue
    for base in (replicas.url, *replicas.replica_urls):
        assert replicas.rest(base, "anyone", "hello")[0] != 404  # REST on with its token
    assert replicas.api("GET", "/api/services", token=None)[0] == 401
    # nginx forwards to both replicas (its JSON access log names the upstream)
    for _ in range(4):
        assert replicas.api("GET", "/ready")[0] == 200
    upstreams = {json.loads(r["message"]).get("upstream") for r in replicas.records()
                 if r["process"] == "nginx" and r["message"].startswith("{")}
    assert {u.split(":")[-1] for u in upstreams if u} >= {
        u.rsplit(":", 1)[1] for u in replicas.replica_urls}


# --- the conversation lock across replicas -----------------------------------------------------


def test_pairs_split_across_replicas_lose_duplicate_and_reorder_nothing(replicas: Replicas
                                                                         ) -> None:
    """1,000 pairs of simultaneous messages for 50 conversations, each pair's two messages at
    the same moment, one to each replica (tests/test_replicas_stock.py: the same on Rasa's
    own RedisLockStore loses messages)."""
    run = secrets.token_hex(3)
    senders = [f"pair-{run}-{n}" for n in range(CONVERSATIONS)]
    paused_conversations(replicas.database_url, senders)
    race = pair_race(replicas, replicas.replica_urls, senders, ROUNDS,
                     lambda base, sender, text: replicas.rest(base, sender, text)[0])
    assert race.statuses[200] == 2 * CONVERSATIONS * ROUNDS, race.statuses
    for sender in senders:
        assert race.intact(sender), (sender, race.stored[sender])
    assert race.lost() == 0
    assert race.refused() <= 0.01 * race.statuses[200], race.statuses  # rare, and retried
    print(f"{2 * CONVERSATIONS * ROUNDS} messages in {race.seconds:.1f} s; refused then "
          f"retried: {dict(race.statuses)}")


def test_sms_dedupe_holds_across_replicas(replicas: Replicas) -> None:
    """One MessageSid posted at once to both replicas and to nginx is one turn."""
    posts = []
    for _ in range(8):
        form = twilio_sms_form(phone(), "is the bin collection running?")
        posts.append(form)
    targets = (*replicas.replica_urls, replicas.url)
    with ThreadPoolExecutor(len(targets) * len(posts)) as pool:
        answers = list(pool.map(lambda job: sms_post(replicas, *job),
                                [(base, form) for form in posts for base in targets]))
    assert [status for status, _ in answers] == [200] * len(answers)
    for form in posts:
        assert query(replicas, "SELECT count(*) FROM events WHERE sender_id = :s AND "
                     "type_name = 'user'", s=form["From"]) == [(1,)]
        assert query(replicas, "SELECT seen, state FROM inbound_messages WHERE external_id "
                     "= :m", m=form["MessageSid"]) == [(3, "answered")]
    # a wrong signature is refused by every replica and through nginx
    forged = twilio_sms_form(phone(), "hello")
    for base in targets:
        hooks = channel_hooks(replicas)
        hooks = type(hooks)(url=base, public_base_url=replicas.url,
                            twilio_auth_token="not-the-token",
                            telegram_secret=hooks.telegram_secret)
        assert twilio_post(hooks, f"{replicas.url}/webhooks/sms/webhook", forged)[0] == 403


def test_outbox_claim_holds_across_replicas(replicas: Replicas) -> None:
    """Both replicas run a dispatcher on the same outbox: each status change is sent once."""
    owners = [phone() for _ in range(12)]
    references = [new_case(replicas, owner, status="in_review") for owner in owners]
    for reference in references:
        assert replicas.api("PATCH", f"/api/cases/{reference}", {"status": "approved"}
                            )[0] == 200

    def outbox() -> dict[str, list[str]]:
        rows = query(replicas, "SELECT c.reference, o.status FROM outbox o JOIN cases "
                     "c ON c.id = o.case_id WHERE c.reference = ANY(:refs)", refs=references)
        statuses: dict[str, list[str]] = {}
        for reference, status in rows:
            statuses.setdefault(reference, []).append(status)
        return statuses

    def all_sent() -> dict[str, list[str]] | None:
        statuses = outbox()
        done = len(statuses) == len(references) and all(
            set(s) == {"sent"} for s in statuses.values())
        return statuses if done else None

    sent = eventually(all_sent, "every notification sent", 120, 0.5)
    assert [len(replicas.providers.sms_to(owner)) for owner in owners] == [
        len(sent[reference]) for reference in references]
    assert query(replicas, "SELECT max(attempts) FROM outbox") == [(1,)]


def test_console_hand_off_across_replicas(replicas: Replicas) -> None:
    """An agent logged in on one replica claims on it, replies through the other, and two
    releases sent at once to both replicas end the hand-off once."""
    citizen = phone()
    texting = Sms(replicas, citizen)  # through nginx, signed over PUBLIC_BASE_URL
    texting("I want to talk to a person")
    handoff_id = eventually(lambda: query(replicas, "SELECT id FROM handoffs WHERE sender_id "
                                          "= :s", s=citizen), "the hand-off")[0][0]
    make_staff(replicas, "replica-agent")
    one = Browser(replicas.replica_urls[0])
    assert one.login("replica-agent")[0] == 303
    two = Browser(replicas.replica_urls[1], jar=one.jar)  # the same browser, other replica
    base = f"/console/handoffs/{handoff_id}"
    _, page, _ = one.get(base)
    token = csrf(page)
    assert one.post(f"{base}/claim", {"csrf_token": token})[0] == 303
    status, _, _ = two.post(f"{base}/reply", {"csrf_token": token,
                                              "text": "Hello, I am Sam from the city."})
    assert status == 303
    assert any("Sam from the city" in m for m in replicas.providers.sms_to(citizen))
    with ThreadPoolExecutor(2) as pool:
        releases = list(pool.map(lambda agent: agent.post(f"{base}/release",
                                                          {"csrf_token": token})[0],
                                 (one, two)))
    assert sorted(releases) == [303, 409]
    assert query(replicas, "SELECT status, resolution FROM handoffs WHERE id = :i",
                 i=handoff_id) == [("resolved", "released")]
    kinds = [t for (t,) in query(replicas, "SELECT type_name FROM events WHERE sender_id = :s "
                                 "AND type_name IN ('pause', 'resume') ORDER BY id", s=citizen)]
    assert kinds == ["pause", "resume"]
    agent_lines = query(replicas, "SELECT count(*) FROM events WHERE sender_id = :s AND "
                        "type_name = 'bot' AND data LIKE '%Sam from the city%'", s=citizen)
    assert agent_lines == [(1,)]
    audit = [a for (a,) in query(replicas, "SELECT action FROM audit_log WHERE target = :t "
                                 "AND action IN ('handoff.release', 'handoff.resolve')",
                                 t=str(handoff_id))]
    assert audit == ["handoff.release"]  # the second release changed nothing


# --- failures: Redis restarted, a replica killed (last: they disturb the stack) -----------------


def test_redis_restarted_during_load_loses_and_doubles_nothing(replicas: Replicas,
                                                               redis_server: PrivateRedis
                                                               ) -> None:
    """Signed SMS keep coming through nginx while Redis stops and starts again: a turn waits
    or fails cleanly (the apology; Twilio's retry of the same MessageSid runs it), and every
    message is in its conversation once, in order."""
    senders = [phone() for _ in range(12)]
    paused_conversations(replicas.database_url, senders)
    per_sender = 8
    restarted = threading.Event()
    outcome: Counter = Counter()

    def converse(sender: str) -> None:
        for n in range(per_sender):
            form = twilio_sms_form(sender, f"note {n}")
            began = time.monotonic()
            while True:
                status, body = sms_post(replicas, replicas.url, form)
                if status == 200 and CALL_CENTRE not in body:
                    outcome["answered"] += 1
                    break
                outcome[f"retried after {status}"] += 1  # the apology: Twilio sends it again
                assert time.monotonic() - began < 90, body
            if n == per_sender // 3 and not restarted.is_set():
                restarted.set()

    with ThreadPoolExecutor(len(senders)) as pool:
        futures = [pool.submit(converse, sender) for sender in senders]
        assert restarted.wait(120)
        redis_server.stop()
        down_at = time.monotonic()
        redis_server.start()
        outcome["redis down ms"] = int((time.monotonic() - down_at) * 1000)
        for future in futures:
            future.result()
    assert outcome["answered"] == per_sender * len(senders), outcome
    for sender in senders:
        assert user_texts(replicas.database_url, sender) == [
            f"note {n}" for n in range(per_sender)], sender
    print(dict(outcome))


def test_a_replica_killed_mid_turn_loses_no_message_of_the_other(replicas: Replicas) -> None:
    """SIGKILL of replica 2 while both serve the same conversations: every message replica 1
    accepted is answered and stored once (a dead holder's lock passes on when its lease
    ends); nginx sends new requests to the living replica."""
    run = secrets.token_hex(3)
    senders = [f"kill-{run}-{n}" for n in range(20)]
    paused_conversations(replicas.database_url, senders)
    first, second = replicas.replica_urls
    victim = replicas.rasa_pid(2)
    results: dict[str, list[int]] = {s: [] for s in senders}
    in_flight = threading.Barrier(len(senders) + 1)

    def on_second(sender: str) -> None:
        in_flight.wait(timeout=60)
        with suppress(OSError):  # the replica died under it: a broken connection
            replicas.rest(second, sender, "to the replica that dies", timeout=30)

    def on_first(sender: str) -> None:
        for n in range(3):
            status, _ = replicas.rest(first, sender, f"kept {n}")
            results[sender].append(status)

    with ThreadPoolExecutor(2 * len(senders)) as pool:
        doomed = [pool.submit(on_second, s) for s in senders]
        in_flight.wait(timeout=60)
        kept = [pool.submit(on_first, s) for s in senders]
        eventually(lambda: query(replicas, "SELECT count(*) FROM events WHERE type_name = "
                                 "'user' AND data LIKE '%replica that dies%' AND sender_id "
                                 "LIKE :p", p=f"kill-{run}-%")[0][0] > 0,
                   "replica 2 under way", 60, 0.02)
        os.kill(victim, signal.SIGKILL)
        for future in kept + doomed:
            future.result()
    assert all(statuses == [200, 200, 200] for statuses in results.values()), results
    for sender in senders:
        stored = user_texts(replicas.database_url, sender)
        assert [t for t in stored if t.startswith("kept")] == ["kept 0", "kept 1", "kept 2"]
        assert stored.count("to the replica that dies") <= 1
    # nginx now answers from the living replica
    assert replicas.rest(replicas.url, f"kill-{run}-after", "hello")[0] == 200
    restarts = [r for r in replicas.records() if r["process"] == "serve"
                and "rasa-2 died" in r["message"]]
    assert len(restarts) == 1 and restarts[0]["level"] == "ERROR"


def test_nothing_unparsed_on_stdout(replicas: Replicas) -> None:
    """The whole run's stdout, failures included, is JSON lines (records() parses each)."""
    records = replicas.records()
    assert all(isinstance(r, dict) and r.get("level") in (
        "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL") for r in records)
    assert re.search(r"\d{4}-\d\d-\d\dT", records[-1]["time"])

