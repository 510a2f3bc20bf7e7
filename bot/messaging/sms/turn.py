"""An incoming SMS, before and after Rasa (SPEC §6.1). The channel (channels/sms.py) only
parses, checks the signature, dedupes and calls Rasa; the decisions are here.

Order matters: keywords first (carriers treat a bare STOP as an opt-out, never as a form
cancel; HELP is answered even while opted out, as carriers require), then the opt-out
silence, then media (taken only when a form asks for a photo),
MENU, a numbered choice, and finally the text.
When Twilio sends ``OptOutType`` (Advanced Opt-Out), Twilio has already sent its own
confirmation, so only the state is recorded and the reply is empty: one confirmation, not two.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from bot.config import get_settings
from bot.language import texts
from bot.messaging import inbound
from bot.messaging.media import NOT_WAITING, Waiting
from bot.messaging.messages import BotMessage, pick_option
from bot.messaging.sms import keywords
from bot.messaging.sms.render import render_sms
from bot.store.models import Person


@dataclass(frozen=True)
class IncomingSms:
    body: str
    opt_out_type: str | None = None
    media: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class SmsStep:
    """Reply ``bodies`` now (maybe none), and/or hand ``ask`` to Rasa (with ``media`` as
    message metadata) and add its answer, or ``repeat`` the pending question."""

    bodies: list[str] = field(default_factory=list)
    ask: str | None = None
    media: list[dict[str, Any]] = field(default_factory=list)
    repeat: list[BotMessage] = field(default_factory=list)


def begin(session: Session, person: Person, sms: IncomingSms,
          waiting: Waiting = NOT_WAITING, channel: str = inbound.SMS) -> SmsStep:
    """What to do with one SMS before Rasa sees it; ``waiting``: what a form waits for (read
    from Rasa's tracker when the SMS carries media). ``channel``: whose numbered options a
    reply "1" picks (WhatsApp, through the same Twilio webhook, has its own)."""
    language = person.language
    keyword = keywords.sms_keyword(sms.body, sms.opt_out_type)
    twilio_answered = bool(sms.opt_out_type)
    if keyword == keywords.STOP:
        changed = keywords.set_sms_opt_out(person, True)
        return SmsStep([] if twilio_answered or not changed
                       else [texts.text("utter_sms_opted_out", language)])
    is_plain_yes = inbound.bare(sms.body) in keywords.YES_WORDS
    if keyword == keywords.START and (person.sms_opted_out or not is_plain_yes):
        keywords.set_sms_opt_out(person, False)
        return SmsStep([] if twilio_answered else [texts.text("utter_sms_opted_in", language)])
    if keyword == keywords.HELP:  # also while opted out (SPEC §6.1)
        return SmsStep([] if twilio_answered else [texts.text(
            "utter_sms_help", language, call_centre=get_settings().call_centre_number)])
    if person.sms_opted_out:
        return SmsStep()  # nothing else is answered until START (SPEC §6.1)
    text = inbound.user_text(sms.body)
    if sms.media:
        step = waiting.on_media(sms.media, text)
        declined = [texts.text("utter_media_declined", language)] if step.declined else []
        return SmsStep(declined, ask=step.ask, media=step.media, repeat=step.repeat)
    if inbound.is_menu(sms.body):
        return SmsStep(ask=inbound.MENU_PAYLOAD)
    payload = pick_option(sms.body, inbound.options(session, person, channel))
    if payload:
        return SmsStep(ask=payload)
    if not text:
        return SmsStep([texts.text("utter_text_only", language)])
    return SmsStep(ask=text)


def answer(session: Session, person: Person, messages: Sequence[BotMessage]) -> list[str]:
    """Rasa's answer as SMS bodies; its numbered options are remembered for the next reply."""
    reply = render_sms(messages)
    inbound.remember(session, person, inbound.SMS, reply.options)
    return reply.bodies
