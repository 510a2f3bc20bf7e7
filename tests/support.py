"""Test support: a migrated, seeded database per test, and the real running stack.

The stack is the real thing: `rasa run` with the trained model and our channels, and the
action server (server/action_server.py, behind its secret), on free ports, sharing a fresh
SQLite database. It starts once per test session and is polled on /ready (no sleeping and
hoping).
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
ACTION_SECRET = "test-action-secret"
# A value for every setting production mode requires (bot.config.PRODUCTION_REQUIRED): a test of
# one missing setting sets these and removes that one.
PRODUCTION_SETTINGS = {
    "CIVICLINE_ENV": "production",
    "PUBLIC_BASE_URL": "https://civicline.example.org",
    "TWILIO_ACCOUNT_SID": "AC" + "2" * 32,
    "TWILIO_AUTH_TOKEN": TWILIO_AUTH_TOKEN,
    "TWILIO_FROM_NUMBER": "+15550109000",
    "TELEGRAM_SECRET_TOKEN": TELEGRAM_SECRET,
    "CIVICLINE_CALL_CENTRE_NUMBER": "+15550109999",
    "CIVICLINE_API_TOKEN": API_TOKEN,
    "CIVICLINE_SESSION_SECRET": "test-session-secret",
    "CIVICLINE_SUPPRESSION_KEY": "test-suppression-key",
    "CIVICLINE_DOB_KEY": "test-dob-key",
    "CIVICLINE_ACTION_SECRET": ACTION_SECRET,
}
STARTUP_SECONDS = int(os.environ.get("CIVICLINE_STARTUP_SECONDS") or 240)  # slow machines: more


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
        CIVICLINE_ENV_FILE=os.devnull,  # a developer's own .env never decides a test
        CIVICLINE_API_TOKEN=API_TOKEN,
        CIVICLINE_SESSION_SECRET="test-session-secret",
        CIVICLINE_CALL_CENTRE_NUMBER="+15550109999",
        TWILIO_AUTH_TOKEN=TWILIO_AUTH_TOKEN,
        TELEGRAM_SECRET_TOKEN=TELEGRAM_SECRET,
        CIVICLINE_ACTION_SECRET=ACTION_SECRET,
        RASA_TELEMETRY_ENABLED="false",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
        PYTHONDONTWRITEBYTECODE="1",
        # The shared stack serves the whole suite from 127.0.0.1, many turns a minute per
        # sender: its abuse limits are set out of reach here; tests/test_abuse*.py set their own.
        CIVICLINE_RATE_PER_SENDER="10000",
        CIVICLINE_RATE_PER_ADDRESS="100000",
        CIVICLINE_SMS_BUDGET_PER_HOUR="100000",
        CIVICLINE_SMS_COUNTRIES="*",  # the demo data has Spanish, French and Moroccan numbers
        CIVICLINE_LOGIN_FAILURES_PER_ADDRESS="100000",
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
        subprocess.run([str(VENV_BIN / "rasa"), "train", "--domain", "domain",
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


# --- Stand-ins for Twilio's and Telegram's APIs (issue 3) ---------------------------------------
# Small local HTTP servers speaking the providers' wire formats, started before the stack so its
# processes get their addresses (TWILIO_API_BASE_URL, TELEGRAM_API_BASE_URL). They record what
# the project sends; nothing else about the stack is faked.

TWILIO_ACCOUNT_SID = "AC" + "1" * 32
TELEGRAM_BOT_TOKEN = "123456:test-telegram-bot-token"
TWILIO_INVALID_NUMBER = "+15005550001"  # the stand-in refuses it, as Twilio does (21211)
TELEGRAM_BLOCKED_CHAT = 403  # the stand-in answers 403 Forbidden: the user blocked the bot


@dataclass
class Sent:
    """One request the project made to a provider: the API method and its parameters."""

    method: str
    params: dict[str, Any]


class Providers:
    """The Twilio REST and Telegram Bot API stand-ins, in one local HTTP server."""

    def __init__(self) -> None:
        import threading

        from pytest_httpserver import HTTPServer

        self.server = HTTPServer(host="127.0.0.1", port=free_port())
        self.sent: list[Sent] = []
        self.updates: list[dict[str, Any]] = []  # what getUpdates hands out (polling mode)
        self._lock = threading.Lock()
        self._ids = iter(range(1, 10**9))

    def start(self) -> Providers:
        import logging
        import re

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log in test output

        self.server.expect_request(re.compile(r"^/2010-04-01/Accounts/[^/]+/Messages\.json$"),
                                   method="POST").respond_with_handler(self._twilio)
        self.server.expect_request(re.compile(r"^/bot[^/]+/\w+$"),
                                   method="POST").respond_with_handler(self._telegram)
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.clear()
        if self.server.is_running():
            self.server.stop()

    @property
    def env(self) -> dict[str, str]:
        base = f"http://127.0.0.1:{self.server.port}"
        return {"TWILIO_API_BASE_URL": base, "TWILIO_ACCOUNT_SID": TWILIO_ACCOUNT_SID,
                "TELEGRAM_BOT_TOKEN": TELEGRAM_BOT_TOKEN,
                "TELEGRAM_API_BASE_URL": f"{base}/bot"}

    def _record(self, method: str, params: dict[str, Any]) -> int:
        with self._lock:
            self.sent.append(Sent(method, params))
            return next(self._ids)

    @staticmethod
    def _params(request: Any) -> dict[str, Any]:
        if request.is_json:
            return dict(request.get_json())
        return {key: request.form.get(key) for key in request.form}

    def _twilio(self, request: Any) -> Any:
        from werkzeug import Response

        params = self._params(request)
        number = self._record("Messages", params)
        if params.get("To") == TWILIO_INVALID_NUMBER:
            error = {"code": 21211, "message": "The 'To' number is not a valid phone number.",
                     "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}
            return Response(json.dumps(error), status=400, content_type="application/json")
        sid = f"SM{number:032x}"
        body = {"sid": sid, "account_sid": TWILIO_ACCOUNT_SID, "to": params.get("To"),
                "from": params.get("From"), "body": params.get("Body"), "status": "queued",
                "num_segments": "1", "num_media": "0", "direction": "outbound-api",
                "api_version": "2010-04-01", "price": None, "error_code": None,
                "date_created": "Mon, 01 Dec 2025 10:00:00 +0000",
                "uri": f"/2010-04-01/Accounts/{TWILIO_ACCOUNT_SID}/Messages/{sid}.json"}
        return Response(json.dumps(body), status=201, content_type="application/json")

    def _telegram(self, request: Any) -> Any:
        from werkzeug import Response

        method = request.path.rsplit("/", 1)[-1]
        params = self._params(request)
        for key in ("reply_markup",):
            if isinstance(params.get(key), str):
                params[key] = json.loads(params[key])
        number = self._record(method, params)
        if str(params.get("chat_id")) == str(TELEGRAM_BLOCKED_CHAT):
            error = {"ok": False, "error_code": 403,
                     "description": "Forbidden: bot was blocked by the user"}
            return Response(json.dumps(error), status=403, content_type="application/json")
        if method == "sendMessage":
            result: Any = {"message_id": number, "date": int(time.time()),
                           "chat": {"id": int(params.get("chat_id") or 0), "type": "private"},
                           "text": params.get("text", "")}
        elif method == "getUpdates":
            offset = int(params.get("offset") or 0)
            result = [u for u in self.updates if u["update_id"] >= offset]
        elif method == "getMe":
            result = {"id": 123456, "is_bot": True, "first_name": "CivicLine",
                      "username": "civicline_test_bot"}
        else:
            result = True
        return Response(json.dumps({"ok": True, "result": result}),
                        content_type="application/json")

    def messages(self, method: str, **where: Any) -> list[dict[str, Any]]:
        """The parameters of every ``method`` call matching ``where`` (as strings)."""
        with self._lock:
            return [s.params for s in self.sent if s.method == method and all(
                str(s.params.get(k)) == str(v) for k, v in where.items())]


def channel_hooks(stack: Stack) -> Any:
    """The simulator's view of the stack: where to post and which secrets to use."""
    from bot.devtools.webhooks import Webhooks

    return Webhooks(url=stack.url, public_base_url=stack.url,
                    twilio_auth_token=TWILIO_AUTH_TOKEN, telegram_secret=TELEGRAM_SECRET)


def new_case(stack: Stack, phone: str | None, *, status: str = "approved",
             language: str = "en", date_of_birth: str = "1980-01-31",
             service: str = "id_cards") -> str:
    """A case of its own for one test, created through the API; its 8-digit reference."""
    body = {"service": service, "status": status, "language": language,
            "date_of_birth": date_of_birth, **({"phone": phone} if phone else {})}
    status_code, created = stack.api("POST", "/api/cases", body)
    assert status_code == 201, created
    return created["reference"]


def spaced(reference: str) -> str:
    return f"{reference[:4]} {reference[4:]}"


def query(stack: Stack, sql: str, **params: Any) -> list[tuple]:
    """Rows of a read-only query on the stack's database."""
    from sqlalchemy import create_engine, text

    engine = create_engine(stack.database_url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql), params)]
    finally:
        engine.dispose()


def json_column(value: Any) -> Any:
    """A JSON column as :func:`query` returns it: text on SQLite, already parsed on
    PostgreSQL."""
    return json.loads(value) if isinstance(value, (str, bytes)) else value


def user_turns(stack: Stack, sender_id: str) -> int:
    """How many user messages Rasa has processed for ``sender_id``."""
    return query(stack, "SELECT count(*) FROM events WHERE sender_id = :s AND type_name = 'user'",
                 s=sender_id)[0][0]


def execute(stack: Stack, sql: str, **params: Any) -> None:
    """One write on the stack's database (test set-up only)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(stack.database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text(sql), params)
    finally:
        engine.dispose()


@contextmanager
def staffed(stack: Stack, on_duty: bool) -> Iterator[None]:
    """The call centre staffed all week (``on_duty``) or never, for one test; then restored."""
    before = query(stack, "SELECT weekday, opens, closes FROM staffed_hours")
    execute(stack, "DELETE FROM staffed_hours")
    for day in range(7):
        execute(stack, "INSERT INTO staffed_hours (weekday, opens, closes) VALUES (:d, :o, :c)",
                d=day, o="00:00" if on_duty else None, c="24:00" if on_duty else None)
    try:
        yield
    finally:
        execute(stack, "DELETE FROM staffed_hours")
        for day, opens, closes in before:
            execute(stack, "INSERT INTO staffed_hours (weekday, opens, closes) "
                           "VALUES (:d, :o, :c)", d=day, o=opens, c=closes)
