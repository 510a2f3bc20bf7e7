"""A bot turn as SMS (SPEC §6.1): text bodies within the segment budget, and TwiML.

Buttons become a numbered list inside the same message ("1. My application"); the turn's
options are returned so the channel can remember them and turn a reply "1" into the payload.
Typographic punctuation with a GSM-7 twin is replaced by it (’ -> ', – -> -), so Spanish and
French stay in the cheaper alphabet when their letters allow; nothing else is changed. A turn
whose text would exceed :data:`~bot.messaging.sms.encoding.MAX_SEGMENTS` segments is split into
several messages at line, then sentence, then word boundaries -- never inside a word.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from twilio.twiml.messaging_response import MessagingResponse

from bot.messaging.messages import MAX_TURN_MESSAGES, BotMessage, Option, capped, last_options
from bot.messaging.sms.encoding import MAX_SEGMENTS, segments

logger = logging.getLogger(__name__)

# Punctuation with a GSM-7 twin: replacing it keeps a Latin-script text in GSM-7 (SPEC §6.1).
_GSM7_TWINS = str.maketrans({
    "‘": "'", "’": "'", "‚": "'", "‛": "'", "“": '"', "”": '"', "„": '"', "«": '"', "»": '"',
    "–": "-", "—": "-", "‐": "-", "‑": "-", "−": "-", "…": "...", "\u00a0": " ", "\u202f": " ",
    "\u2009": " ", "\u200b": "", "•": "-", "\t": " ",
})
_SENTENCE_END = re.compile(r"(?<=[.!?؟…])\s+")


def sms_text(text: str) -> str:
    """``text`` with typographic punctuation replaced by its GSM-7 twin."""
    return text.translate(_GSM7_TWINS)


def sms_block(message: BotMessage, first_number: int = 1) -> str:
    """One bot message as SMS text: its text, then its buttons as a numbered list."""
    lines = [message.text] if message.text else []
    lines += [f"{number}. {title}" for number, (title, _) in
              enumerate(message.buttons, first_number)]
    if message.image:
        lines.append(message.image)
    return sms_text("\n".join(lines))


def _fits(text: str) -> bool:
    return segments(text) <= MAX_SEGMENTS


Piece = tuple[str, str]  # (separator before it, text)


def _by_sentences(text: str) -> list[Piece]:
    """Lines, and sentences within them, each with the separator that joined it."""
    pieces: list[Piece] = []
    for line_number, line in enumerate(text.split("\n")):
        for index, sentence in enumerate(s for s in _SENTENCE_END.split(line) if s):
            pieces.append(("\n" if index == 0 and line_number else " " if index else "",
                           sentence))
    return pieces


def _by_words(text: str) -> list[Piece]:
    return [(" " if index else "", word) for index, word in enumerate(text.split(" ")) if word]


def _by_characters(text: str) -> list[Piece]:
    """Last resort, for one "word" longer than the budget (a pasted link)."""
    return [("", ch) for ch in text]


_FINER = (_by_sentences, _by_words, _by_characters)


def pack(pieces: Sequence[Piece], level: int = 0,
         fits: Callable[[str], bool] = _fits) -> list[str]:
    """Greedily join pieces into bodies that ``fits`` (default: the SMS segment budget); a
    piece that never fits is cut at the next finer boundary (sentences, words, characters)."""
    bodies: list[str] = []
    current = ""
    for separator, piece in pieces:
        candidate = current + separator + piece if current else piece
        if fits(candidate):
            current = candidate
            continue
        if current:
            bodies.append(current)
        if fits(piece):
            current = piece
        else:
            *full, current = pack(_FINER[min(level, len(_FINER) - 1)](piece), level + 1, fits)
            bodies.extend(full)
    if current:
        bodies.append(current)
    return bodies


def split_sms(text: str) -> list[str]:
    """``text`` as SMS bodies of at most MAX_SEGMENTS segments each, cut at boundaries."""
    return pack([("", text)]) if text else []


@dataclass(frozen=True)
class SmsReply:
    """A turn as SMS: the message bodies to send, and the numbered options they offer."""

    bodies: list[str]
    options: list[Option] = field(default_factory=list)


def render_sms(messages: Sequence[BotMessage]) -> SmsReply:
    """A bot turn as SMS bodies (as few as fit the budget, never more than
    :data:`MAX_TURN_MESSAGES`) and its numbered options: the last message's buttons, numbered
    from 1 (an earlier message's buttons are not listed)."""
    messages = capped(messages)
    with_options = max((i for i, m in enumerate(messages) if m.buttons), default=-1)
    blocks: list[str] = []
    for index, message in enumerate(messages):
        shown = message if index == with_options else BotMessage(message.text,
                                                                  image=message.image)
        block = sms_block(shown)
        if block:
            blocks.append(block)
    bodies = pack([("\n" if i else "", block) for i, block in enumerate(blocks)])
    if len(bodies) > MAX_TURN_MESSAGES:
        logger.warning("an SMS turn of %d bodies was cut to %d", len(bodies),
                       MAX_TURN_MESSAGES)
        bodies = bodies[:MAX_TURN_MESSAGES]
    return SmsReply(bodies=bodies, options=last_options(messages))


@dataclass(frozen=True)
class Outgoing:
    """A message body with media (URLs Twilio fetches and sends with it: WhatsApp, MMS)."""

    body: str
    media: tuple[str, ...] = ()


def twiml_messages(bodies: Iterable[str | Outgoing]) -> str:
    """A TwiML ``<Response>`` with one ``<Message>`` per body (none: an empty response); a
    body with media as ``<Body>`` and ``<Media>`` inside its ``<Message>``."""
    response = MessagingResponse()
    for item in bodies:
        if isinstance(item, Outgoing) and item.media:
            message = response.message()
            message.body(item.body)
            for url in item.media:
                message.media(url)
        else:
            response.message(item.body if isinstance(item, Outgoing) else item)
    return str(response)
