"""Sending a message to a person outside a webhook reply: agent replies, notifications, nudges.

One interface for every channel (SPEC §5.6, §5.7). A webhook answers in its own response (TwiML
for SMS); everything sent later goes through :func:`send_to_person`, which picks the person's
channel (the one they last wrote on, a call counting as SMS; else Telegram if linked, else SMS),
never texts someone who opted out (:class:`~bot.messaging.delivery.OptedOut`), renders for the
medium and remembers numbered options, so that a reply "1" to a notification works like a reply
to the bot. The provider clients are the media's own: :mod:`bot.messaging.sms.client` (Twilio's
REST API) and :mod:`bot.messaging.telegram.client` (the Bot API); what they share (the message,
the delivery, the errors) is :mod:`bot.messaging.delivery`.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.analytics import usage
from bot.messaging import inbound
from bot.messaging.delivery import Delivery, DeliveryError, OptedOut, OutboundMessage
from bot.messaging.sms.client import TwilioSmsSender
from bot.messaging.sms.render import render_sms
from bot.messaging.telegram.callbacks import callback_key
from bot.messaging.telegram.client import TelegramSender
from bot.messaging.telegram.render import render_telegram
from bot.store.models import Person


def channel_for(session: Session, person: Person) -> str:
    """Where to reach this person: the channel they last used (a call: SMS), else Telegram if
    linked, else SMS."""
    last = inbound.last_channel(session, person)
    if last == inbound.TELEGRAM and person.telegram_user_id:
        return inbound.TELEGRAM
    if last in (inbound.SMS, inbound.VOICE) and person.phone:
        return inbound.SMS
    if person.telegram_user_id:
        return inbound.TELEGRAM
    if person.phone:
        return inbound.SMS
    raise DeliveryError("the person has no phone number and no Telegram", retryable=False)


def send_to_person(session: Session, person: Person, message: OutboundMessage,
                   channel: str | None = None) -> Delivery:
    """Send ``message`` to ``person`` on ``channel`` (default: :func:`channel_for`).

    Raises :class:`OptedOut` rather than text someone who opted out, and
    :class:`DeliveryError` when the provider refuses or cannot be reached.
    """
    if channel is None:
        channel = channel_for(session, person)
    elif channel == inbound.VOICE:  # a caller is answered by SMS on the same phone
        channel = inbound.SMS
    if channel == inbound.SMS:
        if not person.phone:
            raise DeliveryError("the person has no phone number", retryable=False)
        if person.sms_opted_out:
            raise OptedOut()
        reply = render_sms([message.as_bot_message()])
        ids = TwilioSmsSender().send_bodies(person.phone, reply.bodies, session)
        usage.record_sms(session, message.language, usage.LATER, reply.bodies)
        inbound.remember(session, person, inbound.SMS, reply.options)
        return Delivery(channel, ids)
    if channel == inbound.TELEGRAM:
        if not person.telegram_user_id:
            raise DeliveryError("the person has no Telegram", retryable=False)
        rendered = render_telegram([message.as_bot_message()],
                                   lambda payload: callback_key(session, payload))
        return Delivery(channel, TelegramSender().send_rendered(person.telegram_user_id,
                                                                rendered))
    raise DeliveryError(f"no way to send a message on channel {channel!r}", retryable=False)
