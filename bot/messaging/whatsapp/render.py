"""A bot turn as WhatsApp messages (SPEC §6.4), sent through Twilio like SMS.

WhatsApp has no segments and no alphabet to save, so the text is kept as written (no GSM-7
twins) and a turn is one message unless it passes :data:`MAX_CHARS` (Twilio's limit on a
message body), then cut at lines, sentences and words like SMS. Buttons become the same
numbered list as on SMS, and a reply ``1``, ``2``, … picks that option. An image goes as the
message's media (``MediaUrl``), not as a link in the text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.messaging.messages import MAX_TURN_MESSAGES, BotMessage, Option, capped, last_options
from bot.messaging.sms.render import Outgoing, pack

#: Twilio's limit on one message body (WhatsApp's own is larger): longer turns are split.
MAX_CHARS = 1600


def fits(text: str) -> bool:
    return len(text) <= MAX_CHARS


def whatsapp_block(message: BotMessage, first_number: int = 1) -> str:
    """One bot message as WhatsApp text: its text, then its buttons as a numbered list."""
    lines = [message.text] if message.text else []
    lines += [f"{number}. {title}" for number, (title, _) in
              enumerate(message.buttons, first_number)]
    return "\n".join(lines)


@dataclass(frozen=True)
class WhatsAppReply:
    """A turn as WhatsApp messages (each body with its media), and the numbered options."""

    messages: list[Outgoing]
    options: list[Option] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(message.body for message in self.messages)


def render_whatsapp(messages: Sequence[BotMessage]) -> WhatsAppReply:
    """A bot turn as WhatsApp messages: as few as fit :data:`MAX_CHARS`, the turn's images
    with the last one; the last message's buttons numbered from 1."""
    messages = capped(messages)
    with_options = max((i for i, m in enumerate(messages) if m.buttons), default=-1)
    blocks = [whatsapp_block(m if i == with_options else BotMessage(m.text))
              for i, m in enumerate(messages)]
    bodies = pack([("\n" if i else "", b) for i, b in enumerate(b for b in blocks if b)],
                  fits=fits)[:MAX_TURN_MESSAGES]
    media = tuple(m.image for m in messages if m.image)
    if media and not bodies:
        bodies = [""]
    out = [Outgoing(body, media if index == len(bodies) - 1 else ())
           for index, body in enumerate(bodies)]
    return WhatsAppReply(out, last_options(messages))
