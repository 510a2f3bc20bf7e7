"""Requests as the providers send them, for the channels' own parsers without a server: the
form fields of Twilio's SMS and Voice webhooks, Telegram's Update JSON, and a real Sanic
request carrying them (its URL, query and body), as the webhooks receive them.

Field names and shapes are Twilio's and the Bot API's own (twilio.com/docs/messaging/guides/
webhook-request, twilio.com/docs/voice/twiml#request-parameters, core.telegram.org/bots/api).
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs, urlencode

from sanic import Sanic
from sanic.compat import Header
from sanic.request import Request, RequestParameters

from tests.support.providers import TWILIO_ACCOUNT_SID

OUR_NUMBER = "+15005550006"  # the number CivicLine texts and answers from
_APP: list[Sanic] = []


def twilio_sms_form(sender: str, body: str, *, media: Sequence[tuple[str, str]] = (),
                    opt_out_type: str | None = None) -> dict[str, str]:
    """An incoming SMS (or MMS with ``media``: (content type, URL) pairs) as Twilio posts it;
    ``opt_out_type`` as Advanced Opt-Out adds it (STOP, START, HELP)."""
    sid = "SM" + secrets.token_hex(16)
    form = {"ToCountry": "US", "ToState": "CA", "SmsMessageSid": sid, "NumMedia": str(len(media)),
            "ToCity": "", "FromZip": "", "SmsSid": sid, "FromState": "", "SmsStatus": "received",
            "FromCity": "", "Body": body, "FromCountry": "", "To": OUR_NUMBER, "ToZip": "",
            "NumSegments": "1", "MessageSid": sid, "AccountSid": TWILIO_ACCOUNT_SID,
            "From": sender, "ApiVersion": "2010-04-01"}
    for index, (content_type, url) in enumerate(media):
        form[f"MediaContentType{index}"] = content_type
        form[f"MediaUrl{index}"] = url
    if opt_out_type:
        form["OptOutType"] = opt_out_type
    return form


def twilio_media_url(kind: str = "ME") -> str:
    """Where Twilio keeps an MMS attachment."""
    return (f"https://api.twilio.com/2010-04-01/Accounts/{TWILIO_ACCOUNT_SID}/Messages/"
            f"MM{secrets.token_hex(16)}/Media/{kind}{secrets.token_hex(16)}")


def twilio_call_form(sender: str, call_sid: str, *, digits: str | None = None,
                     speech: str | None = None, status: str = "in-progress") -> dict[str, str]:
    """A request of a call as Twilio posts it: the call starting (``status`` "ringing") or a
    ``<Gather>`` ending, with keypad ``digits`` ("#" included when pressed) or ``speech``."""
    form = {"AccountSid": TWILIO_ACCOUNT_SID, "ApiVersion": "2010-04-01", "CallSid": call_sid,
            "CallStatus": status, "Called": OUR_NUMBER, "Caller": sender, "Direction": "inbound",
            "From": sender, "FromCountry": "US", "To": OUR_NUMBER, "ToCountry": "US"}
    if digits is not None:
        form.update(Digits=digits, FinishedOnKey="#" if digits.endswith("#") else "",
                    msg="Gather End")
    if speech is not None:
        form.update(SpeechResult=speech, Confidence="0.91")
    return form


def form_params(form: dict[str, str]) -> RequestParameters:
    """A posted form as Sanic parses it (blank values kept: Twilio signs them too)."""
    return RequestParameters(parse_qs(urlencode(form), keep_blank_values=True))


def sanic_request(path: str, body: bytes = b"", method: str = "POST") -> Request:
    """A Sanic request for ``path`` (with its query string) and ``body``, as a webhook gets
    it: what the channels' parsers read (args, path, body)."""
    if not _APP:
        _APP.append(Sanic("civicline_wire"))
    request = Request(path.encode(), Header(), "1.1", method, None, _APP[0])
    request.body = body
    return request


# --- Telegram ----------------------------------------------------------------------------------


def telegram_user(user_id: int, language_code: str | None = "en",
                  first_name: str = "Amina") -> dict[str, Any]:
    user = {"id": user_id, "is_bot": False, "first_name": first_name}
    return {**user, "language_code": language_code} if language_code else user


def telegram_message(user: dict[str, Any], message_id: int = 1, chat_type: str = "private",
                     **content: Any) -> dict[str, Any]:
    """A message from ``user`` in their private chat with the bot (``content``: text,
    photo, contact …); a text starting with "/" carries its bot_command entity."""
    chat = {"id": user["id"], "first_name": user["first_name"], "type": chat_type}
    if chat_type != "private":
        chat = {"id": -1001234567890, "title": "Neighbours", "type": chat_type}
    text = content.get("text")
    if isinstance(text, str) and text.startswith("/"):
        content["entities"] = [{"offset": 0, "length": len(text.split()[0]),
                                "type": "bot_command"}]
    return {"message_id": message_id, "from": user, "chat": chat, "date": int(time.time()),
            **content}


def telegram_update(update_id: int, **kinds: Any) -> dict[str, Any]:
    """An Update: ``message=…``, ``callback_query=…``, ``edited_message=…``."""
    return {"update_id": update_id, **kinds}


def telegram_photo(file_id: str = "AgACAgQAAxkBAAIB") -> list[dict[str, Any]]:
    """A photo as Telegram sends it: the same picture in three sizes, smallest first."""
    return [{"file_id": f"{file_id}{size}", "file_unique_id": f"AQAD{size}", "file_size": size * 40,
             "width": size, "height": size * 3 // 4} for size in (90, 320, 1280)]


def telegram_body(update: dict[str, Any]) -> bytes:
    return json.dumps(update).encode()
