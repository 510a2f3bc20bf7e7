"""`make bench-first-run`: how long a newcomer's first `make run` takes to a serving assistant,
and an unchanged second one (issue 12: ≤ 8 min and ≤ 45 s; progress shown the whole time).

Clones this repository's committed HEAD into a temporary directory and runs `make run` there as
a newcomer would: a new venv installed from the packages this machine offers pip (its wheel
cache and indexes), development secrets, the database, the model trained from scratch, both
servers. Timed until the Rasa server answers a message on its REST channel, then stopped with
Ctrl-C (SIGINT); then `make run` again in the same clone, unchanged, timed the same way. For
each: the time to the answer, the time at which each phase (`== ...` line) began, and the
longest stretch without a line of output (what "progress the whole time" means here), with the
load average of the machine. The figures go into results/bench.json ("first_run") and
results/bench.md, beside the last `make bench` run's.

    python -m scripts.bench_first_run [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts import bench_report  # noqa: E402
from tests.support.environment import free_port  # noqa: E402
from tests.support.web import http  # noqa: E402

RESULTS = ROOT / "results"
LIMIT_SECONDS = 60 * 60  # give up on a run after this (it is then recorded as unanswered)
# What a newcomer's shell would not have: this project's own settings (a developer's .env values
# exported, a test run's), which would change what `make run` does.
NOT_INHERITED = ("CIVICLINE_", "DATABASE_URL", "REDIS_URL", "RABBITMQ_URL", "SANIC_WORKERS",
                 "VIRTUAL_ENV", "PYTHONPATH")


def newcomer_env(port: int, action_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(NOT_INHERITED)}
    env.update(PORT=str(port), ACTION_PORT=str(action_port), PYTHONUNBUFFERED="1")
    return env


def answered(port: int) -> bool:
    try:
        status, body, _ = http("POST", f"http://127.0.0.1:{port}/webhooks/rest/webhook",
                               {"sender": "+15550100001", "message": "hello"}, timeout=20)
    except OSError:
        return False
    return status == 200 and bool(body)


def timed_run(clone: Path, log: Path, label: str) -> dict[str, Any]:
    """`make run` in ``clone`` until the assistant answers; then Ctrl-C. Its figures."""
    port, action_port = free_port(), free_port()
    load_before = os.getloadavg()
    start = time.monotonic()
    phases: list[dict[str, Any]] = []
    last_line = [start]
    longest_silence = [0.0, ""]
    lock = threading.Lock()
    out = log.open("w")
    process = subprocess.Popen(["make", "run"], cwd=clone, env=newcomer_env(port, action_port),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)

    def read() -> None:
        assert process.stdout is not None
        for raw in iter(process.stdout.readline, b""):
            now = time.monotonic()
            line = raw.decode("utf-8", "replace").rstrip()
            out.write(f"{now - start:8.1f}  {line}\n")
            out.flush()
            with lock:
                if now - last_line[0] > longest_silence[0]:
                    longest_silence[:] = [now - last_line[0], line[:100]]
                last_line[0] = now
                if line.startswith("== "):
                    phases.append({"phase": line[3:].split(":")[0],
                                   "at_s": round(now - start, 1)})

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    print(f"first-run: {label}: `make run` in {clone} (output: {log})", flush=True)
    ready_s = None
    try:
        while time.monotonic() - start < LIMIT_SECONDS:
            if process.poll() is not None:
                raise RuntimeError(f"`make run` stopped (exit {process.returncode}): see {log}")
            if answered(port):
                ready_s = round(time.monotonic() - start, 1)
                break
            time.sleep(1)
        else:
            print(f"first-run: {label}: no answer within {LIMIT_SECONDS} s: see {log}",
                  flush=True)
    finally:
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C, as a person would stop it
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        reader.join(timeout=10)
        out.close()
    with lock:
        # The silence until the answer counts too: nothing printed while the model loads.
        end = start + ready_s if ready_s is not None else time.monotonic()
        tail = end - last_line[0]
        silence = max(longest_silence[0], tail)
        after = longest_silence[1] if silence == longest_silence[0] else "(until ready)"
    figures = {"ready_s": ready_s, "gave_up_s": None if ready_s else LIMIT_SECONDS,
               "phases": phases,
               "longest_silence_s": round(silence, 1), "longest_silence_after": after,
               "load_average_before": [round(x, 2) for x in load_before],
               "load_average_after": [round(x, 2) for x in os.getloadavg()]}
    print(f"first-run: {label}: answered after {ready_s} s; longest silence "
          f"{figures['longest_silence_s']} s; phases {phases}", flush=True)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keep", action="store_true", help="keep the clone (for a look)")
    parser.add_argument("--unchanged-here", action="store_true",
                        help="only the unchanged run, in this checkout (set up and trained)")
    args = parser.parse_args()
    if args.unchanged_here:
        return record(ROOT, None, timed_run(ROOT, ROOT / "var" / "bench" / "second-run.log",
                                            "unchanged (this checkout)"))
    tmp = Path(tempfile.mkdtemp(prefix="civicline-first-run-"))
    clone = tmp / "civicline"
    try:
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
        logs = ROOT / "var" / "bench"
        logs.mkdir(parents=True, exist_ok=True)
        first = timed_run(clone, logs / "first-run.log", "fresh clone")
        second = (timed_run(clone, logs / "second-run.log", "unchanged")
                  if first["ready_s"] is not None else None)
    finally:
        if not args.keep:
            subprocess.run(["rm", "-rf", str(tmp)], check=False)
    return record(clone, first, second)


def record(where: Path, first: dict[str, Any] | None, second: dict[str, Any] | None) -> int:
    """Both runs into results/bench.json (a run not measured now keeps its last figures)."""
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout.strip()
    path = RESULTS / "bench.json"
    results = json.loads(path.read_text()) if path.is_file() else {}
    kept = results.get("first_run") or {}
    figures = {"measured": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
               "commit": head, "first": first or kept.get("first"),
               "unchanged": second or kept.get("unchanged")}
    if "configurations" not in results:
        print(json.dumps(figures, indent=1))
        return 0
    results["first_run"] = figures
    bench_report.check_targets(results)
    path.write_text(json.dumps(results, indent=1, ensure_ascii=False))
    (RESULTS / "bench.md").write_text(bench_report.markdown(results))
    print(bench_report.markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
