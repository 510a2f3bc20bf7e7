"""Talk to CivicLine's SMS, Telegram and voice webhooks without Twilio or Telegram.

``python -m bot simulate sms|telegram|voice [--from +PHONE] [--url http://localhost:5005]``
sends what the providers would send, over HTTP, to the running server: Twilio requests signed
with the local ``TWILIO_AUTH_TOKEN`` (``RequestValidator.compute_signature`` over
``PUBLIC_BASE_URL`` + path, as Twilio signs them), Telegram updates with the secret token
header. It shows each SMS with its encoding and segment count, Telegram's buttons, and what a
caller hears and may press. The clients below are also what the tests drive the webhooks with.

Only HTTP: nothing here imports the channels.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import secrets
import sys
import threading
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from twilio.request_validator import RequestValidator

from bot.config import get_settings
from bot.messaging.sms.encoding import encoding, segments

FORM = "application/x-www-form-urlencoded"
TWILIO_NUMBER = "+15005550006"
ACCOUNT_SID = "AC" + "0" * 32


@dataclass(frozen=True)
class Webhooks:
    """Where the server is, and the secrets the providers would use."""

    url: str  # where requests go, e.g. http://localhost:5005
    public_base_url: str  # what Twilio signs (PUBLIC_BASE_URL of the server)
    twilio_auth_token: str
    telegram_secret: str

    @classmethod
    def from_settings(cls, url: str | None = None) -> Webhooks:
        settings = get_settings()
        return cls(url=(url or settings.public_base_url).rstrip("/"),
                   public_base_url=settings.public_base_url,
                   twilio_auth_token=settings.twilio_auth_token,
                   telegram_secret=settings.telegram_secret_token)

    def local(self, public: str) -> str:
        """A public URL (a <Gather> action) as the URL to request here."""
        parts = urlsplit(public)
        return self.url + parts.path + (f"?{parts.query}" if parts.query else "")


def post(url: str, body: bytes, headers: dict[str, str], timeout: float = 30
         ) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            return reply.status, reply.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def twilio_signature(token: str, url: str, params: dict[str, str]) -> str:
    return RequestValidator(token).compute_signature(url, params)


def twilio_post(hooks: Webhooks, public_url: str, params: dict[str, str],
                signature: str | None = None) -> tuple[int, str]:
    """POST ``params`` as Twilio would, to ``public_url`` (signed unless given one)."""
    if signature is None:
        signature = twilio_signature(hooks.twilio_auth_token, public_url, params)
    headers = {"Content-Type": FORM}
    if signature:
        headers["X-Twilio-Signature"] = signature
    return post(hooks.local(public_url), urlencode(params).encode(), headers)


# --- SMS -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SmsReply:
    status: int
    bodies: list[str]
    raw: str


def parse_messages(twiml: str) -> list[str]:
    return [m.text or "" for m in ET.fromstring(twiml).iter("Message")]


class SmsClient:
    """A phone texting the SMS webhook."""

    path = "/webhooks/sms/webhook"

    def __init__(self, hooks: Webhooks, phone: str) -> None:
        self.hooks, self.phone = hooks, phone

    def params(self, body: str, **extra: str) -> dict[str, str]:
        return {"MessageSid": "SM" + secrets.token_hex(16), "AccountSid": ACCOUNT_SID,
                "From": self.phone, "To": TWILIO_NUMBER, "Body": body, "NumMedia": "0",
                "FromCity": "", "FromState": "", "FromCountry": "", **extra}

    def post(self, params: dict[str, str], signature: str | None = None) -> SmsReply:
        status, text = twilio_post(self.hooks, self.hooks.public_base_url + self.path, params,
                                   signature)
        bodies = parse_messages(text) if status == 200 else []
        return SmsReply(status, bodies, text)

    def send(self, body: str, **extra: str) -> SmsReply:
        return self.post(self.params(body, **extra))


# --- Voice -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Said:
    text: str
    language: str
    voice: str


@dataclass
class CallTurn:
    """What the caller hears and can do after one request."""

    status: int
    raw: str
    says: list[Said] = field(default_factory=list)
    gather: dict[str, str] | None = None  # the <Gather>'s attributes
    dial: str | None = None
    hangup: bool = False
    redirect: str | None = None

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.says)

    @classmethod
    def parse(cls, status: int, raw: str) -> CallTurn:
        turn = cls(status, raw)
        if status != 200:
            return turn
        root = ET.fromstring(raw)
        for element in root.iter():
            if element.tag == "Say":
                turn.says.append(Said(element.text or "", element.get("language", ""),
                                      element.get("voice", "")))
            elif element.tag == "Gather":
                turn.gather = dict(element.attrib)
            elif element.tag == "Dial":
                turn.dial = (element.text or "").strip()
            elif element.tag == "Hangup":
                turn.hangup = True
            elif element.tag == "Redirect":
                turn.redirect = (element.text or "").strip()
        return turn


class CallClient:
    """A phone call to the voice webhook: start, then press keys, speak or stay silent."""

    path = "/webhooks/voice/webhook"

    def __init__(self, hooks: Webhooks, phone: str) -> None:
        self.hooks, self.phone = hooks, phone
        self.call_sid = "CA" + secrets.token_hex(16)
        self.last: CallTurn | None = None

    def params(self, **extra: str) -> dict[str, str]:
        return {"CallSid": self.call_sid, "AccountSid": ACCOUNT_SID, "From": self.phone,
                "To": TWILIO_NUMBER, "Direction": "inbound", "CallStatus": "in-progress",
                **extra}

    def request(self, url: str, params: dict[str, str], signature: str | None = None
                ) -> CallTurn:
        status, raw = twilio_post(self.hooks, url, params, signature)
        self.last = CallTurn.parse(status, raw)
        return self.last

    def start(self) -> CallTurn:
        return self.request(self.hooks.public_base_url + self.path,
                            self.params(CallStatus="ringing"))

    def next_url(self) -> str:
        assert self.last is not None and self.last.gather, "the call is not listening"
        return self.last.gather["action"]

    def press(self, digits: str) -> CallTurn:
        return self.request(self.next_url(), self.params(Digits=digits))

    def say(self, speech: str) -> CallTurn:
        return self.request(self.next_url(), self.params(SpeechResult=speech,
                                                         Confidence="0.9"))

    def silence(self) -> CallTurn:
        return self.request(self.next_url(), self.params())


# --- Telegram --------------------------------------------------------------------------------

_update_ids = itertools.count(int(time.time() * 1000) % 10**9)


class TelegramClient:
    """A Telegram user writing to the bot (updates shaped as the Bot API sends them)."""

    path = "/webhooks/telegram/webhook"

    def __init__(self, hooks: Webhooks, user_id: int, first_name: str = "Sam",
                 language_code: str | None = None) -> None:
        self.hooks, self.user_id, self.first_name = hooks, user_id, first_name
        self.language_code = language_code  # the app's language, as Telegram sends it
        self.message_ids = itertools.count(1)
        self.last_callback_id: str | None = None

    def user(self) -> dict[str, Any]:
        user = {"id": self.user_id, "is_bot": False, "first_name": self.first_name}
        return {**user, "language_code": self.language_code} if self.language_code else user

    def message(self, **content: Any) -> dict[str, Any]:
        return {"message_id": next(self.message_ids), "date": int(time.time()),
                "chat": {"id": self.user_id, "type": "private", "first_name": self.first_name},
                "from": self.user(), **content}

    def update(self, **kinds: Any) -> dict[str, Any]:
        return {"update_id": next(_update_ids), **kinds}

    def post(self, update: Any, secret: str | None = None) -> tuple[int, Any]:
        secret = self.hooks.telegram_secret if secret is None else secret
        headers = {"Content-Type": "application/json"}
        if secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        body = update if isinstance(update, bytes) else json.dumps(update).encode()
        status, text = post(self.hooks.url + self.path, body, headers)
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text

    def send(self, text: str) -> tuple[int, Any]:
        entities = ([{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
                    if text.startswith("/") else [])
        return self.post(self.update(message=self.message(text=text, entities=entities)))

    def press(self, data: str) -> tuple[int, Any]:
        self.last_callback_id = secrets.token_hex(8)  # Telegram's callback_query id
        query = {"id": self.last_callback_id, "from": self.user(), "chat_instance": "1",
                 "data": data, "message": self.message(text="…")}
        return self.post(self.update(callback_query=query))

    def share_contact(self, phone: str, own: bool = True) -> tuple[int, Any]:
        contact = {"phone_number": phone, "first_name": self.first_name,
                   "user_id": self.user_id if own else self.user_id + 1}
        return self.post(self.update(message=self.message(contact=contact)))

    def send_photo(self, caption: str | None = None) -> tuple[int, Any]:
        sizes = [{"file_id": f"photo-{size}", "file_unique_id": f"u{size}", "width": size,
                  "height": size} for size in (90, 320, 800)]
        extra = {"caption": caption} if caption else {}
        return self.post(self.update(message=self.message(photo=sizes, **extra)))


# --- the interactive simulator ---------------------------------------------------------------

def _show_sms(reply: SmsReply, out: Callable[[str], None]) -> None:
    if reply.status != 200:
        out(f"  [HTTP {reply.status}] {reply.raw}")
    if reply.status == 200 and not reply.bodies:
        out("  (no reply)")
    for body in reply.bodies:
        out(f"  [{encoding(body)}, {segments(body)} segment(s), {len(body)} chars]")
        out("  " + body.replace("\n", "\n  "))


def _show_call(turn: CallTurn, out: Callable[[str], None]) -> None:
    if turn.status != 200:
        out(f"  [HTTP {turn.status}] {turn.raw}")
        return
    for said in turn.says:
        out(f"  🔊 ({said.language}, {said.voice}) {said.text}")
    if turn.dial:
        out(f"  📞 transferring the call to {turn.dial}")
    if turn.hangup:
        out("  (the call ends)")
    elif turn.gather:
        keys = ("keys ending with #" if turn.gather.get("finishOnKey") == "#"
                else "one key" if turn.gather.get("numDigits") == "1" else "keys")
        out(f"  … listening ({turn.gather.get('language')}): press {keys}, or speak")


def _show_telegram(status: int, body: Any, out: Callable[[str], None]) -> list[list[str]]:
    if status != 200 or not isinstance(body, dict):
        out(f"  [HTTP {status}] {body}")
        return []
    buttons: list[list[str]] = []
    for reply in body.get("replies") or []:
        out("  " + reply["text"].replace("\n", "\n  "))
        for title, data in reply.get("buttons") or []:
            buttons.append([title, data])
            out(f"   [{len(buttons)}] {title}")
        if reply.get("contact_button"):
            out(f"   [📱 {reply['contact_button']}]  (type /contact to share your phone)")
    if body.get("ignored") or body.get("duplicate"):
        out(f"  ({body.get('ignored') or 'duplicate'})")
    return buttons


HELP = {
    "sms": "Type a text message ('/photo' sends an MMS photo). 'quit' to stop.",
    "telegram": ("Type a message or a command (/start, /help, /language). '/press N' presses "
                 "button N, '/contact' shares your phone, '/photo' sends a photo. 'quit' ends."),
    "voice": ("Type keys to press (digits, end references with #) or words to say them. "
              "An empty line is silence. 'quit' hangs up."),
}


def _open_inbox(port: int, phone: str, out: Callable[[str], None]) -> TwilioInbox | None:
    try:
        inbox = TwilioInbox(port, phone, out)
    except OSError as exc:
        out(f"(later messages not shown: port {port} is taken: {exc.strerror})")
        return None
    out(f"Later messages (notifications) show here when the server runs with "
        f"TWILIO_API_BASE_URL={inbox.url}")
    return inbox


def run(channel: str, phone: str, url: str | None = None,
        read: Callable[[str], str] = input, out: Callable[[str], None] = print,
        inbox_port: int | None = None) -> int:
    """The interactive session; returns an exit status. With ``inbox_port`` (SMS), later
    messages to ``phone`` are shown too (:class:`TwilioInbox`)."""
    hooks = Webhooks.from_settings(url)
    out(f"CivicLine {channel} simulator -> {hooks.url} (as {phone}). {HELP[channel]}")
    inbox = _open_inbox(inbox_port, phone, out) if channel == "sms" and inbox_port else None
    try:
        if channel == "sms":
            with inbox or contextlib.nullcontext():
                _sms_loop(SmsClient(hooks, phone), read, out)
        elif channel == "voice":
            _voice_loop(CallClient(hooks, phone), read, out)
        else:
            user_id = int("".join(ch for ch in phone if ch.isdigit())[-9:] or "1")
            _telegram_loop(TelegramClient(hooks, user_id), phone, read, out)
    except (EOFError, KeyboardInterrupt):
        out("")
    except OSError as exc:
        out(f"error: cannot reach {hooks.url} ({exc}). Is `make run` going?")
        return 1
    return 0


def _sms_loop(client: SmsClient, read: Callable[[str], str], out: Callable[[str], None]
              ) -> None:
    while (line := read("you> ")).strip().lower() != "quit":
        if line.strip().lower().startswith("/photo"):  # an MMS, with any words after /photo
            words = line.strip()[len("/photo"):].strip()
            _show_sms(client.send(words, NumMedia="1", MediaUrl0=SAMPLE_PHOTO_URL,
                                  MediaContentType0="image/jpeg"), out)
            continue
        _show_sms(client.send(line), out)


SAMPLE_PHOTO_URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM0/Media/ME0"
MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<sid>[^/]+)/Messages\.json$")


class TwilioInbox:
    """Twilio's REST ``Messages.json`` on localhost: what the server sends *later* (status
    notifications, an agent's replies) reaches the simulated phone. Start the server with
    ``TWILIO_API_BASE_URL=http://127.0.0.1:PORT`` to use it; it answers as Twilio does (201
    and the message's JSON) and shows each message sent to ``phone``.
    """

    def __init__(self, port: int, phone: str, out: Callable[[str], None]) -> None:
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                match = MESSAGES_PATH.match(urlsplit(self.path).path)
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if match is None or not form.get("To") or not form.get("Body"):
                    self._answer(400, {"code": 21604, "message": "A 'To' and a 'Body' are "
                                       "required", "status": 400})
                    return
                inbox.received += 1
                sid = f"SM{secrets.token_hex(16)}"
                if form["To"] == phone:
                    out(f"\n  [SMS from CivicLine, sent later] {encoding(form['Body'])}, "
                        f"{segments(form['Body'])} segment(s)\n  "
                        + form["Body"].replace("\n", "\n  "))
                self._answer(201, {"sid": sid, "account_sid": match["sid"], "to": form["To"],
                                   "from": form.get("From"), "body": form["Body"],
                                   "status": "queued", "api_version": "2010-04-01"})

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


def _voice_loop(call: CallClient, read: Callable[[str], str], out: Callable[[str], None]
                ) -> None:
    turn = call.start()
    while True:
        _show_call(turn, out)
        if turn.redirect:
            turn = call.request(turn.redirect, call.params())
            continue
        if turn.hangup or not turn.gather:
            return
        line = read("caller> ").strip()
        if line.lower() == "quit":
            return
        keys = line.replace(" ", "")
        if keys and all(ch.isdigit() or ch in "#*" for ch in keys):
            turn = call.press(keys.rstrip("#"))
        else:
            turn = call.say(line) if line else call.silence()


def _telegram_loop(client: TelegramClient, phone: str, read: Callable[[str], str],
                   out: Callable[[str], None]) -> None:
    buttons: list[list[str]] = []
    while (line := read("you> ").strip()).lower() != "quit":
        if line.startswith("/press"):
            number = line.removeprefix("/press").strip()
            if not number.isdigit() or not 1 <= int(number) <= len(buttons):
                out("  (no such button)")
                continue
            status, body = client.press(buttons[int(number) - 1][1])
        elif line == "/contact":
            status, body = client.share_contact(phone)
        elif line == "/photo":
            status, body = client.send_photo()
        else:
            status, body = client.send(line)
        buttons = _show_telegram(status, body, out) or buttons


def main(channel: str, phone: str, url: str | None, inbox_port: int | None = None) -> int:
    if not sys.stdin.isatty():
        print("(reading lines from standard input)")
    return run(channel, phone, url, inbox_port=inbox_port)
