"""What every provider client shares: the message to send, what came of it, and the errors.

:mod:`bot.messaging.outbound` picks the channel; the clients of each medium
(:mod:`bot.messaging.sms.client`, :mod:`bot.messaging.telegram.client`) send, and speak in these
terms. Nothing here imports a provider's library.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import TypeVar

from bot.config import tunable
from bot.messaging.messages import BotMessage

T = TypeVar("T")
MAX_TIMEOUT_SECONDS = 10.0


def timeout_seconds() -> float:
    """How long one call to a provider may wait (to connect, send, or read), at most 10 s:
    a hung provider holds a dispatcher thread for that long, never for ever (issue 10 §6)."""
    return min(tunable("CIVICLINE_PROVIDER_TIMEOUT_SECONDS", MAX_TIMEOUT_SECONDS),
               MAX_TIMEOUT_SECONDS)


class DeliveryError(RuntimeError):
    """The provider refused or could not be reached; ``retryable`` says whether to try again."""

    def __init__(self, message: str, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class OptedOut(DeliveryError):
    """The person texted STOP: nothing goes to them by SMS until they text START."""

    def __init__(self) -> None:
        super().__init__("the person opted out of SMS (STOP)", retryable=False)


@dataclass(frozen=True)
class OutboundMessage:
    """What to send: text, optional buttons as (title, payload), the language it is in, and
    an image (a URL: media on WhatsApp, a link in an SMS)."""

    text: str
    language: str = "en"
    buttons: list[tuple[str, str]] = field(default_factory=list)
    image: str | None = None

    def as_bot_message(self) -> BotMessage:
        return BotMessage(text=self.text, buttons=tuple(self.buttons), image=self.image)


@dataclass(frozen=True)
class Delivery:
    """A message handed to the provider: on which channel, and the provider's id(s)."""

    channel: str
    provider_ids: list[str]

    @property
    def provider_id(self) -> str:
        return ",".join(self.provider_ids)


def run_sync(coroutine: Awaitable[T]) -> T:
    """Run ``coroutine`` to completion from synchronous code, inside a running loop or not."""
    async def main() -> T:
        return await coroutine

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(main())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()


class HeldBack(DeliveryError):
    """Not sent, by policy: the country is not allowed, or the hourly SMS budget is spent
    (bot.domain.ratelimit; recorded for the console). Over budget is worth retrying next hour."""

    def __init__(self, reason: str) -> None:
        why = {"country": "the number's country is not in CIVICLINE_SMS_COUNTRIES",
               "budget": "the hourly SMS budget is spent"}.get(reason, reason)
        super().__init__(f"held back: {why}", retryable=reason == "budget")
        self.reason = reason
