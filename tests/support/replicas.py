"""CivicLine as `make serve` runs it (`python -m scripts.production serve`): production mode,
two Rasa replicas with an action server each behind a real nginx, sharing a PostgreSQL
database of their own and a private Redis (tests/test_replicas.py). Also: a private
redis-server that a test may stop and start again (never the machine's shared one), and
conversations put on hold (Rasa's ``ConversationPaused``) straight in the tracker store."""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
import yaml

from bot.domain.catalogue_schema import SECTIONS
from bot.store.seed import DEMO_DATA_PATH
from tests.support.databases import postgres_admin, postgres_url
from tests.support.environment import PRODUCTION_SETTINGS, ROOT, VENV_BIN, base_env, free_port
from tests.support.providers import Providers
from tests.support.stack import STARTUP_SECONDS, Stack, stop_processes, trained_model
from tests.support.waiting import eventually
from tests.support.web import http

REST_TOKEN = "test-rest-token-replicas"


# --- a private Redis ---------------------------------------------------------------------------


@dataclass
class PrivateRedis:
    """A redis-server of this test's own on a free port, with an append-only file written on
    every change (a restart keeps what was there, as a production Redis with AOF does)."""

    workdir: Path
    port: int = 0
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.port = self.port or free_port()
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--dir", str(self.workdir), "--save", "", "--appendonly", "yes",
             "--appendfsync", "always", "--protected-mode", "no", "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        client = redis.Redis.from_url(self.url, socket_timeout=1)
        eventually(lambda: self._pings(client), "the private redis-server answers", 20, 0.05)

    @staticmethod
    def _pings(client: redis.Redis) -> bool:
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


@contextmanager
def private_redis(workdir: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(workdir)
    server.start()
    try:
        yield server
    finally:
        server.stop()


# --- the replicas ------------------------------------------------------------------------------


@dataclass
class Replicas(Stack):
    """`make serve` with two replicas: ``url`` is nginx; ``replica_urls`` each Rasa server."""

    replica_urls: tuple[str, ...] = ()
    supervisor: subprocess.Popen | None = None
    log: Path | None = None

    def records(self) -> list[dict[str, Any]]:
        """Every line the supervisor wrote to stdout, parsed (each must be a JSON object)."""
        return [json.loads(line) for line in self.log.read_text().splitlines() if line]

    def logs(self) -> str:
        return self.log.read_text(errors="replace")[-6000:]

    def rest(self, base: str, sender: str, text: str, timeout: float = 120
             ) -> tuple[int, Any]:
        """One message to the REST channel at ``base`` (a replica, or nginx)."""
        status, body, _ = http("POST", f"{base}/webhooks/rest/webhook",
                               {"sender": sender, "message": text},
                               headers={"Authorization": f"Bearer {REST_TOKEN}"},
                               timeout=timeout)
        return status, body

    def rasa_pid(self, replica: int) -> int:
        """The process id of replica ``replica``'s Rasa server (1-based)."""
        port = self.replica_urls[replica - 1].rsplit(":", 1)[1]
        for pid in descendants(self.supervisor.pid):
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            if b"run" in argv and b"--port" in argv and port.encode() in argv:
                return pid
        raise LookupError(f"no Rasa process on port {port}")


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children first)."""
    found: list[int] = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
            found += children
            todo += children
    return found


def _ready_or_gone(replicas: Replicas) -> bool:
    if replicas.supervisor.poll() is not None:
        raise RuntimeError(f"`make serve` stopped while starting:\n{replicas.logs()}")
    return "CivicLine is ready" in replicas.log.read_text(errors="replace")


def city_catalogue(workdir: Path, env: dict[str, str]) -> None:
    """What an operator does before the first `make serve`: migrate and load the city's own
    catalogue (here the demo's services, offices and digital help, without its cases)."""
    demo = yaml.safe_load(DEMO_DATA_PATH.read_text(encoding="utf-8"))
    city = workdir / "city.yml"
    city.write_text(yaml.safe_dump({name: demo[name] for name in SECTIONS if name in demo},
                                   allow_unicode=True, sort_keys=False), encoding="utf-8")
    for command in (["setup"], ["catalogue", "load", str(city)]):
        subprocess.run([sys.executable, "-m", "bot", *command], cwd=ROOT, env=env, check=True,
                       capture_output=True, timeout=300)


@contextmanager
def running_replicas(workdir: Path, providers: Providers, redis_url: str,
                     extra_env: dict[str, str] | None = None) -> Iterator[Replicas]:
    """`python -m scripts.production serve` with two replicas on an empty PostgreSQL database
    of its own (the supervisor migrates it) and ``redis_url``; stopped and dropped after."""
    name = f"civicline_replicas_{secrets.token_hex(5)}"
    postgres_admin(f'CREATE DATABASE "{name}"')
    database_url = postgres_url(name)
    port, first, action = free_port(), free_port(), free_port()
    while abs(first - action) < 2 or abs(first - port) < 2 or abs(action - port) < 2:
        first, action = free_port(), free_port()
    env = {**base_env(database_url), **PRODUCTION_SETTINGS, **providers.env,
           "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}", "PORT": str(port),
           "CIVICLINE_REPLICAS": "2", "SANIC_WORKERS": "1", "REDIS_URL": redis_url,
           "CIVICLINE_REPLICA_PORT": str(first), "ACTION_PORT": str(action),
           "CIVICLINE_REST_TOKEN": REST_TOKEN, "CIVICLINE_TRUSTED_PROXIES": "127.0.0.1",
           "CIVICLINE_MODEL": str(trained_model()), "CIVICLINE_OUTBOX_POLL_SECONDS": "0.5",
           "CIVICLINE_STARTUP_SECONDS": str(STARTUP_SECONDS), **(extra_env or {})}
    city_catalogue(workdir, env)
    log = workdir / "serve.jsonl"
    replicas = Replicas(url=f"http://127.0.0.1:{port}", database_url=database_url,
                        log_dir=workdir, providers=providers, log=log,
                        replica_urls=(f"http://127.0.0.1:{first}",
                                      f"http://127.0.0.1:{first + 1}"))
    with log.open("w") as out:
        replicas.supervisor = subprocess.Popen(
            [sys.executable, "-m", "scripts.production", "serve"], cwd=ROOT, env=env,
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        eventually(lambda: _ready_or_gone(replicas), "`make serve` ready", STARTUP_SECONDS, 1)
        yield replicas
    finally:
        _stop(replicas.supervisor)
        postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _stop(supervisor: subprocess.Popen) -> None:
    children = descendants(supervisor.pid)
    if supervisor.poll() is None:
        supervisor.send_signal(signal.SIGTERM)
        try:
            supervisor.wait(timeout=60)
        except subprocess.TimeoutExpired:
            supervisor.kill()
    for pid in children:  # whatever outlived its supervisor
        with suppress(OSError):
            os.killpg(pid, signal.SIGKILL)


# --- conversations on hold ---------------------------------------------------------------------


def paused_conversations(database_url: str, senders: list[str]) -> None:
    """Start each conversation paused (``ConversationPaused``, as an agent's hand-off leaves it),
    through CivicLine's tracker store in this process: Rasa then records every message but
    predicts nothing, so a turn is Rasa's lock, NLU, slot mapping and the tracker's read and
    write, without the dialogue's actions."""
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, ConversationPaused, SessionStarted
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.config import get_settings
    from server.tracker_store import CivicLineTrackerStore

    before = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = database_url
    get_settings.cache_clear()
    try:
        store = CivicLineTrackerStore(domain=Domain.empty())

        async def save_all() -> None:
            for sender in senders:
                await store.save(DialogueStateTracker.from_events(sender, [
                    ActionExecuted("action_session_start"), SessionStarted(),
                    ActionExecuted("action_listen"), ConversationPaused()]))

        asyncio.run(save_all())
        store.engine.dispose()
    finally:
        if before is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = before
        get_settings.cache_clear()


def user_texts(database_url: str, sender: str) -> list[str]:
    """The user messages of ``sender``'s conversation in the order Rasa stored them."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT data FROM events WHERE sender_id = :s AND type_name = 'user' "
                "ORDER BY id"), {"s": sender}).all()
    finally:
        engine.dispose()
    return [json.loads(data)["text"] for (data,) in rows]



# --- simultaneous pairs ------------------------------------------------------------------------

RETRIES = 2  # a message answered with an error (nothing done: the lock store timed out) is
# sent again up to this many times; one answered 200 never is


@dataclass
class PairRace:
    """How 2 x ``rounds`` messages per conversation went: statuses, and what was stored."""

    rounds: int
    statuses: Counter
    stored: dict[str, list[str]]
    seconds: float

    def expected(self) -> list[str]:
        """Each conversation's rounds in order, both halves of each (either order inside it)."""
        return [f"round {n}" for n in range(self.rounds) for _ in range(2)]

    def intact(self, sender: str) -> bool:
        texts = self.stored[sender]
        return [t.rsplit(" ", 1)[0] for t in texts] == self.expected() \
            and len(set(texts)) == len(texts)

    def lost(self) -> int:
        """User messages answered 200 but missing from their conversation."""
        return self.statuses[200] - sum(len(set(t)) for t in self.stored.values())

    def refused(self) -> int:
        """Answers other than 200 (each followed by a retry of the same message)."""
        return sum(n for status, n in self.statuses.items() if status != 200)


def pair_race(stack: Stack, bases: tuple[str, str], senders: list[str], rounds: int,
              send: Callable[[str, str, str], int], at_once: int = 10) -> PairRace:
    """``rounds`` rounds per conversation; in each, the conversation gets two messages at the
    same moment (a barrier per pair), one to each of ``bases``; ``at_once`` conversations are
    under way together (the others' turn comes after). ``send(base, sender, text)`` → HTTP
    status."""
    statuses: Counter = Counter()

    def one(base: str, sender: str, text: str, barrier: threading.Barrier) -> None:
        barrier.wait(timeout=60)
        for _ in range(RETRIES + 1):  # a refused message is sent again, as a client would
            status = send(base, sender, text)
            statuses[status] += 1
            if status == 200:
                return

    started = time.monotonic()
    with ThreadPoolExecutor(2 * at_once) as pool:
        for first in range(0, len(senders), at_once):
            wave = senders[first:first + at_once]
            for round_ in range(rounds):
                futures = []
                for sender in wave:
                    barrier = threading.Barrier(2)
                    futures += [
                        pool.submit(one, bases[0], sender, f"round {round_} one", barrier),
                        pool.submit(one, bases[1], sender, f"round {round_} two", barrier)]
                for future in futures:
                    future.result()
    seconds = time.monotonic() - started
    return PairRace(rounds, statuses, {s: user_texts(stack.database_url, s) for s in senders},
                    seconds)


# --- two replicas on Rasa's own RedisLockStore -------------------------------------------------


def stock_lock_endpoints(workdir: Path, redis_url: str, prefix: str) -> Path:
    """endpoints.yml with Rasa 3.6's own ``RedisLockStore`` instead of CivicLine's."""
    from tests.support.lock_race import redis_parts

    host, port, db = redis_parts(redis_url)
    text = (ROOT / "endpoints.yml").read_text()
    text = re.sub(r"lock_store:\n  type: [^\n]+\n",
                  f"lock_store:\n  type: redis\n  url: {host}\n  port: {port}\n  db: {db}\n"
                  f"  key_prefix: {prefix}\n", text)
    assert "type: redis" in text
    path = workdir / "endpoints-stock-lock.yml"
    path.write_text(text)
    return path


@contextmanager
def stock_lock_replicas(workdir: Path, redis_url: str) -> Iterator[Replicas]:
    """Two `rasa run` replicas (one action server between them) on a PostgreSQL database of
    their own, their conversation lock Rasa's ``RedisLockStore`` on ``redis_url``."""
    from tests.support.databases import prepare_database

    name = f"civicline_stock_{secrets.token_hex(5)}"
    postgres_admin(f'CREATE DATABASE "{name}"')
    database_url = postgres_url(name)
    prepare_database(database_url)
    endpoints = stock_lock_endpoints(workdir, redis_url, f"stock{secrets.token_hex(4)}")
    ports, action = (free_port(), free_port()), free_port()
    env = {**base_env(database_url),
           "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{action}/webhook"}
    replicas = Replicas(url=f"http://127.0.0.1:{ports[0]}", database_url=database_url,
                        log_dir=workdir,
                        replica_urls=tuple(f"http://127.0.0.1:{p}" for p in ports))
    commands = [[sys.executable, "-m", "server.action_server", "--port", str(action)]]
    commands += [[str(VENV_BIN / "rasa"), "run", "--model", str(trained_model()),
                  "--endpoints", str(endpoints), "--credentials", "credentials.yml",
                  "--port", str(port), "--interface", "127.0.0.1"] for port in ports]
    try:
        for number, argv in enumerate(commands):
            log = (workdir / f"process-{number}.log").open("w")
            replicas.processes.append(subprocess.Popen(
                argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True))

        def all_ready() -> bool:
            if any(p.poll() is not None for p in replicas.processes):
                raise RuntimeError(f"a server stopped while starting:\n{Stack.logs(replicas)}")
            return all(_answers(f"{url}/ready") for url in replicas.replica_urls)

        eventually(all_ready, "both stock-lock replicas ready", STARTUP_SECONDS, 1)
        yield replicas
    finally:
        stop_processes(replicas.processes, 30)
        postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _answers(url: str) -> bool:
    try:
        return http("GET", url, timeout=2)[0] == 200
    except OSError:
        return False
