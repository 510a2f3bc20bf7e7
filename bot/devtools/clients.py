"""A phone texting, a phone calling, a phone dialling USSD and a Telegram user, over HTTP to
the running server.

They send what the providers would send (:mod:`bot.devtools.webhooks`) and read the answer as
a person would get it: each SMS body, what a caller hears and may press, Telegram's replies.
The simulator (:mod:`bot.devtools.repl`) and the tests drive the webhooks with them.
"""

from __future__ import annotations

import itertools
import json
import secrets
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from bot.devtools.webhooks import ACCOUNT_SID, FORM, TWILIO_NUMBER, Webhooks, post, twilio_post

# --- SMS -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SmsReply:
    status: int
    bodies: list[str]
    raw: str
    media: list[str] = field(default_factory=list)  # the reply's <Media> URLs (WhatsApp, MMS)


def parse_messages(twiml: str) -> list[str]:
    """Each ``<Message>``'s text: its own, or its ``<Body>``'s when it has media."""
    return [m.findtext("Body") if m.find("Body") is not None else m.text or ""
            for m in ET.fromstring(twiml).iter("Message")]


def parse_media(twiml: str) -> list[str]:
    return [media.text or "" for media in ET.fromstring(twiml).iter("Media")]


class SmsClient:
    """A phone texting the SMS webhook; ``whatsapp``: writing on WhatsApp instead, as Twilio
    posts it to the same webhook (``From=whatsapp:+…``, ``ProfileName``, ``WaId``)."""

    path = "/webhooks/sms/webhook"

    def __init__(self, hooks: Webhooks, phone: str, whatsapp: bool = False) -> None:
        self.hooks, self.phone, self.whatsapp = hooks, phone, whatsapp

    def params(self, body: str, **extra: str) -> dict[str, str]:
        if self.whatsapp:
            return {"MessageSid": "SM" + secrets.token_hex(16), "AccountSid": ACCOUNT_SID,
                    "From": f"whatsapp:{self.phone}", "To": f"whatsapp:{TWILIO_NUMBER}",
                    "Body": body, "NumMedia": "0", "ProfileName": "Simulated",
                    "WaId": self.phone.lstrip("+"), "SmsStatus": "received",
                    "ApiVersion": "2010-04-01", **extra}
        return {"MessageSid": "SM" + secrets.token_hex(16), "AccountSid": ACCOUNT_SID,
                "From": self.phone, "To": TWILIO_NUMBER, "Body": body, "NumMedia": "0",
                "FromCity": "", "FromState": "", "FromCountry": "", **extra}

    def post(self, params: dict[str, str], signature: str | None = None) -> SmsReply:
        status, text = twilio_post(self.hooks, self.hooks.public_base_url + self.path, params,
                                   signature)
        if status != 200:
            return SmsReply(status, [], text)
        return SmsReply(status, parse_messages(text), text, parse_media(text))

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


# --- USSD ------------------------------------------------------------------------------------

USSD_SERVICE_CODE = "*384*2468#"


@dataclass(frozen=True)
class UssdScreen:
    """What a USSD gateway got back: the screen, and whether the session waits for a key."""

    status: int
    raw: str

    @property
    def waits(self) -> bool:
        return self.status == 200 and self.raw.startswith("CON ")

    @property
    def ends(self) -> bool:
        return self.status == 200 and self.raw.startswith("END ")

    @property
    def text(self) -> str:
        return self.raw[4:] if self.waits or self.ends else self.raw


class UssdClient:
    """A phone dialling the USSD code: each request carries every answer of the session so
    far, joined by ``*``, as Africa's Talking sends them."""

    path = "/webhooks/ussd/webhook"

    def __init__(self, hooks: Webhooks, phone: str, network_code: str = "63902") -> None:
        self.hooks, self.phone, self.network_code = hooks, phone, network_code
        self.session_id = ""
        self.answers: list[str] = []

    def params(self, **extra: str) -> dict[str, str]:
        return {"sessionId": self.session_id, "serviceCode": USSD_SERVICE_CODE,
                "phoneNumber": self.phone, "networkCode": self.network_code,
                "text": "*".join(self.answers), **extra}

    def post(self, params: dict[str, str], headers: dict[str, str] | None = None
             ) -> UssdScreen:
        status, text = post(self.hooks.url + self.path, urlencode(params).encode(),
                            {"Content-Type": FORM, **(headers or {})})
        return UssdScreen(status, text)

    def dial(self) -> UssdScreen:
        """A new session (a new ``sessionId``, no answers yet)."""
        self.session_id = "ATUid_" + secrets.token_hex(12)
        self.answers = []
        return self.post(self.params())

    def answer(self, keys: str) -> UssdScreen:
        self.answers.append(keys)
        return self.post(self.params())

    def resend(self) -> UssdScreen:
        """The gateway sends the last request again."""
        return self.post(self.params())


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
