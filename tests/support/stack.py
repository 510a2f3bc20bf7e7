"""The real stack: `rasa run` with the trained model and our channels, and the action server
(server/action_server.py, behind its secret), on free ports, sharing a fresh database. It is
polled on /ready (no sleeping and hoping). Its data: tests/support/stack_data.py."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.support.databases import prepare_database
from tests.support.environment import API_TOKEN, ROOT, VENV_BIN, base_env, free_port
from tests.support.web import http

if TYPE_CHECKING:
    from tests.support.providers import Providers

STARTUP_SECONDS = int(os.environ.get("CIVICLINE_STARTUP_SECONDS") or 240)  # slow machines: more


def trained_model() -> Path:
    """The model for the current training data: CIVICLINE_MODEL, or trained now if missing."""
    given = os.environ.get("CIVICLINE_MODEL")
    if given and Path(given).is_file():
        return Path(given)
    fingerprint = subprocess.run([sys.executable, "-m", "bot", "fingerprint"], cwd=ROOT,
                                 check=True, capture_output=True, text=True).stdout.strip()
    model = ROOT / "models" / f"civicline-{fingerprint}.tar.gz"
    if not model.is_file():
        subprocess.run([str(VENV_BIN / "rasa"), "train", "--domain", "domain",
                        "--fixed-model-name", model.name.removesuffix(".tar.gz"),
                        "--out", "models", "--quiet"], cwd=ROOT, check=True,
                       env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"})
    return model


@dataclass
class Stack:
    """The running Rasa server and action server."""

    url: str
    database_url: str
    log_dir: Path
    processes: list[subprocess.Popen] = field(default_factory=list)
    providers: Providers | None = None  # the Twilio and Telegram stand-ins, when running
    action_url: str = ""  # the action server's own address (loopback)

    def say(self, sender: str, text: str) -> list[dict[str, Any]]:
        """Send one message through Rasa's REST channel; return the bot's messages."""
        status, body, _ = http("POST", f"{self.url}/webhooks/rest/webhook",
                               {"sender": sender, "message": text})
        assert status == 200, (status, body)
        return body

    def texts(self, sender: str, text: str) -> list[str]:
        return [m.get("text", "") for m in self.say(sender, text)]

    def api(self, method: str, path: str, body: Any = None, token: str | None = API_TOKEN,
            **kwargs: Any) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        status, payload, _ = http(method, f"{self.url}{path}", body, headers=headers, **kwargs)
        return status, payload

    def api_items(self, path: str, token: str | None = API_TOKEN) -> list[Any]:
        """Every item of a paginated API list, page after page (next_cursor until null)."""
        items: list[Any] = []
        cursor = None
        while True:
            joiner = "&" if "?" in path else "?"
            status, page = self.api("GET", path + (f"{joiner}cursor={cursor}" if cursor else ""),
                                    token=token)
            assert status == 200, (path, status, page)
            items += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                return items

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-4000:] for p in self.log_dir.glob("*.log"))

    def full_logs(self) -> str:
        """Everything both servers have logged so far."""
        return "\n".join(p.read_text(errors="replace") for p in self.log_dir.glob("*.log"))

    def log_marks(self) -> dict[Path, int]:
        """Where each log ends now, for :meth:`logs_since`."""
        return {p: p.stat().st_size for p in self.log_dir.glob("*.log")}

    def logs_since(self, marks: dict[Path, int]) -> str:
        """What both servers have logged since ``marks``."""
        parts = []
        for path in self.log_dir.glob("*.log"):
            with path.open("rb") as log:
                log.seek(marks.get(path, 0))
                parts.append(log.read().decode("utf-8", "replace"))
        return "\n".join(parts)


def _wait_ready(stack: Stack) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        for process in stack.processes:
            if process.poll() is not None:
                raise RuntimeError(f"a server exited while starting:\n{stack.logs()}")
        try:
            status, _, _ = http("GET", f"{stack.url}/ready", timeout=2)
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"the stack was not ready in {STARTUP_SECONDS}s:\n{stack.logs()}")


@contextmanager
def running_stack(workdir: Path, extra_env: dict[str, str] | None = None,
                  database_url: str | None = None) -> Iterator[Stack]:
    """Start the action server and the Rasa server on ``database_url`` (default: a new SQLite
    file in ``workdir``), migrated and seeded; stop both afterwards."""
    database_url = database_url or f"sqlite:///{workdir / 'civicline.db'}"
    prepare_database(database_url)
    model = trained_model()
    port, action_port = free_port(), free_port()
    env = base_env(database_url)
    env.update(ACTION_ENDPOINT_URL=f"http://127.0.0.1:{action_port}/webhook",
               PUBLIC_BASE_URL=f"http://127.0.0.1:{port}", **(extra_env or {}))
    stack = Stack(url=f"http://127.0.0.1:{port}", database_url=database_url, log_dir=workdir,
                  action_url=f"http://127.0.0.1:{action_port}")
    commands = {
        "actions": [sys.executable, "-m", "server.action_server", "--port", str(action_port)],
        "rasa": [sys.executable, "-m", "server.rasa_server", "run", "--model", str(model),
                 "--endpoints", "endpoints.yml", "--credentials", "credentials.yml",
                 "--port", str(port), "--interface", "127.0.0.1"],
    }
    try:
        for name, command in commands.items():
            log = (workdir / f"{name}.log").open("w")
            stack.processes.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=log,
                                                    stderr=subprocess.STDOUT,
                                                    start_new_session=True))
        _wait_ready(stack)
        yield stack
    finally:
        stop_processes(stack.processes, 20)


def stop_processes(processes: list[subprocess.Popen], timeout: float) -> None:
    """Each process group asked to stop (SIGTERM), then killed if it has not after ``timeout``
    seconds."""
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
