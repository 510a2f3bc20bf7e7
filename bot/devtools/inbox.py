"""Twilio's REST ``Messages.json`` on localhost, for the simulator: what the server sends
*later* (status notifications, an agent's replies) reaches the simulated phone, by SMS or on
WhatsApp (free text, or an approved template: ``ContentSid`` and ``ContentVariables``), and
each message is reported ``sent``, ``delivered`` (and on WhatsApp ``read``) to its
``StatusCallback``, signed as Twilio signs it.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bot.devtools.webhooks import Webhooks, twilio_post
from bot.messaging.sms.encoding import encoding, segments

MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<sid>[^/]+)/Messages\.json$")


def describe(form: dict[str, str], media: list[str]) -> str:
    """A message sent later, as the simulated phone shows it."""
    body = form.get("Body", "")
    if form.get("ContentSid"):
        words = json.loads(form.get("ContentVariables") or "{}").get("1", "")
        head = f"[WhatsApp template {form['ContentSid']}, sent later]"
        body = words
    elif form["To"].startswith("whatsapp:"):
        head = f"[WhatsApp from CivicLine, sent later] {len(body)} chars"
    else:
        head = (f"[SMS from CivicLine, sent later] {encoding(body)}, {segments(body)} "
                "segment(s)")
    shown = f"\n  {head}\n  " + body.replace("\n", "\n  ")
    return shown + "".join(f"\n  [media] {url}" for url in media)


def report(hooks: Webhooks, form: dict[str, str], sid: str) -> None:
    """Twilio's status callbacks for one message: sent, delivered (and read on WhatsApp)."""
    statuses = ["sent", "delivered"] + (["read"] if form["To"].startswith("whatsapp:") else [])
    for status in statuses:
        try:
            twilio_post(hooks, form["StatusCallback"],
                        {"MessageSid": sid, "MessageStatus": status, "To": form["To"],
                         "From": form.get("From") or form.get("MessagingServiceSid", ""),
                         "AccountSid": "AC" + "0" * 32, "ApiVersion": "2010-04-01"})
        except OSError:
            return


class TwilioInbox:
    """Twilio's REST ``Messages.json`` on localhost: what the server sends *later* (status
    notifications, an agent's replies) reaches the simulated phone. Start the server with
    ``TWILIO_API_BASE_URL=http://127.0.0.1:PORT`` to use it; it answers as Twilio does (201
    and the message's JSON) and shows each message sent to ``phone``.
    """

    def __init__(self, port: int, phone: str, out: Callable[[str], None],
                 hooks: Webhooks | None = None) -> None:
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                match = MESSAGES_PATH.match(urlsplit(self.path).path)
                length = int(self.headers.get("Content-Length") or 0)
                query = parse_qs(self.rfile.read(length).decode())
                form = {k: v[0] for k, v in query.items()}
                if match is None or not form.get("To") or not (form.get("Body")
                                                               or form.get("ContentSid")):
                    self._answer(400, {"code": 21604, "message": "A 'To' and a 'Body' are "
                                       "required", "status": 400})
                    return
                inbox.received += 1
                sid = f"SM{secrets.token_hex(16)}"
                if form["To"].removeprefix("whatsapp:") == phone:
                    out(describe(form, query.get("MediaUrl", [])))
                self._answer(201, {"sid": sid, "account_sid": match["sid"], "to": form["To"],
                                   "from": form.get("From"), "body": form.get("Body", ""),
                                   "status": "queued", "api_version": "2010-04-01"})
                if hooks is not None and form.get("StatusCallback"):
                    threading.Thread(target=report, daemon=True,
                                     args=(hooks, form, sid)).start()

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args: Any) -> None:  # no access log in the conversation
                pass

        self.received = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> TwilioInbox:
        self.thread.start()
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
