"""The load generator of `make bench`, the same for every system measured.

A client is one person: a new conversation (a sender never used before) that sends a fixed
script of turns one after another, each waiting for the reply, then starts another; N clients
run at once for a fixed time. Throughput counts the turns answered within that time; latency
is each turn's round trip. The CPU time the servers used during a row, divided by the turns
answered, is the work a turn costs: it moves less than the times with what else runs on the
machine. A long conversation (one sender, hundreds of turns) shows whether a
turn's cost grows with the conversation.
"""

from __future__ import annotations

import itertools
import os
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# send(sender, text) -> True when the reply is a proper answer (status 200, non-empty).
Send = Callable[[str, str], bool]


@dataclass(frozen=True)
class System:
    """Something measured: how to send one turn, the script, and how to name a new sender."""

    name: str
    send: Send
    script: tuple[str, ...]
    sender: Callable[[], str]


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50/p95/p99/mean of ``samples`` (seconds), in milliseconds."""
    if not samples:
        return {"p50_ms": 0.0, "p95_ms": 0.0, "p99_ms": 0.0, "mean_ms": 0.0}
    ordered = sorted(samples)

    def at(fraction: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000, 1)

    return {"p50_ms": at(0.50), "p95_ms": at(0.95), "p99_ms": at(0.99),
            "mean_ms": round(statistics.mean(ordered) * 1000, 1)}


@dataclass
class _Tally:
    latencies: list[float] = field(default_factory=list)
    answered_in_time: int = 0
    errors: int = 0
    conversations: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _client(system: System, deadline: float, tally: _Tally) -> None:
    while time.monotonic() < deadline:
        sender = system.sender()
        with tally.lock:
            tally.conversations += 1
        for text in system.script:
            if time.monotonic() >= deadline:
                return
            start = time.monotonic()
            try:
                ok = system.send(sender, text)
            except OSError:
                ok = False
            end = time.monotonic()
            with tally.lock:
                if not ok:
                    tally.errors += 1
                    continue
                tally.latencies.append(end - start)
                if end <= deadline:
                    tally.answered_in_time += 1


def load(system: System, concurrency: int, seconds: float,
         cpu_seconds: Callable[[], dict[str, float]] | None = None) -> dict[str, Any]:
    """``concurrency`` conversations at once for ``seconds``: turns/s and latency, and the
    servers' CPU milliseconds a turn answered when ``cpu_seconds`` reads their CPU time (by
    server)."""
    tally = _Tally()
    cpu_before = cpu_seconds() if cpu_seconds else {}
    client_before = time.process_time()  # this process: the clients (and idle stand-ins)
    deadline = time.monotonic() + seconds
    threads = [threading.Thread(target=_client, args=(system, deadline, tally), daemon=True)
               for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    row = {"concurrency": concurrency, "seconds": seconds,
           "msg_per_s": round(tally.answered_in_time / seconds, 2),
           "turns": len(tally.latencies), "errors": tally.errors,
           "conversations": tally.conversations, **percentiles(tally.latencies)}
    if tally.latencies:
        row["client_cpu_ms_per_turn"] = round(
            (time.process_time() - client_before) * 1000 / len(tally.latencies), 1)
    if cpu_seconds and tally.latencies:
        per_turn = {role: (used - cpu_before[role]) * 1000 / len(tally.latencies)
                    for role, used in cpu_seconds().items()}
        row["cpu_ms_per_turn"] = round(sum(per_turn.values()), 1)
        row["cpu_ms_per_turn_by_server"] = {role: round(ms, 1) for role, ms in per_turn.items()}
    return row


MEDIAN_KEYS = ("msg_per_s", "p50_ms", "p95_ms", "p99_ms", "mean_ms", "cpu_ms_per_turn",
               "client_cpu_ms_per_turn")


def median_row(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """One load's rows from several rounds as one: the median of each figure (a round that
    a burst on the machine slowed does not decide it), errors and turns added up."""
    first = rows[0]
    row = {"concurrency": first["concurrency"], "seconds": first["seconds"],
           "rounds": len(rows), "turns": sum(r["turns"] for r in rows),
           "errors": sum(r["errors"] for r in rows),
           "conversations": sum(r["conversations"] for r in rows)}
    for key in MEDIAN_KEYS:
        values = [r[key] for r in rows if r.get(key) is not None]
        if values:
            row[key] = round(statistics.median(values), 2 if key == "msg_per_s" else 1)
    by_server = [r["cpu_ms_per_turn_by_server"] for r in rows if "cpu_ms_per_turn_by_server" in r]
    if by_server:
        row["cpu_ms_per_turn_by_server"] = {
            role: round(statistics.median(b[role] for b in by_server), 1)
            for role in by_server[0]}
    return row


def warm_up(system: System, conversations: int = 2) -> None:
    """A few conversations first (caches, connection pools, lazy imports): not measured."""
    for _ in range(conversations):
        sender = system.sender()
        for text in system.script:
            system.send(sender, text)


def long_conversation(system: System, turns: int, window: int = 20) -> dict[str, float]:
    """One conversation of ``turns`` turns (the script over and over): the median latency of
    the first ``window`` turns against that of the last ``window``."""
    sender = system.sender()
    latencies = []
    errors = 0
    for text in itertools.islice(itertools.cycle(system.script), turns):
        start = time.monotonic()
        if not system.send(sender, text):
            errors += 1
        latencies.append(time.monotonic() - start)
    window = min(window, max(1, turns // 4))
    first = statistics.median(latencies[:window]) * 1000
    last = statistics.median(latencies[-window:]) * 1000
    return {"turns": turns, "window": window, "errors": errors,
            "first_ms": round(first, 1), "last_ms": round(last, 1),
            "last_over_first": round(last / first, 2) if first else 0.0,
            "every_turn_ms": [round(x * 1000, 1) for x in latencies]}


def process_tree(root: int) -> list[int]:
    """``root`` and every process below it (Sanic's workers are children of the server)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def process_tree_rss_mb(root: int) -> dict[int, float]:
    """Resident memory (MB) of ``root`` and of every process below it, by pid."""
    found: dict[int, float] = {}
    for pid in process_tree(root):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    found[pid] = round(int(line.split()[1]) / 1024, 1)
        except OSError:
            continue
    return found


def process_tree_cpu_s(root: int) -> float:
    """CPU seconds (user + system) used so far by ``root`` and the processes below it."""
    ticks = 0
    for pid in process_tree(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return ticks / os.sysconf("SC_CLK_TCK")
