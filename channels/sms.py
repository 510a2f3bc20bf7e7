"""SMS and WhatsApp through Twilio: ``POST /webhooks/sms/webhook`` (SPEC §6.1, §6.4), and
Twilio's delivery status callbacks: ``POST /webhooks/sms/status`` (SPEC §6.6).

A WhatsApp message comes to the same webhook with ``From=whatsapp:+…``: the same person as
that phone's SMS (the Rasa conversation is the phone's), recorded and handed to Rasa as the
``whatsapp`` channel, decided by bot.messaging.whatsapp.turn and answered in TwiML, which
Twilio sends back on WhatsApp.

Signature first (403, nothing processed), then the MessageSid claim (a retry of an answered
message gets the same TwiML again, one being answered an empty TwiML, one whose turn failed
runs again: channels.common.once), then bot.messaging.sms.turn decides: keywords, opt-out, media (a
photo
goes to the form that asks for one), MENU, numbered choices, or Rasa. The reply is
TwiML ``<Message>``\\ s in the same HTTP response, at most 3 segments each.
"""

from __future__ import annotations

import logging
from asyncio import to_thread
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sqlalchemy.exc import SQLAlchemyError

from bot.analytics import usage
from bot.domain.phones import mask, to_e164
from bot.messaging import inbound, receipts
from bot.messaging.media import NOT_WAITING
from bot.messaging.sms import turn as sms
from bot.messaging.sms.client import WHATSAPP_PREFIX
from bot.messaging.sms.render import Outgoing, twiml_messages
from bot.messaging.whatsapp import turn as whatsapp
from bot.store.db import session_scope
from channels import limits
from channels.common import (
    Turn,
    answer_turn,
    begin_turn,
    channel_blueprint,
    field,
    form_waiting,
    media_metadata,
    once,
    refuse,
    run_turn,
    signed_twilio_form,
    technical_problem,
    xml,
)

logger = logging.getLogger(__name__)
MAX_MEDIA = 10


def media_of(params: Any) -> list[dict[str, str]]:
    """MMS attachments as references (URL, type): kept for later, never logged."""
    count = field(params, "NumMedia")
    total = min(int(count), MAX_MEDIA) if count.isdigit() else 0
    return [{"url": field(params, f"MediaUrl{i}"),
             "content_type": field(params, f"MediaContentType{i}")}
            for i in range(total) if field(params, f"MediaUrl{i}")]


def medium_of(sender: str) -> str:
    """``whatsapp`` for a ``whatsapp:+…`` sender, else ``sms``."""
    return inbound.WHATSAPP if sender.strip().lower().startswith(WHATSAPP_PREFIX) \
        else inbound.SMS


def receipt(params: Any) -> response.HTTPResponse:
    """A delivery status callback (SPEC §6.6): the message's state moves on, never back.
    An unknown MessageSid is recorded too (a TwiML reply, or a callback that overtook the
    send's own record); a status Twilio does not have is refused (422)."""
    sid = field(params, "MessageSid") or field(params, "SmsSid")
    status = (field(params, "MessageStatus") or field(params, "SmsStatus")).strip().lower()
    if not sid:
        return refuse(422, "MessageSid is required")
    if not receipts.known(status):
        return refuse(422, f"unknown MessageStatus {status[:24]!r}")
    try:
        outcome = receipts.callback(sid, status, field(params, "ErrorCode").strip()[:16] or None)
    except SQLAlchemyError:  # Twilio retries a callback that is not answered 2xx
        logger.warning("sms: status %s for %s not recorded: the database is unavailable",
                       status, sid[:10])
        return refuse(503, "the database is unavailable; try again")
    logger.info("sms: status %s for %s%s%s", status, sid[:10],
                "" if outcome.known else " (not sent by this server)",
                "" if outcome.changed else " (kept the later state)")
    return response.json({"status": "ok", "known": outcome.known, "changed": outcome.changed})


def count_sms(language: str | None, bodies: list[str]) -> None:
    """The reply's SMS and segments, for the analytics (bot/analytics/usage.py). A count is
    never worth a reply: with the database down (the apology is being sent), it is skipped."""
    if not bodies:
        return
    try:
        with session_scope() as session:
            usage.record_sms(session, language, usage.REPLY, bodies)
    except SQLAlchemyError:
        logger.warning("sms: %d reply message(s) not counted: the database is unavailable",
                       len(bodies))


class SmsInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return inbound.SMS

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = channel_blueprint("civicline_sms")

        @bp.post("/webhook")
        async def webhook(request: Request) -> response.HTTPResponse:
            params = signed_twilio_form(request)
            if isinstance(params, response.HTTPResponse):
                return params
            sid = field(params, "MessageSid") or field(params, "SmsSid")
            if field(params, "MessageStatus") not in ("", "received"):
                await to_thread(receipt, params)  # a status callback sent here: recorded
                return xml(twiml_messages([]))
            phone = to_e164(field(params, "From").strip().removeprefix(WHATSAPP_PREFIX))
            if not sid:
                return refuse(422, "MessageSid is required")
            if phone is None:
                return refuse(422, "From must be a phone number")
            channel = medium_of(field(params, "From"))
            media = media_of(params)
            incoming = sms.IncomingSms(field(params, "Body"), field(params, "OptOutType") or None,
                                       media)
            turn = Turn()
            handled = await once(
                channel, sid,
                lambda: self.turn(on_new_message, request, phone, sid, incoming, turn, channel),
                twiml_messages, media)
            if handled.claim is not None and handled.claim.outcome == inbound.ANSWERED:
                logger.info("%s: %s from %s already answered", channel, sid, mask(phone))
                return xml(handled.claim.reply or twiml_messages([]))
            if handled.claim is not None and handled.claim.outcome == inbound.BUSY:
                logger.info("%s: %s from %s is being answered", channel, sid, mask(phone))
                return xml(twiml_messages([]))
            bodies = [technical_problem(turn.language)] if handled.failed else handled.result
            if channel == inbound.SMS:
                await to_thread(count_sms, turn.language, bodies or [])
            logger.info("%s: %s from %s answered with %d message(s)", channel, sid,
                        mask(phone), len(bodies or []))
            return xml(twiml_messages(bodies or []))

        @bp.post("/status")
        async def status(request: Request) -> response.HTTPResponse:
            params = signed_twilio_form(request)
            if isinstance(params, response.HTTPResponse):
                return params
            return await to_thread(receipt, params)

        return bp

    @staticmethod
    async def turn(on_new_message: Callable[[UserMessage], Awaitable[Any]], request: Request,
                   phone: str, sid: str, incoming: sms.IncomingSms, turn: Turn,
                   channel: str = inbound.SMS) -> list[str | Outgoing]:
        """Handle one SMS or WhatsApp message (``channel``); the bodies to answer with.
        Failures propagate (see ``once``)."""
        medium = whatsapp if channel == inbound.WHATSAPP else sms
        throttled = await limits.sms(phone, sid, incoming.body, incoming.opt_out_type, channel)
        if throttled is not None:
            turn.throttled = True
            return list(throttled)
        waiting = await form_waiting(request, phone) if incoming.media else NOT_WAITING
        step, turn.language = await to_thread(begin_turn, channel, phone, sid, medium.begin,
                                              incoming, waiting)
        bodies: list[str | Outgoing] = list(step.bodies)
        if step.ask:
            messages = await run_turn(on_new_message, channel, phone, step.ask,
                                      message_id=sid, metadata=media_metadata(step.media))
            bodies += await to_thread(answer_turn, phone, medium.answer, messages)
        elif step.repeat:
            bodies += await to_thread(answer_turn, phone, medium.answer, step.repeat)
        return bodies
