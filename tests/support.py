"""Test support: a migrated, seeded database per test, and the real running stack.

The stack is the real thing: `rasa run` with the trained model and our channels, and
`rasa run actions`, on free ports, sharing a fresh SQLite database. It starts once per test
session and is polled on /ready (no sleeping and hoping).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
API_TOKEN = "test-api-token-0123456789"
TWILIO_AUTH_TOKEN = "test-twilio-auth-token"
TELEGRAM_SECRET = "test-telegram-secret"
STARTUP_SECONDS = 240


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def base_env(database_url: str) -> dict[str, str]:
    """The environment every CivicLine process of a test run gets."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CIVICLINE_", "TWILIO_",
                                                                       "TELEGRAM_"))}
    env.update(
        DATABASE_URL=database_url,
        CIVICLINE_ENV="test",
        CIVICLINE_API_TOKEN=API_TOKEN,
        CIVICLINE_SESSION_SECRET="test-session-secret",
        CIVICLINE_CALL_CENTRE_NUMBER="+15550109999",
        TWILIO_AUTH_TOKEN=TWILIO_AUTH_TOKEN,
        TELEGRAM_SECRET_TOKEN=TELEGRAM_SECRET,
        RASA_TELEMETRY_ENABLED="false",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def prepare_database(database_url: str) -> None:
    """Migrate and seed ``database_url`` in a child process (exactly as `make run` does)."""
    subprocess.run([sys.executable, "-m", "bot", "setup"], cwd=ROOT, env=base_env(database_url),
                   check=True, capture_output=True)


def trained_model() -> Path:
    """The model for the current training data: CIVICLINE_MODEL, or trained now if missing."""
    given = os.environ.get("CIVICLINE_MODEL")
    if given and Path(given).is_file():
        return Path(given)
    fingerprint = subprocess.run([sys.executable, "-m", "bot", "fingerprint"], cwd=ROOT,
                                 check=True, capture_output=True, text=True).stdout.strip()
    model = ROOT / "models" / f"civicline-{fingerprint}.tar.gz"
    if not model.is_file():
        subprocess.run([str(VENV_BIN / "rasa"), "train",
                        "--fixed-model-name", model.name.removesuffix(".tar.gz"),
                        "--out", "models", "--quiet"], cwd=ROOT, check=True,
                       env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"})
    return model


def http(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None,
         raw: bytes | None = None, timeout: float = 30) -> tuple[int, Any, dict[str, str]]:
    """A tiny HTTP client: (status, parsed JSON or text, headers)."""
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    request = urllib.request.Request(url, data=data, method=method)
    if body is not None and raw is None:
        request.add_header("Content-Type", "application/json")
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            status, payload, resp_headers = resp.status, resp.read(), dict(resp.headers)
    except urllib.error.HTTPError as exc:
        status, payload, resp_headers = exc.code, exc.read(), dict(exc.headers)
    text = payload.decode("utf-8", "replace")
    try:
        return status, json.loads(text), resp_headers
    except ValueError:
        return status, text, resp_headers


@dataclass
class Stack:
    """The running Rasa server and action server."""

    url: str
    database_url: str
    log_dir: Path
    processes: list[subprocess.Popen] = field(default_factory=list)

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

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-4000:] for p in self.log_dir.glob("*.log"))


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
def running_stack(workdir: Path, extra_env: dict[str, str] | None = None) -> Iterator[Stack]:
    """Start the action server and the Rasa server; stop both afterwards."""
    database_url = f"sqlite:///{workdir / 'civicline.db'}"
    prepare_database(database_url)
    model = trained_model()
    port, action_port = free_port(), free_port()
    env = base_env(database_url)
    env.update(ACTION_ENDPOINT_URL=f"http://127.0.0.1:{action_port}/webhook",
               PUBLIC_BASE_URL=f"http://127.0.0.1:{port}", **(extra_env or {}))
    stack = Stack(url=f"http://127.0.0.1:{port}", database_url=database_url, log_dir=workdir)
    commands = {
        "actions": [str(VENV_BIN / "rasa"), "run", "actions", "--actions", "actions",
                    "--port", str(action_port)],
        "rasa": [str(VENV_BIN / "rasa"), "run", "--model", str(model),
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
        for process in stack.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in stack.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
