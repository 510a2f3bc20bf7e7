"""SMS sent later, through Twilio's REST API (``Messages.json``): agent replies, notifications.

A webhook answers in its own TwiML (:mod:`bot.messaging.sms.render`); everything sent later
goes through :class:`TwilioSmsSender`, on ``TWILIO_API_BASE_URL`` when set (for tests), after
the allow-list and the hourly budget (:mod:`bot.domain.ratelimit`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from bot.config import Settings, get_settings
from bot.domain import ratelimit
from bot.domain.phones import mask
from bot.messaging import inbound
from bot.messaging.delivery import DeliveryError, HeldBack, OutboundMessage, timeout_seconds
from bot.messaging.sms.render import render_sms

logger = logging.getLogger(__name__)


class TwilioSmsSender:
    """SMS through Twilio's REST API (Messages.json), split to the 3-segment budget."""

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
                    session: Session | None = None) -> list[str]:
        """Send ``bodies``; ``session``: the caller's, when it is writing (the budget and a
        held message are written there on SQLite, which has one writer at a time)."""
        from twilio.base.exceptions import TwilioRestException

        # allow-list and hourly budget
        held = ratelimit.hold_reason(recipient, list(bodies), session=session)
        if held:
            raise HeldBack(held)
        client = self.client()
        sids = []
        for body in bodies:
            try:
                created = client.messages.create(to=recipient, body=body,
                                                 from_=self.settings.twilio_from_number)
            except TwilioRestException as exc:
                retryable = exc.status == 429 or exc.status >= 500
                raise DeliveryError(f"Twilio refused the SMS ({exc.status}, code {exc.code})",
                                    retryable=retryable) from exc
            except Exception as exc:  # requests' errors (refused, time-out), TwilioException
                raise DeliveryError(f"Twilio could not be reached ({type(exc).__name__})"
                                    ) from exc
            sids.append(str(created.sid))
        logger.info("sms: sent %d message(s) to %s", len(sids), mask(recipient))
        return sids
