"""Phone calls through Twilio Voice: ``POST /webhooks/voice/webhook`` (SPEC §6.3).

Twilio posts here when the call starts and after every ``<Gather>``; the query string carries
the call's step, stage and silence count (see bot.messaging.voice.turn), and it is part of the
signed URL.
Each CallSid:step is claimed once; a replay gets the TwiML stored for it (or, while the first
request is still being answered, a one-second pause and a redirect back here, at most
``MAX_REPLAYS`` times: then an apology and ``<Dial>`` to the call centre).
"""

from __future__ import annotations

import logging
import re
from asyncio import to_thread
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request

from bot.config import get_settings
from bot.domain.phones import mask, to_e164
from bot.messaging import inbound
from bot.messaging.media import NOT_WAITING, Waiting
from bot.messaging.voice import turn as voice
from bot.messaging.voice.render import empty_voice_response, render_transfer, render_wait
from channels import limits
from channels.common import (
    Turn,
    answer_turn,
    begin_turn,
    channel_blueprint,
    field,
    once,
    public_url,
    refuse,
    reply_of,
    run_turn,
    signed_twilio_form,
    technical_problem,
    unfinished_form,
    xml,
)

logger = logging.getLogger(__name__)
# Replays of a step still being answered get a one-second pause and a redirect; after this
# many requests (its turn died, or hangs) the caller hears an apology and is put through.
MAX_REPLAYS = 15
CALL_ENDED = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
_NUMBER = re.compile(r"^\d{1,6}$")


def call_input(request: Request, params: Any) -> voice.CallInput | str:
    """The request as a :class:`bot.messaging.voice.turn.CallInput`, or what is wrong with it."""
    call_sid = field(params, "CallSid")
    if not call_sid or len(call_sid) > 64:
        return "CallSid is required"
    step, stage = request.args.get("step", "0"), request.args.get("stage", voice.STAGE_MAIN)
    silence, page = request.args.get("silence", "0"), request.args.get("page", "0")
    if not all(_NUMBER.match(value) for value in (step, silence, page)) or \
            stage not in voice.STAGES:
        return "step, stage, silence or page is not one this webhook gave"
    return voice.CallInput(
        call_sid=call_sid, webhook_url=get_settings().public_base_url + request.path,
        step=int(step), stage=stage, silence=int(silence), page=int(page),
        digits=re.sub(r"[^\d*]", "", field(params, "Digits"))[:32],
        speech=field(params, "SpeechResult")[:500])


def apology(language: str | None) -> str:
    """The call cannot go on: sorry, and a person takes it (or a goodbye without a number)."""
    language = language or "en"
    return render_transfer(language, get_settings().call_centre_number,
                           intro=[technical_problem(language)])
async def open_form(request: Request, sender: str, call: voice.CallInput) -> Waiting:
    """The form the caller is in the middle of, asked only when the call starts or the
    language is chosen (where a call offers to go on with it)."""
    if not (call.starting or call.stage == voice.STAGE_LANGUAGE):
        return NOT_WAITING
    return await unfinished_form(request, sender, inbound.VOICE)


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
            caller = to_e164(field(params, "From"))
            sender = caller or f"voice:{call.call_sid}"  # a hidden number is nobody's phone
            turn = Turn()
            waiting = await open_form(request, sender, call)
            handled = await once(inbound.VOICE, call.external_id,
                                 lambda: self.turn(on_new_message, sender, call, turn, waiting),
                                 lambda twiml: twiml)

            async def wait(claim: inbound.Claim) -> str | None:  # the first answer comes soon
                return render_wait(public_url(request)) if claim.seen <= MAX_REPLAYS else None

            twiml = await reply_of(handled, wait)
            if twiml is None:  # failed, or its turn never answered
                claim = handled.claim
                logger.warning("voice: %s step %d not answered (%s request(s)): apology",
                               call.call_sid, call.step, claim.seen if claim else 1)
                return xml(apology(turn.language))
            logger.info("voice: %s step %d (%s) from %s", call.call_sid, call.step, call.stage,
                        mask(caller))
            return xml(twiml)

        return bp

    @staticmethod
    async def turn(on_new_message: Callable[[UserMessage], Awaitable[Any]], sender: str,
                   call: voice.CallInput, turn: Turn, waiting: Waiting = NOT_WAITING) -> str:
        """One call step's TwiML. Failures propagate (see ``channels.common.once``)."""
        throttled = await limits.voice(sender, call.external_id)
        if throttled is not None:
            turn.throttled = True
            return throttled
        step, language = await to_thread(begin_turn, inbound.VOICE, sender, call.external_id,
                                          voice.begin, call, waiting)
        turn.language = language or "en"
        if step.twiml is not None:
            return step.twiml
        messages = await run_turn(on_new_message, inbound.VOICE, sender, step.ask or "",
                                  message_id=call.external_id, metadata=step.metadata)
        return await to_thread(answer_turn, sender, voice.answer, call, step, messages)
