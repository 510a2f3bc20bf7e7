"""`make bench`: CivicLine's signed SMS webhook against stock Rasa, in one run, on loopback.

Measured under the same load generator (scripts/bench_load.py), all running at once and
taking turns (one row each at a load, then the next load; ``--rounds`` times, medians):

- ``stock-rasa``: `rasa init` moodbot, default config, REST channel, in-memory tracker store
  (scripts/bench_stock.py; its trained model is cached under var/bench/ per Rasa version);
- ``civicline-dev``: the development set-up (SQLite, one Sanic worker, in-memory lock);
- ``civicline-pg-redis-2w``: PostgreSQL (a database of its own, dropped afterwards), the Redis
  lock store and ``SANIC_WORKERS=2``.

Each: 1, 8 and 32 concurrent conversations (``--seconds``, default 30 s per row, ``--rounds``,
default 3), then one long conversation (``--long-turns``, default 400) and the resident
memory of each process.
Writes results/bench.json, results/bench.md and results/bench.png; every CivicLine figure is
also a ratio to stock measured in this run. A benchmark, not a test: nothing here fails on a
slow number. ``--quick`` (5 s rows, 60-turn conversation) checks the machinery in ~5 minutes.
Options also from the environment: BENCH_SECONDS, BENCH_LONG_TURNS, BENCH_ROUNDS,
BENCH_CONCURRENCY (e.g. "1,8,32"), BENCH_CONFIGS (e.g. "stock-rasa,civicline-dev").
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import rasa  # noqa: E402

from bot.devtools.clients import SmsClient  # noqa: E402
from scripts import bench_report  # noqa: E402
from scripts.bench_load import (  # noqa: E402
    System,
    load,
    long_conversation,
    median_row,
    process_tree_cpu_s,
    process_tree_rss_mb,
    warm_up,
)
from scripts.bench_stock import running_stock, stock_model  # noqa: E402
from tests.support.clients import channel_hooks  # noqa: E402
from tests.support.databases import postgres_admin, postgres_url  # noqa: E402
from tests.support.providers import Providers  # noqa: E402
from tests.support.stack import STARTUP_SECONDS, Stack, running_stack  # noqa: E402
from tests.support.unique import phone  # noqa: E402
from tests.support.web import http  # noqa: E402

RESULTS = ROOT / "results"
CONFIGS = ("stock-rasa", "civicline-dev", "civicline-pg-redis-2w")
# Six turns a conversation, each one answered (no form left half-way, no hand-off): the same
# kinds of turn for both bots (a greeting, questions, an answer to the bot's question).
STOCK_SCRIPT = ("hello", "I am sad", "yes", "I am feeling great", "are you a bot?", "goodbye")
SMS_SCRIPT = ("hello", "is the bin collection running?", "¿dónde hay wifi gratis?",
              "quels sont les horaires de la mairie ?", "where is the nearest office?",
              "thank you")
REDIS_URL = os.environ.get("CIVICLINE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float,
                        default=float(os.environ.get("BENCH_SECONDS") or 30))
    parser.add_argument("--long-turns", type=int,
                        default=int(os.environ.get("BENCH_LONG_TURNS") or 400))
    parser.add_argument("--concurrency", default=os.environ.get("BENCH_CONCURRENCY") or "1,8,32")
    parser.add_argument("--configs", default=os.environ.get("BENCH_CONFIGS") or ",".join(CONFIGS))
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS") or 3),
                        help="rows of each load per system, alternating systems; medians")
    parser.add_argument("--quick", action="store_true", help="5 s rows, a 60-turn conversation")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.long_turns = 5.0, 60
    args.levels = [int(x) for x in args.concurrency.split(",") if x.strip()]
    args.configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    unknown = set(args.configs) - set(CONFIGS)
    if unknown:
        parser.error(f"unknown configuration(s) {sorted(unknown)}; known: {CONFIGS}")
    return args


def stock_system(url: str) -> System:
    counter = iter(range(10**9))

    def send(sender: str, text: str) -> bool:
        status, body, _ = http("POST", f"{url}/webhooks/rest/webhook",
                               {"sender": sender, "message": text}, timeout=120)
        return status == 200 and bool(body)

    return System("stock-rasa", send, STOCK_SCRIPT, lambda: f"bench-{next(counter)}")


def sms_system(name: str, stack: Stack) -> System:
    hooks = channel_hooks(stack)

    def send(sender: str, text: str) -> bool:
        reply = SmsClient(hooks, sender).send(text)
        return reply.status == 200 and bool(reply.bodies)

    return System(name, send, SMS_SCRIPT, lambda: phone("+1555040"))


@dataclass
class Measured:
    """A running system under measurement: how to reach it and its server processes."""

    system: System
    pids: dict[str, int]
    figures: dict[str, Any] = field(default_factory=lambda: {"load": [], "rounds": []})

    def cpu_seconds(self) -> dict[str, float]:
        return {role: process_tree_cpu_s(pid) for role, pid in self.pids.items()}


def measure_all(measured: list[Measured], args: argparse.Namespace) -> None:
    """Every system warmed up, then ``--rounds`` rounds of rows, the systems taking turns at
    each load (stock, CivicLine dev, CivicLine scaled, stock again ...): the machine's speed
    drifts by a quarter within minutes here, and alternating puts each system's rows in the
    same minutes as stock's. A row's figures are the median of its rounds'."""
    for each in measured:
        print(f"bench: {each.system.name}: warming up", flush=True)
        warm_up(each.system)
    for number in range(1, args.rounds + 1):
        for level in args.levels:
            for each in measured:
                row = load(each.system, level, args.seconds, each.cpu_seconds)
                row["round"] = number
                each.figures["rounds"].append(row)
                print(f"bench: round {number}: {each.system.name}: {level:>2} concurrent: "
                      f"{row['msg_per_s']} msg/s, p50 {row['p50_ms']} ms, p95 {row['p95_ms']} "
                      f"ms, CPU ms a turn {row.get('cpu_ms_per_turn_by_server')}, "
                      f"{row['errors']} errors", flush=True)
    for each in measured:
        each.figures["load"] = [median_row([row for row in each.figures["rounds"]
                                            if row["concurrency"] == level])
                                for level in args.levels]
        if args.long_turns:
            print(f"bench: {each.system.name}: one conversation of {args.long_turns} turns",
                  flush=True)
            long = each.figures["long_conversation"] = long_conversation(each.system,
                                                                         args.long_turns)
            print(f"bench: {each.system.name}: first turns {long['first_ms']} ms, last turns "
                  f"{long['last_ms']} ms ({long['last_over_first']}×)", flush=True)
        each.figures["rss_mb"] = {role: {str(pid): mb for pid, mb in
                                         process_tree_rss_mb(pid).items()}
                                  for role, pid in each.pids.items()}


@contextmanager
def postgres_database() -> Iterator[str]:
    name = f"civicline_bench_{secrets.token_hex(4)}"
    postgres_admin(f'CREATE DATABASE "{name}"')
    try:
        yield postgres_url(name)
    finally:
        postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def running_civicline(name: str, providers: Providers,
                      database: Callable[[], Any]) -> Iterator[Measured]:
    extra = dict(providers.env)
    if name == "civicline-pg-redis-2w":
        extra.update(REDIS_URL=REDIS_URL, SANIC_WORKERS="2")
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as tmp, database() as url:
        start = time.perf_counter()
        print(f"bench: {name}: starting the stack (logs in {tmp})", flush=True)
        with running_stack(Path(tmp), extra_env=extra, database_url=url) as stack:
            actions, rasa_process = stack.processes
            measured = Measured(sms_system(name, stack),
                                {"rasa": rasa_process.pid, "action server": actions.pid})
            measured.figures["ready_s"] = round(time.perf_counter() - start, 1)
            yield measured


@contextmanager
def no_database() -> Iterator[None]:
    yield None


def civicline_training() -> dict[str, Any]:
    """The last `make model` training of the model in use (var/model-train.json), if any."""
    record = ROOT / "var" / "model-train.json"
    model = os.environ.get("CIVICLINE_MODEL", "")
    if record.is_file():
        data = json.loads(record.read_text())
        if Path(data.get("model", "")).name == Path(model).name:
            return {"seconds": data["seconds"], "note": f"`make model`, {data['when']}"}
    return {"seconds": None, "note": "not trained by `make model` on this machine"}


def main() -> int:
    args = options()
    RESULTS.mkdir(exist_ok=True)
    (ROOT / "var" / "bench").mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "run": {"started": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                "machine": f"{os.cpu_count()} cores, {platform.machine()}",
                "rasa": rasa.__version__, "seconds": args.seconds, "rounds": args.rounds,
                "script_turns": len(SMS_SCRIPT), "stock_script": STOCK_SCRIPT,
                "sms_script": SMS_SCRIPT, "model": os.environ.get("CIVICLINE_MODEL")},
        "configurations": {}, "training": {}}
    stock = stock_model(ROOT / "var" / "bench" / "stock-train.log")
    results["training"]["stock-rasa (moodbot)"] = {
        "seconds": stock.training_seconds,
        "note": "`rasa init`, trained in this run" if stock.trained_in_this_run
        else "`rasa init`, cached from an earlier run"}
    results["training"]["civicline"] = civicline_training()
    providers = Providers().start()
    try:
        with ExitStack() as running:
            measured = []
            if "stock-rasa" in args.configs:
                tmp = running.enter_context(tempfile.TemporaryDirectory(prefix="bench-stock-"))
                server = running.enter_context(running_stock(stock.path, Path(tmp),
                                                             STARTUP_SECONDS))
                measured.append(Measured(stock_system(server.url), {"rasa": server.process.pid}))
            for name in ("civicline-dev", "civicline-pg-redis-2w"):
                if name in args.configs:
                    database = (postgres_database if name == "civicline-pg-redis-2w"
                                else no_database)
                    measured.append(running.enter_context(
                        running_civicline(name, providers, database)))
            measure_all(measured, args)
            for each in measured:
                results["configurations"][each.system.name] = each.figures
    finally:
        providers.stop()
    previous = RESULTS / "bench.json"
    if previous.is_file():  # `make bench-first-run`'s figures stay until it runs again
        first_run = json.loads(previous.read_text()).get("first_run")
        if first_run:
            results["first_run"] = first_run
    bench_report.add_ratios(results)
    bench_report.check_targets(results)
    (RESULTS / "bench.json").write_text(json.dumps(results, indent=1, ensure_ascii=False))
    (RESULTS / "bench.md").write_text(bench_report.markdown(results))
    bench_report.chart(results, RESULTS / "bench.png")
    print(bench_report.markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
