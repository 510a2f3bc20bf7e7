"""Stand-ins for Twilio's and Telegram's APIs (issue 3): small local HTTP servers speaking the
providers' wire formats, started before a stack so its processes get their addresses
(TWILIO_API_BASE_URL, TELEGRAM_API_BASE_URL). They record what the project sends and answer as
the providers do, refusals included; nothing else about the project is replaced.

The stand-in is shared by the whole session (the stack's dispatcher may still be delivering a
notification of an earlier test): a test counts only its own messages, by its own recipient
(:meth:`Providers.messages` with ``To=`` or ``chat_id=``), and never clears what others sent.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pytest_httpserver import HTTPServer
from werkzeug import Response

from tests.support.environment import free_port

if TYPE_CHECKING:
    from tests.support.stack import Stack

TWILIO_ACCOUNT_SID = "AC" + "1" * 32
TELEGRAM_BOT_TOKEN = "123456:test-telegram-bot-token"
TWILIO_INVALID_NUMBER = "+15005550001"  # the stand-in refuses it, as Twilio does (21211)
TELEGRAM_BLOCKED_CHAT = 403  # the stand-in answers 403 Forbidden: the user blocked the bot
TWILIO_MESSAGES = re.compile(r"^/2010-04-01/Accounts/[^/]+/Messages\.json$")


@dataclass
class Sent:
    """One request the project made to a provider: the API method and its parameters."""

    method: str
    params: dict[str, Any]


class Providers:
    """The Twilio REST and Telegram Bot API stand-ins, in one local HTTP server."""

    def __init__(self) -> None:
        self.server = HTTPServer(host="127.0.0.1", port=free_port())
        self.sent: list[Sent] = []  # what the providers accepted or refused (not outages)
        self.turned_away: list[Sent] = []  # what hit an outage (503): never reached them
        self.updates: list[dict[str, Any]] = []  # what getUpdates hands out (polling mode)
        self._lock = threading.Lock()
        self._ids = iter(range(1, 10**9))
        self._outages: dict[str, int] = {}  # recipient -> how many more 503s
        self._sids: list[tuple[str, dict[str, Any]]] = []  # each accepted message's MessageSid

    def start(self) -> Providers:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log in test output
        self.server.expect_request(TWILIO_MESSAGES, method="POST").respond_with_handler(
            self._twilio)
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

    def twilio_unavailable(self, to: str, times: int) -> None:
        """Twilio answers the next ``times`` messages to ``to`` with 503 Service Unavailable
        (listed in ``turned_away``, not in ``sent``)."""
        with self._lock:
            self._outages[to] = self._outages.get(to, 0) + times

    def messages(self, method: str, **where: Any) -> list[dict[str, Any]]:
        """The parameters of every ``method`` call matching ``where`` (as strings)."""
        with self._lock:
            return [s.params for s in self.sent if s.method == method and all(
                str(s.params.get(k)) == str(v) for k, v in where.items())]

    def message_sids(self, **where: Any) -> list[str]:
        """The MessageSid Twilio answered for each accepted message matching ``where``."""
        with self._lock:
            return [sid for sid, params in self._sids if all(
                str(params.get(k)) == str(v) for k, v in where.items())]

    def sms_to(self, phone: str) -> list[str]:
        """Bodies of the SMS sent to ``phone`` through Twilio's REST API, oldest first."""
        return [m.get("Body", "") for m in self.messages("Messages", To=phone)]

    def _record(self, method: str, params: dict[str, Any]) -> int:
        with self._lock:
            self.sent.append(Sent(method, params))
            return next(self._ids)

    def _outage(self, to: str) -> bool:
        with self._lock:
            left = self._outages.get(to, 0)
            if left:
                self._outages[to] = left - 1
            return bool(left)

    @staticmethod
    def _params(request: Any) -> dict[str, Any]:
        if request.is_json:
            return dict(request.get_json())
        return {key: request.form.get(key) for key in request.form}

    def _twilio(self, request: Any) -> Any:
        params = self._params(request)
        if self._outage(str(params.get("To"))):
            with self._lock:
                self.turned_away.append(Sent("Messages", params))
            return Response("Service Unavailable", status=503)
        number = self._record("Messages", params)
        if params.get("To") == TWILIO_INVALID_NUMBER:
            error = {"code": 21211, "message": "The 'To' number is not a valid phone number.",
                     "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}
            return Response(json.dumps(error), status=400, content_type="application/json")
        sid = f"SM{number:032x}"
        with self._lock:
            self._sids.append((sid, params))
        body = {"sid": sid, "account_sid": TWILIO_ACCOUNT_SID, "to": params.get("To"),
                "from": params.get("From"), "body": params.get("Body"),
                # through a Messaging Service Twilio first accepts, then queues
                "status": "accepted" if params.get("MessagingServiceSid") else "queued",
                "num_segments": "1", "num_media": "0", "direction": "outbound-api",
                "api_version": "2010-04-01", "price": None, "error_code": None,
                "date_created": "Mon, 01 Dec 2025 10:00:00 +0000",
                "uri": f"/2010-04-01/Accounts/{TWILIO_ACCOUNT_SID}/Messages/{sid}.json"}
        return Response(json.dumps(body), status=201, content_type="application/json")

    def _telegram(self, request: Any) -> Any:
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


def sms_to(stack: Stack, phone: str) -> list[str]:
    """Bodies of the SMS the stack has sent to ``phone`` through Twilio's REST API."""
    assert stack.providers is not None
    return stack.providers.sms_to(phone)


@contextmanager
def hung_provider() -> Iterator[tuple[str, list[socket.socket]]]:
    """A provider that accepts every connection and never answers: its address and the
    connections it accepted so far."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}", accepted
    finally:
        stop.set()
        thread.join(5)
        for connection in accepted:
            connection.close()
        server.close()
