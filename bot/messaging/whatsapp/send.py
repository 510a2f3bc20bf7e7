"""Sending to a person on WhatsApp later (agent replies, notifications; SPEC §6.4).

Inside WhatsApp's 24-hour window (:mod:`bot.messaging.whatsapp.window`) the text goes as free
WhatsApp text, with any image as media. Outside it WhatsApp accepts only an approved template:
with ``CIVICLINE_WHATSAPP_TEMPLATE_SID`` set (a Content API template with one variable,
``{{1}}``, the message's text), it goes through that template; without one it goes by SMS to
the same phone. A person who opted out (STOP, by SMS or on WhatsApp: one phone, one opt-out)
gets nothing either way.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.analytics import usage
from bot.config import text_setting
from bot.messaging import inbound
from bot.messaging.delivery import Delivery, DeliveryError, OptedOut, OutboundMessage
from bot.messaging.sms.client import TwilioSmsSender
from bot.messaging.sms.render import render_sms
from bot.messaging.whatsapp.render import render_whatsapp
from bot.messaging.whatsapp.window import window_open
from bot.store.models import Person

TEMPLATE_SETTING = "CIVICLINE_WHATSAPP_TEMPLATE_SID"
MAX_VARIABLE = 1000  # WhatsApp caps a template's body; a variable longer than this is cut


def template_sid() -> str:
    return text_setting(TEMPLATE_SETTING)


def _variable(text: str) -> str:
    if len(text) <= MAX_VARIABLE:
        return text
    return text[:MAX_VARIABLE - 1].rsplit(" ", 1)[0] + "…"


def send_sms(session: Session, person: Person, message: OutboundMessage) -> Delivery:
    """``message`` by SMS to the person's phone (numbered options remembered for SMS)."""
    reply = render_sms([message.as_bot_message()])
    ids = TwilioSmsSender().send_bodies(person.phone, reply.bodies, session)
    usage.record_sms(session, message.language, usage.LATER, reply.bodies)
    inbound.remember(session, person, inbound.SMS, reply.options)
    return Delivery(inbound.SMS, ids)


def send_whatsapp(session: Session, person: Person, message: OutboundMessage) -> Delivery:
    """``message`` on WhatsApp when the window is open, else by template, else by SMS."""
    if not person.phone:
        raise DeliveryError("the person has no phone number", retryable=False)
    if person.sms_opted_out:
        raise OptedOut()
    reply = render_whatsapp([message.as_bot_message()])
    sender = TwilioSmsSender()
    if window_open(session, person):
        ids = [sender.send_bodies(person.phone, [item.body], session, whatsapp=True,
                                  media=item.media)[0] for item in reply.messages]
    elif template_sid():
        ids = [sender.send_template(person.phone, template_sid(),
                                    {"1": _variable(reply.text)}, reply.text, session)]
    else:
        return send_sms(session, person, message)
    inbound.remember(session, person, inbound.WHATSAPP, reply.options)
    return Delivery(inbound.WHATSAPP, ids)
