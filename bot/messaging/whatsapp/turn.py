"""An incoming WhatsApp message (SPEC §6.4): Twilio posts it to the SMS webhook with
``From=whatsapp:+…``, and it is decided as an SMS is (:mod:`bot.messaging.sms.turn`: the same
keywords and opt-out, HELP, media, MENU, numbered choices), with WhatsApp's own numbered
options and rendering (:mod:`bot.messaging.whatsapp.render`)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from bot.messaging import inbound
from bot.messaging.media import NOT_WAITING, Waiting
from bot.messaging.messages import BotMessage
from bot.messaging.sms import turn as sms
from bot.messaging.sms.render import Outgoing
from bot.messaging.whatsapp.render import render_whatsapp
from bot.store.models import Person


def begin(session: Session, person: Person, message: sms.IncomingSms,
          waiting: Waiting = NOT_WAITING) -> sms.SmsStep:
    """What to do with one WhatsApp message before Rasa sees it."""
    return sms.begin(session, person, message, waiting, channel=inbound.WHATSAPP)


def answer(session: Session, person: Person, messages: Sequence[BotMessage]) -> list[Outgoing]:
    """Rasa's answer as WhatsApp messages; its numbered options are remembered."""
    reply = render_whatsapp(messages)
    inbound.remember(session, person, inbound.WHATSAPP, reply.options)
    return reply.messages
