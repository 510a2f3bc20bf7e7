"""USSD through Africa's Talking: ``POST /webhooks/ussd/webhook`` (SPEC §6.5).

The gateway signs nothing, so the callback is open only to its addresses
(``CIVICLINE_USSD_ALLOWED_IPS``, CIDRs; the client address as ``CIVICLINE_TRUSTED_PROXIES``
lets a reverse proxy report it): anyone else gets 403 and nothing is processed. Empty allows
every address outside production; production refuses to start without it (bot.config).

Then the form (``sessionId``, ``serviceCode``, ``phoneNumber``, ``networkCode``, ``text``):
a malformed one gets 400, a session that never began here (or began from another number) 422.
Each request is claimed once as ``sessionId:<number of answers>`` (channels.common.once): a
gateway's re-send of a request gets the same screen, never a second turn. The decisions are
bot.messaging.ussd.turn's; the reply is plain text, ``CON …`` or ``END …``.
"""

from __future__ import annotations

import asyncio
import logging
import re
from asyncio import to_thread
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request

from bot.config import USSD_ALLOWED_IPS, get_settings, networks, text_setting
from bot.domain import ratelimit
from bot.domain.phones import mask, to_e164
from bot.messaging import inbound
from bot.messaging.media import NOT_WAITING
from bot.messaging.ussd import turn as ussd
from bot.messaging.ussd.render import END
from bot.store.db import session_scope
from channels import limits
from channels.common import (
    Turn,
    answer_turn,
    begin_turn,
    channel_blueprint,
    field,
    once,
    refuse,
    reply_of,
    run_turn,
    technical_problem,
    twilio_form,
    unfinished_form,
    webhook_budget,
)

logger = logging.getLogger(__name__)
_SESSION_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,64}$")
_SERVICE_CODE = re.compile(r"^[*#0-9]{1,32}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_TEXT = 480  # every answer of a session, joined: far more than a person types in one
BUSY_POLL_SECONDS = 0.2


def allowed(request: Request) -> str | None:
    """Why this request may not use the callback, or None: its address is allowed."""
    allow = networks(text_setting(USSD_ALLOWED_IPS), USSD_ALLOWED_IPS)
    if not allow:
        return ("USSD is closed: CIVICLINE_USSD_ALLOWED_IPS is not set"
                if get_settings().is_production else None)
    address = ratelimit.client_address(request.ip, request.headers.get("x-forwarded-for"))
    if ratelimit.address_in(address, allow):
        return None
    return "this address may not post USSD callbacks (CIVICLINE_USSD_ALLOWED_IPS)"


def ussd_input(params: Any) -> tuple[ussd.UssdInput, str] | tuple[int, str]:
    """The request as (input, phone), or (status, what is wrong with it)."""
    session_id, text = field(params, "sessionId"), field(params, "text")
    if not _SESSION_ID.match(session_id):
        return 400, "sessionId is required (letters, digits, . _ : -; at most 64)"
    if not _SERVICE_CODE.match(field(params, "serviceCode")):
        return 400, "serviceCode is required (like *384*123#)"
    phone = to_e164(field(params, "phoneNumber"))
    if phone is None:
        return 422, "phoneNumber is not a phone number"
    if len(text) > MAX_TEXT or _CONTROL.search(text):
        return 422, f"text must be the answers joined by * (at most {MAX_TEXT} characters, " \
                    "no control characters)"
    return ussd.UssdInput(session_id, ussd.parse_text(text)), phone


def plain(body: str) -> response.HTTPResponse:
    return response.text(body, content_type="text/plain; charset=utf-8")


def _known(session_id: str, phone: str) -> bool:
    with session_scope() as session:
        return ussd.session_known(session, session_id, phone)


class UssdInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return inbound.USSD

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = channel_blueprint("civicline_ussd")

        @bp.post("/webhook")
        async def webhook(request: Request) -> response.HTTPResponse:
            closed = allowed(request)
            if closed is not None:
                return refuse(403, closed)
            params = twilio_form(request)
            if isinstance(params, str):
                return refuse(400, params)
            parsed, phone = ussd_input(params)
            if isinstance(parsed, int):
                return refuse(parsed, phone)
            if not parsed.starting and not await to_thread(_known, parsed.session_id, phone):
                return refuse(422, "unknown session: it did not begin here from this number")
            turn = Turn()
            waiting = (await unfinished_form(request, phone, inbound.USSD)
                       if parsed.starting else NOT_WAITING)
            handled = await once(inbound.USSD, parsed.external_id,
                                 lambda: self.turn(on_new_message, phone, parsed, turn, waiting),
                                 lambda body: body)
            screen = await reply_of(handled, lambda _claim: _answered(parsed.external_id))
            if screen is None:
                return plain(END + technical_problem(turn.language))
            logger.info("ussd: %s from %s", parsed.external_id[:24], mask(phone))
            return plain(screen)

        return bp

    @staticmethod
    async def turn(on_new_message: Callable[[UserMessage], Awaitable[Any]], phone: str,
                   parsed: ussd.UssdInput, turn: Turn, waiting: Any = NOT_WAITING) -> str:
        """One screen. Failures propagate (see ``channels.common.once``)."""
        throttled = await limits.ussd(phone, parsed.external_id)
        if throttled is not None:
            turn.throttled = True
            return throttled
        step, turn.language = await to_thread(begin_turn, inbound.USSD, phone,
                                              parsed.external_id, ussd.begin, parsed, waiting)
        if step.screen is not None:
            return step.screen
        messages = await run_turn(on_new_message, inbound.USSD, phone, step.ask or "",
                                  message_id=parsed.external_id)
        return await to_thread(answer_turn, phone, ussd.answer, step, messages)


async def _answered(external_id: str) -> str | None:
    """A re-send of a request still being answered: its screen, once the first is done."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + webhook_budget()
    while loop.time() < deadline:
        await asyncio.sleep(BUSY_POLL_SECONDS)
        reply = await to_thread(inbound.reply_of, inbound.USSD, external_id)
        if reply:
            return reply
    return None
