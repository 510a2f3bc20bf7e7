"""Phone calls through Twilio Voice: ``POST /webhooks/voice/webhook`` (SPEC §6.3).

Twilio posts here when the call starts and after every ``<Gather>``; the query string carries
the call's step, stage and silence count (see bot.voice), and it is part of the signed URL.
Each CallSid:step is claimed once; a replay gets the TwiML stored for it (or, while the first
request is still being answered, a one-second pause and a redirect back here).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request

from bot import inbound, voice
from bot.config import get_settings
from bot.db import session_scope
from bot.phones import mask, to_e164
from bot.render import empty_voice_response, render_transfer, render_wait
from channels import limits
from channels.common import (
    answer_turn,
    begin_turn,
    channel_blueprint,
    field,
    in_thread,
    public_url,
    refuse,
    run_turn,
    signed_twilio_form,
    xml,
)

logger = logging.getLogger(__name__)
CALL_ENDED = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
_NUMBER = re.compile(r"^\d{1,6}$")


def call_input(request: Request, params: Any) -> voice.CallInput | str:
    """The request as a :class:`bot.voice.CallInput`, or what is wrong with it."""
    call_sid = field(params, "CallSid")
    if not call_sid or len(call_sid) > 64:
        return "CallSid is required"
    step, stage = request.args.get("step", "0"), request.args.get("stage", voice.STAGE_MAIN)
    silence = request.args.get("silence", "0")
    if not _NUMBER.match(step) or not _NUMBER.match(silence) or stage not in voice.STAGES:
        return "step, stage or silence is not one this webhook gave"
    return voice.CallInput(
        call_sid=call_sid, webhook_url=get_settings().public_base_url + request.path,
        step=int(step), stage=stage, silence=int(silence),
        digits=re.sub(r"\D", "", field(params, "Digits"))[:32],
        speech=field(params, "SpeechResult")[:500])


def _keep_reply(call: voice.CallInput, twiml: str) -> None:
    with session_scope() as session:
        inbound.record(session, inbound.VOICE, call.external_id, reply=twiml)


def _stored_reply(call: voice.CallInput) -> str | None:
    with session_scope() as session:
        return inbound.stored_reply(session, inbound.VOICE, call.external_id)


class VoiceInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return inbound.VOICE

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = channel_blueprint("civicline_voice")

        @bp.post("/webhook")
        async def webhook(request: Request) -> response.HTTPResponse:
            params = signed_twilio_form(request)
            if isinstance(params, response.HTTPResponse):
                return params
            call = call_input(request, params)
            if isinstance(call, str):
                return refuse(422, call)
            if field(params, "CallStatus") in CALL_ENDED:  # a status callback: nothing to say
                return xml(empty_voice_response())
            if not await in_thread(inbound.claim, inbound.VOICE, call.external_id):
                stored = await in_thread(_stored_reply, call)
                return xml(stored or render_wait(public_url(request)))
            caller = to_e164(field(params, "From"))
            sender = caller or f"voice:{call.call_sid}"  # a hidden number is nobody's phone
            twiml = (await limits.voice(sender, call.external_id)
                     or await self.turn(on_new_message, sender, call))
            await in_thread(_keep_reply, call, twiml)
            logger.info("voice: %s step %d (%s) from %s", call.call_sid, call.step, call.stage,
                        mask(caller))
            return xml(twiml)

        return bp

    @staticmethod
    async def turn(on_new_message: Callable[[UserMessage], Awaitable[Any]], sender: str,
                   call: voice.CallInput) -> str:
        language = "en"
        try:
            step, language = await in_thread(begin_turn, inbound.VOICE, sender, call.external_id,
                                                voice.begin, call)
            language = language or "en"
            if step.twiml is not None:
                return step.twiml
            messages = await run_turn(on_new_message, inbound.VOICE, sender, step.ask or "",
                                      message_id=call.external_id, metadata=step.metadata)
            return await in_thread(answer_turn, sender, voice.answer, call, step, messages)
        except Exception:  # something failed: a person takes the call
            logger.exception("voice: could not answer %s", call.call_sid)
            return render_transfer(language, get_settings().call_centre_number)
