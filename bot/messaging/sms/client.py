"""Messages sent later, through Twilio's REST API (``Messages.json``): agent replies,
notifications, by SMS or on WhatsApp (the same API, ``whatsapp:`` addresses).

A webhook answers in its own TwiML (:mod:`bot.messaging.sms.render`); everything sent later
goes through :class:`TwilioSmsSender`, on ``TWILIO_API_BASE_URL`` when set (for tests), after
the allow-list and the hourly budget (:mod:`bot.domain.ratelimit`). Every message asks for
Twilio's status callbacks (``StatusCallback``: ``/webhooks/sms/status``) and is recorded with
the status Twilio answered (:mod:`bot.messaging.receipts`). With
``TWILIO_MESSAGING_SERVICE_SID`` set, messages go from that Messaging Service
(``MessagingServiceSid``, which picks the sender) instead of a From number.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from bot.config import Settings, get_settings, text_setting
from bot.domain import ratelimit
from bot.domain.phones import mask
from bot.messaging import inbound, receipts
from bot.messaging.delivery import DeliveryError, HeldBack, OutboundMessage, timeout_seconds
from bot.messaging.sms.render import render_sms

logger = logging.getLogger(__name__)
STATUS_PATH = "/webhooks/sms/status"  # channels/sms.py serves it
WHATSAPP_PREFIX = "whatsapp:"


def whatsapp_from() -> str:
    """The WhatsApp sender's number: ``TWILIO_WHATSAPP_FROM``, else ``TWILIO_FROM_NUMBER``."""
    number = text_setting("TWILIO_WHATSAPP_FROM") or get_settings().twilio_from_number
    return number.removeprefix(WHATSAPP_PREFIX)


class TwilioSmsSender:
    """SMS (split to the 3-segment budget) and WhatsApp messages through Twilio's REST API
    (Messages.json)."""

    channel = inbound.SMS

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()

    def client(self) -> Any:
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        client = Client(self.settings.twilio_account_sid, self.settings.twilio_auth_token,
                        http_client=TwilioHttpClient(timeout=timeout_seconds()))
        if self.settings.twilio_api_base_url:
            client.api.base_url = self.settings.twilio_api_base_url.rstrip("/")
        return client

    def send(self, recipient: str, message: OutboundMessage) -> str:
        return ",".join(self.send_bodies(recipient,
                                         render_sms([message.as_bot_message()]).bodies))

    def send_bodies(self, recipient: str, bodies: Sequence[str],
                    session: Session | None = None, whatsapp: bool = False,
                    media: Sequence[str] = ()) -> list[str]:
        """Send ``bodies`` (``media`` URLs with the first); ``whatsapp``: on WhatsApp rather than
        by SMS. ``session``: the caller's, when it is writing (the budget, a held message and
        the receipts are written there on SQLite, which has one writer at a time)."""
        return [self.create(recipient, session, whatsapp, body=body,
                            media_url=list(media) if index == 0 and media else None)
                for index, body in enumerate(self.checked(recipient, bodies, session))]

    def send_template(self, recipient: str, content_sid: str, variables: dict[str, str],
                      text: str, session: Session | None = None) -> str:
        """An approved WhatsApp template (Twilio's Content API: ``ContentSid`` and
        ``ContentVariables``); ``text`` is what the person reads, for the budget."""
        self.checked(recipient, [text], session)
        return self.create(recipient, session, True, content_sid=content_sid,
                           content_variables=json.dumps(variables, ensure_ascii=False))

    @staticmethod
    def checked(recipient: str, bodies: Sequence[str],
                session: Session | None) -> Sequence[str]:
        """``bodies`` when the allow-list and the hourly budget let them go; else HeldBack."""
        held = ratelimit.hold_reason(recipient, list(bodies), session=session)
        if held:
            raise HeldBack(held)
        return bodies

    def sender(self, whatsapp: bool) -> dict[str, str]:
        """Who a message is from: the Messaging Service when set, else the number."""
        service = text_setting("TWILIO_MESSAGING_SERVICE_SID")
        if service:
            return {"messaging_service_sid": service}
        if whatsapp:
            return {"from_": WHATSAPP_PREFIX + whatsapp_from()}
        return {"from_": self.settings.twilio_from_number}

    def create(self, recipient: str, session: Session | None, whatsapp: bool,
               **content: Any) -> str:
        """One Messages.json request; its receipt recorded; the MessageSid."""
        from twilio.base.exceptions import TwilioRestException

        what = "WhatsApp message" if whatsapp else "SMS"
        to = WHATSAPP_PREFIX + recipient if whatsapp else recipient
        params = {key: value for key, value in content.items() if value is not None}
        try:
            created = self.client().messages.create(
                to=to, status_callback=self.settings.public_base_url + STATUS_PATH,
                **self.sender(whatsapp), **params)
        except TwilioRestException as exc:
            retryable = exc.status == 429 or exc.status >= 500
            raise DeliveryError(f"Twilio refused the {what} ({exc.status}, code {exc.code})",
                                retryable=retryable) from exc
        except Exception as exc:  # requests' errors (refused, time-out), TwilioException
            raise DeliveryError(f"Twilio could not be reached ({type(exc).__name__})") from exc
        sid = str(created.sid)
        receipts.sent(sid, inbound.WHATSAPP if whatsapp else inbound.SMS, str(created.status or ""),
                      session)
        logger.info("%s: sent %s to %s", "whatsapp" if whatsapp else "sms", sid[:10],
                    mask(recipient))
        return sid
