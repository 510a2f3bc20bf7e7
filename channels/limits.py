"""The rate-limit hook of every channel (SPEC §6; the policy is bot/domain/ratelimit.py).

Each channel calls one function inside its turn, after its own checks (signature) and the
dedupe claim (channels.common.once), before Rasa; ``None`` means go on, anything else is the
whole answer, stored with the claim like any other (a provider's retry gets the same answer):

* SMS: the notice once, then no message (Twilio still gets its 200, the inbound row stays
  recorded with its person). SMS keywords (STOP, START, HELP) are never limited: carriers
  require them to work.
* Telegram: the notice once to the user the update came from, then nothing; always 200.
* Voice: a goodbye and hang-up (a caller who pressed keys faster than the limit).
* USSD: the notice, closing the session (a screen must say something).
* REST (an app-level Sanic request middleware, :func:`attach`): limited per sender and per
  client address; the notice once as the channel's usual JSON, then ``[]``. When the limits
  cannot be counted (Redis or the database down) it fails closed: 503 with the reason and
  ``Retry-After``, never a 500 and never an unlimited pass (the turn itself would need the
  same stores: the lock store is Redis too).

Signed provider webhooks are limited per sender only (see bot/domain/ratelimit.py for why).
"""

from __future__ import annotations

import hmac
import logging
from asyncio import to_thread

from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sqlalchemy.exc import SQLAlchemyError

from bot.config import get_settings, text_setting
from bot.domain import people, ratelimit
from bot.language import texts
from bot.messaging import inbound
from bot.messaging.sms import keywords
from bot.messaging.telegram.render import TelegramMessage
from bot.messaging.ussd.render import END
from bot.messaging.voice.render import render_goodbye
from bot.store.db import session_scope
from channels.common import not_processed

logger = logging.getLogger(__name__)


def _notice(language: str | None) -> str:
    return texts.text("utter_rate_limited", language,
                      call_centre=get_settings().call_centre_number)


def _throttled(channel: str, sender: str, external_id: str,
               address: str | None = None) -> tuple[bool, str | None, bool]:
    """(over the limit, the person's language, tell them now) for one claimed message; an
    over-limit message keeps its inbound row, attached to its person."""
    admission = ratelimit.admit_message(sender, address)
    if admission.allowed:
        return False, None, False
    with session_scope() as session:
        person = people.get_or_create(session, sender)
        inbound.record(session, channel, external_id, person=person)
        silent = channel in (inbound.SMS, inbound.WHATSAPP) and person.sms_opted_out
        return True, person.language, admission.notify and not silent


async def sms(phone: str, sid: str, body: str, opt_out_type: str | None,
              channel: str = inbound.SMS) -> list[str] | None:
    """The bodies for a sender over the limit (the notice, or none), or None: go on.
    ``channel``: SMS or WhatsApp (the same webhook, the same keywords)."""
    if keywords.sms_keyword(body, opt_out_type) is not None:
        return None
    over, language, tell = await to_thread(_throttled, channel, phone, sid)
    if not over:
        return None
    return [_notice(language)] if tell else []


async def telegram(user_id: int, update_id: str) -> list[TelegramMessage] | None:
    """The replies for a user over the limit (the notice, or none), or None: go on."""
    sender = people.telegram_sender_id(user_id)
    over, language, tell = await to_thread(_throttled, inbound.TELEGRAM, sender, update_id)
    if not over:
        return None
    return [TelegramMessage(_notice(language))] if tell else []


async def voice(sender: str, external_id: str) -> str | None:
    """The TwiML for a caller over the limit (a goodbye), or None."""
    over, language, _tell = await to_thread(_throttled, inbound.VOICE, sender, external_id)
    return render_goodbye(language or "en") if over else None


def _rest_throttled(sender: str, address: str) -> tuple[bool, str | None]:
    admission = ratelimit.admit_message(f"rest:{sender}", address)
    if admission.allowed:
        return False, None
    if not admission.notify:
        return True, None
    with session_scope() as session:  # never creates a person for a made-up sender id
        person = people.find(session, sender)
        return True, _notice(person.language if person else None)


REST_PATH = "/webhooks/rest/webhook"


def _rest_open(request: Request) -> bool:
    """Whether the REST channel will take this request: outside production always; in
    production only with ``CIVICLINE_REST_TOKEN`` as its bearer token (the channel's own gate
    answers 404/401 otherwise, and such requests are not counted here)."""
    if not get_settings().is_production:
        return True
    token = text_setting("CIVICLINE_REST_TOKEN")
    given = (request.headers.get("authorization") or "").partition(" ")[2].strip()
    return bool(token) and hmac.compare_digest(given.encode(), token.encode())


async def rest(request: Request) -> response.HTTPResponse | None:
    """Sanic request middleware for the REST channel's ``POST /webhooks/rest/webhook``."""
    if request.method != "POST" or request.path.rstrip("/") != REST_PATH \
            or not _rest_open(request):
        return None
    try:
        body = request.json
    except Exception:  # a bad body is the channel's to refuse
        return None
    sender = body.get("sender") if isinstance(body, dict) else None
    if not isinstance(sender, str) or not sender:
        return None
    address = ratelimit.client_address(request.ip, request.headers.get("x-forwarded-for"))
    try:
        over, notice = await to_thread(_rest_throttled, sender[:128], address)
    except (ratelimit.CountersUnavailable, SQLAlchemyError) as exc:
        logger.error("rest: rate limits cannot be counted (%s): refused with 503",
                     type(exc).__name__)
        return not_processed("the rate limits cannot be checked now: their store is "
                             "unavailable")
    if not over:
        return None
    return response.json([{"recipient_id": sender, "text": notice}] if notice else [])


def attach(bp: Blueprint) -> None:
    """Put :func:`rest` in front of the REST channel, whichever class serves it (Rasa's or
    CivicLine's): an app-level request middleware, added when the server starts."""

    @bp.listener("before_server_start")
    async def limit_rest(app: Sanic, _loop: object) -> None:
        app.register_middleware(rest, "request")


async def ussd(sender: str, external_id: str) -> str | None:
    """The screen for a USSD user over the limit (the notice, closing the session), or None.
    A session needs a screen to close, so the notice is shown every time."""
    over, language, _tell = await to_thread(_throttled, inbound.USSD, sender, external_id)
    return END + _notice(language) if over else None
