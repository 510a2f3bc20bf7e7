"""Stock Rasa for `make bench`: the `rasa init` moodbot, default config, REST channel, in-memory
tracker store, served on loopback beside CivicLine so both are measured in the same run.

The moodbot is created and trained in a temporary directory (`rasa init --no-prompt`); its
trained model is cached under ``var/bench/`` keyed by the installed Rasa version, with the
training time, so later runs start at once.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import rasa

from tests.support.environment import ROOT, VENV_BIN, free_port
from tests.support.web import http

CACHE = ROOT / "var" / "bench"
# The moodbot's own credentials.yml enables the REST channel among commented-out others.
CREDENTIALS = "rest:\n"


@dataclass(frozen=True)
class StockModel:
    path: Path
    training_seconds: float
    trained_in_this_run: bool


def stock_model(log: Path) -> StockModel:
    """The trained moodbot of this Rasa version: cached, or created and trained now."""
    model = CACHE / f"stock-rasa-{rasa.__version__}.tar.gz"
    meta = model.with_suffix("").with_suffix(".json")
    if model.is_file() and meta.is_file():
        return StockModel(model, json.loads(meta.read_text())["training_seconds"], False)
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="stock-rasa-") as tmp:
        print(f"bench: stock Rasa {rasa.__version__}: rasa init --no-prompt in {tmp} "
              f"(trains the moodbot once; log {log})", flush=True)
        start = time.perf_counter()
        with log.open("w") as out:
            subprocess.run([str(VENV_BIN / "rasa"), "init", "--no-prompt", "--init-dir", tmp],
                           cwd=tmp, check=True, stdout=out, stderr=subprocess.STDOUT,
                           env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"})
        seconds = round(time.perf_counter() - start, 1)
        trained = sorted(Path(tmp, "models").glob("*.tar.gz"))
        if not trained:
            raise RuntimeError(f"rasa init trained no model: see {log}")
        shutil.copy(trained[-1], model)
    meta.write_text(json.dumps({"rasa": rasa.__version__, "training_seconds": seconds}))
    return StockModel(model, seconds, True)


@dataclass
class StockServer:
    url: str
    process: subprocess.Popen


@contextmanager
def running_stock(model: Path, workdir: Path, startup_seconds: float) -> Iterator[StockServer]:
    """`rasa run` of the moodbot: REST channel, no endpoints (in-memory tracker and lock)."""
    (workdir / "credentials.yml").write_text(CREDENTIALS)
    port = free_port()
    log = (workdir / "stock-rasa.log").open("w")
    process = subprocess.Popen(
        [str(VENV_BIN / "rasa"), "run", "--model", str(model), "--credentials",
         "credentials.yml", "--port", str(port), "--interface", "127.0.0.1"],
        cwd=workdir, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"})
    server = StockServer(f"http://127.0.0.1:{port}", process)
    try:
        deadline = time.monotonic() + startup_seconds
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"stock Rasa exited: see {workdir / 'stock-rasa.log'}")
            try:  # the agent is loaded before the server listens; one turn proves it
                status, body, _ = http("POST", f"{server.url}/webhooks/rest/webhook",
                                       {"sender": "warm-up", "message": "hello"}, timeout=10)
                if status == 200 and body:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("stock Rasa was not ready in time")
            time.sleep(0.5)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
