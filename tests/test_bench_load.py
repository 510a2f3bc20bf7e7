"""`make bench`'s load generator (scripts/bench_load.py): the servers' CPU time a turn is what
they really burnt, read from /proc for a process and the processes below it."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time

from scripts.bench_load import System, load, median_row, process_tree, process_tree_cpu_s


def burn(cpu_seconds: float) -> None:
    """Use ``cpu_seconds`` of this process's CPU time (not wall time)."""
    until = time.process_time() + cpu_seconds
    while time.process_time() < until:
        pass


def test_cpu_time_of_a_process_and_its_children() -> None:
    child = subprocess.Popen([sys.executable, "-c",
                              "import time\nu = time.process_time() + 0.3\n"
                              "while time.process_time() < u: pass\ntime.sleep(30)"])
    try:
        assert child.pid in process_tree(os.getpid())
        deadline = time.monotonic() + 20
        while process_tree_cpu_s(child.pid) < 0.25 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert process_tree_cpu_s(child.pid) >= 0.25
        mine = os.times()
        assert process_tree_cpu_s(os.getpid()) - (mine.user + mine.system) >= 0.24
    finally:
        child.kill()
        child.wait()


def test_a_row_gives_the_cpu_a_turn_cost_by_server() -> None:
    counter = itertools.count()

    def send(_sender: str, _text: str) -> bool:
        burn(0.005)  # this "server" works 5 ms of CPU a turn
        return True

    system = System("burner", send, ("a", "b"), lambda: f"s{next(counter)}")
    row = load(system, 1, 0.5, lambda: {"server": time.process_time()})
    assert row["turns"] > 10
    assert 4.5 <= row["cpu_ms_per_turn_by_server"]["server"] <= 15
    assert row["cpu_ms_per_turn"] == row["cpu_ms_per_turn_by_server"]["server"]
    assert 4.5 <= row["client_cpu_ms_per_turn"] <= 15  # the burner runs in the client here
    assert "cpu_ms_per_turn" not in load(system, 1, 0.1)


def test_rounds_of_one_load_give_the_median_of_each_figure() -> None:
    """A round slowed by a burst on the machine does not decide the row (make bench alternates
    the systems over several rounds)."""
    rows = [{"concurrency": 8, "seconds": 5, "turns": turns, "errors": errors,
             "conversations": 2, "msg_per_s": rate, "p50_ms": p50, "p95_ms": p95,
             "p99_ms": p95, "mean_ms": p50, "cpu_ms_per_turn": cpu,
             "cpu_ms_per_turn_by_server": {"rasa": cpu - 5, "action server": 5.0}}
            for turns, errors, rate, p50, p95, cpu in [(100, 0, 20.0, 200.0, 300.0, 30.0),
                                                       (60, 1, 12.0, 400.0, 900.0, 50.0),
                                                       (110, 0, 22.0, 190.0, 280.0, 28.0)]]
    row = median_row(rows)
    assert (row["msg_per_s"], row["p50_ms"], row["p95_ms"], row["cpu_ms_per_turn"]) == \
        (20.0, 200.0, 300.0, 30.0)
    assert row["cpu_ms_per_turn_by_server"] == {"rasa": 25.0, "action server": 5.0}
    assert (row["rounds"], row["turns"], row["errors"], row["concurrency"]) == (3, 270, 1, 8)
