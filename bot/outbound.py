"""Sending a message to a person outside a webhook reply: agent replies, notifications, nudges.

One interface for every channel (SPEC §5.6, §5.7). A webhook answers in its own response (TwiML
for SMS); everything sent later goes through here: Twilio's REST API for SMS, the Telegram Bot
API for Telegram. Implementations live beside this protocol (filled by the channels work).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


class DeliveryError(RuntimeError):
    """The provider refused or could not be reached; ``retryable`` says whether to try again."""

    def __init__(self, message: str, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class OutboundMessage:
    """What to send: text, optional buttons as (title, payload), and the language it is in."""

    text: str
    language: str = "en"
    buttons: list[tuple[str, str]] = field(default_factory=list)


class Sender(Protocol):
    """Sends one message on one channel; returns the provider's message id."""

    channel: str

    def send(self, recipient: str, message: OutboundMessage) -> str: ...
