"""Where the time of one SMS turn goes: py-spy samples of the Rasa server and the action server
during the first turns of a conversation and during its last turns.

Starts the development stack (SQLite, tests/support/stack.py), sends one conversation of
``--turns`` turns through the signed SMS webhook (the script of `make bench`), and records both
servers with py-spy while the first ``--window`` turns and the last ``--window`` turns run.
Each sample goes to the first category of ``RULES`` whose marks any of its frames shows
(samples of threads waiting are left out), and the report gives each category's milliseconds per
turn (samples x interval / turns). Written to results/profile-turn-<label>.md; py-spy's raw
stacks to var/profile/.

    python -m scripts.profile_turn --label before [--turns 400] [--window 20]
    python -m scripts.profile_turn --label 2w --config civicline-pg-redis-2w

``--config civicline-pg-redis-2w`` profiles the scaled set-up of `make bench` instead: a
PostgreSQL database of its own, the Redis lock store and two Sanic workers (py-spy follows
both worker processes; a turn lands on either).
"""

from __future__ import annotations

import argparse
import collections
import itertools
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.devtools.clients import SmsClient  # noqa: E402
from scripts.bench import REDIS_URL, SMS_SCRIPT, no_database, postgres_database  # noqa: E402
from tests.support.clients import channel_hooks  # noqa: E402
from tests.support.environment import VENV_BIN  # noqa: E402
from tests.support.providers import Providers  # noqa: E402
from tests.support.stack import running_stack  # noqa: E402

RATE = 200  # samples per second
# Stacks whose innermost frame is a thread or the event loop waiting: not work, left out.
IDLE = ("_worker (concurrent/futures/thread.py", "serve (sanic/server/runners.py",
        # with two workers: the parent waiting on them, the lock store's lease renewer asleep
        "poll (multiprocessing/popen_fork.py", "_run (server/lock_store.py:185",
        "wait (threading.py", "select (selectors.py", "_run_once (asyncio/base_events.py")
# (category, substrings of any frame "function (file:line)"): the first rule any frame of a
# stack matches names it, so the more particular rules come first.
RULES = [
    ("tracker store: read (SQL, JSON, replay of the session's events)",
     ("_read_session (", "_retrieve (rasa/core/tracker_store", "retrieve_full_tracker")),
    ("tracker store: write", ("save (rasa/core/tracker_store", "_keep (")),
    ("action calls: the tracker and domain as JSON, HTTP", ("_action_call_format",
                                                            "(rasa/core/actions/action.py",
                                                            "rasa/utils/endpoints.py")),
    ("policies: states of the whole history", ("states_for_tracker_history",)),
    ("policies: the rest of prediction", ("predict_next_with_tracker_if_should",
                                          "_predict_next_with_tracker", "/policies/")),
    ("NLU: parse_message (featurisers, DIET)", ("parse_message",)),
    ("action server: request JSON", ("load_json (sanic/request.py",)),
    ("database connections: open, commit, close", ("do_commit (", "do_close (",
                                                   "on_sqlite_connect (", "_do_get (")),
    ("action server: CivicLine's actions", ("(actions/",)),
    ("action server: rasa_sdk", ("rasa_sdk/",)),
    ("CivicLine channels (signature, dedupe, rendering, database)", ("(channels/",)),
    ("CivicLine bot/ and server/ (database, language detection)", ("(bot/", "(server/")),
    ("Rasa processor, other", ("rasa/core/", "rasa/shared/")),
    ("Sanic / HTTP / asyncio", ("sanic/", "asyncio/", "httptools", "aiohttp")),
]


ENTRY = "(server/rasa_server.py"


def category(stack: list[str]) -> str | None:
    if any(stack[-1].startswith(idle) for idle in IDLE):
        return None
    # The Rasa server's entry point (server/rasa_server.py) is the outermost frame of every
    # stack: not a sign of CivicLine's own work.
    frames = [frame for frame in stack if ENTRY not in frame]
    for name, needles in RULES:
        if any(needle in frame for frame in frames for needle in needles):
            return name
    return "other"


def read_raw(path: Path) -> collections.Counter[str]:
    counts: collections.Counter[str] = collections.Counter()
    if not path.is_file():
        return counts
    for line in path.read_text(errors="replace").splitlines():
        stack, _, number = line.rpartition(" ")
        if stack and number.isdigit() and (name := category(stack.split(";"))):
            counts[name] += int(number)
    return counts


class Recording:
    """py-spy recording one process until stopped."""

    def __init__(self, pid: int, out: Path, subprocesses: bool = False) -> None:
        self.out = out
        self.process = subprocess.Popen(
            [str(VENV_BIN / "py-spy"), "record", "--pid", str(pid), "--rate", str(RATE),
             "--format", "raw", "--output", str(out), "--nonblocking",
             *(["--subprocesses"] if subprocesses else [])],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)  # py-spy attaches

    def stop(self) -> collections.Counter[str]:
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=60)
        return read_raw(self.out)


def turns(client: SmsClient, texts: list[str]) -> list[float]:
    latencies = []
    for text in texts:
        start = time.monotonic()
        reply = client.send(text)
        assert reply.status == 200 and reply.bodies, reply.raw
        latencies.append(time.monotonic() - start)
    return latencies


def window_report(title: str, latencies: list[float],
                  samples: dict[str, collections.Counter[str]]) -> list[str]:
    count = len(latencies)
    lines = [f"## {title}", "",
             f"{count} turns, median {statistics.median(latencies) * 1000:.0f} ms, mean "
             f"{statistics.mean(latencies) * 1000:.0f} ms a turn (wall time at the client).", "",
             "| process | where | ms of CPU a turn | share |", "|---|---|---|---|"]
    for process, counts in samples.items():
        total = sum(counts.values()) or 1
        for name, number in counts.most_common():
            lines.append(f"| {process} | {name} | {number / RATE * 1000 / count:.1f} | "
                         f"{100 * number / total:.0f} % |")
    return [*lines, ""]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--label", default="now")
    parser.add_argument("--turns", type=int, default=400)
    parser.add_argument("--window", type=int, default=20)
    parser.add_argument("--config", default="civicline-dev",
                        choices=("civicline-dev", "civicline-pg-redis-2w"))
    args = parser.parse_args()
    scaled = args.config == "civicline-pg-redis-2w"
    script = list(itertools.islice(itertools.cycle(SMS_SCRIPT), args.turns))
    first, middle, last = (script[:args.window], script[args.window:-args.window],
                           script[-args.window:])
    report = [f"# One SMS turn, profiled ({args.label})", "",
              f"`python -m scripts.profile_turn --label {args.label} --config {args.config}`: "
              + ("PostgreSQL, the Redis lock store and two Sanic workers (py-spy on both), "
                 if scaled else "the development stack (SQLite), ")
              + f"one conversation of {args.turns} turns through the signed SMS "
              f"webhook (the `make bench` script over and over), py-spy at {RATE} Hz on the "
              "Rasa server and the action server (CPU samples only: time spent waiting is "
              "not in them). Each sample is counted in the first category (in the order of "
              "`RULES` in the script) that any of its frames matches.", ""]
    providers = Providers().start()
    try:
        extra = {**providers.env, **({"REDIS_URL": REDIS_URL, "SANIC_WORKERS": "2"}
                                     if scaled else {})}
        database = postgres_database if scaled else no_database
        with tempfile.TemporaryDirectory(prefix="profile-") as tmp, database() as url, \
                running_stack(Path(tmp), extra_env=extra, database_url=url) as stack:
            actions, rasa_process = stack.processes
            client = SmsClient(channel_hooks(stack), "+15550409999")
            turns(SmsClient(channel_hooks(stack), "+15550409998"), list(SMS_SCRIPT))  # warm
            for title, texts in ((f"Turns 1–{args.window}", first), (None, middle),
                                 (f"Turns {args.turns - args.window + 1}–{args.turns}", last)):
                if title is None:
                    turns(client, texts)
                    continue
                part = "first" if texts is first else "last"
                raw = ROOT / "var" / "profile" / f"{args.label}-{part}"
                raw.mkdir(parents=True, exist_ok=True)
                recordings = {"rasa": Recording(rasa_process.pid, raw / "rasa.txt", scaled),
                              "actions": Recording(actions.pid, raw / "actions.txt")}
                latencies = turns(client, texts)
                samples = {name: r.stop() for name, r in recordings.items()}
                report += window_report(title, latencies, samples)
    finally:
        providers.stop()
    out = ROOT / "results" / f"profile-turn-{args.label}.md"
    out.write_text("\n".join(report))
    print("\n".join(report))
    return 0


if __name__ == "__main__":
    sys.exit(os.EX_OK if main() == 0 else 1)
