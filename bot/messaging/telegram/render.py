"""A bot turn as Telegram messages (SPEC §6.2).

One message per bot message, buttons as an inline keyboard whose ``callback_data`` is the
payload (a short database key when the payload is over Telegram's 64 bytes, see
:func:`callback_data`), text over 4096 UTF-16 units split at paragraph, sentence or word
boundaries. Text goes out *without* a ``parse_mode``: Telegram then shows every character
literally, so no Markdown escaping can go wrong (a reference like ``4021_7382`` or a ``*`` in
an office name stays as typed). Nothing here imports python-telegram-bot: the markup is built
where the messages are sent (:mod:`bot.messaging.telegram.client`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.messaging.messages import (
    EXPECTS_DATE,
    MAX_TURN_MESSAGES,
    BotMessage,
    Option,
    capped,
)

logger = logging.getLogger(__name__)

TELEGRAM_MAX_UNITS = 4096
TELEGRAM_CALLBACK_MAX_BYTES = 64
CALLBACK_KEY_PREFIX = "#"  # callback_data "#12" is key 12; payloads always start with "/"


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_telegram(text: str, limit: int = TELEGRAM_MAX_UNITS) -> list[str]:
    """``text`` in chunks of at most ``limit`` UTF-16 units, cut at paragraph, line, sentence
    or word boundaries when there is one (Telegram counts UTF-16 units)."""
    chunks: list[str] = []
    rest = text
    while _utf16(rest) > limit:
        cut = _cut_point(rest, limit)
        chunks.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest or not chunks:
        chunks.append(rest)
    return chunks


def _cut_point(text: str, limit: int) -> int:
    """The index to cut ``text`` at: the last boundary that keeps the head within ``limit``."""
    end, units = 0, 0
    for index, ch in enumerate(text):  # the longest head within the limit
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > limit:
            break
        end = index + 1
    head = text[:end]
    for pattern in ("\n\n", "\n", ". ", "! ", "? ", " "):
        position = head.rfind(pattern)
        if position > 0:
            return position + len(pattern)
    return end


@dataclass(frozen=True)
class TelegramMessage:
    """One Telegram message: plain text, inline ``buttons`` as (title, callback_data), or a
    reply-keyboard key that shares the phone number, or the removal of that keyboard."""

    text: str
    buttons: tuple[Option, ...] = ()
    contact_button: str | None = None
    remove_keyboard: bool = False


def callback_data(payload: str, key_for: Callable[[str], int]) -> str:
    """The ``callback_data`` for a button: the payload itself when it fits Telegram's 64
    bytes, else ``#<key>`` where ``key_for`` stores the payload and returns its key."""
    if len(payload.encode("utf-8")) <= TELEGRAM_CALLBACK_MAX_BYTES and \
            not payload.startswith(CALLBACK_KEY_PREFIX):
        return payload
    return f"{CALLBACK_KEY_PREFIX}{key_for(payload)}"


def render_telegram(messages: Sequence[BotMessage], key_for: Callable[[str], int],
                    contact_label: str | None = None) -> list[TelegramMessage]:
    """A bot turn as Telegram messages; ``key_for`` stores payloads too long for a button.

    ``contact_label`` (for someone whose phone is not verified) adds a "share my phone
    number" key under a date-of-birth question: the other way to prove who they are (§5.1).
    """
    rendered: list[TelegramMessage] = []
    for message in capped(messages):
        text = "\n".join(part for part in (message.text, message.image) if part)
        if not text and message.buttons:
            text = "…"
        if not text:
            continue
        chunks = split_telegram(text)
        rendered += [TelegramMessage(chunk) for chunk in chunks[:-1]]
        buttons = tuple((title, callback_data(payload, key_for))
                        for title, payload in message.buttons)
        contact = (contact_label if message.expects == EXPECTS_DATE and not buttons
                   else None)
        rendered.append(TelegramMessage(chunks[-1], buttons, contact))
    if len(rendered) > MAX_TURN_MESSAGES:  # a text over 3 x 4096 units: not a reply
        logger.warning("a Telegram turn of %d messages was cut to %d", len(rendered),
                       MAX_TURN_MESSAGES)
        rendered = rendered[:MAX_TURN_MESSAGES]
    return rendered
