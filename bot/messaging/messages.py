"""A bot turn, whatever the medium (SPEC §1.1, §1.2): the messages, and what every medium
reads from them the same way.

A bot turn is a list of :class:`BotMessage` (text, buttons, maybe an image, and the response's
``metadata`` markers from the domain). Each medium renders it in its own package
(:mod:`bot.messaging.sms.render`, :mod:`bot.messaging.telegram.render`,
:mod:`bot.messaging.voice.render`); what they share is here, and nothing here knows a provider:

* a turn is at most :data:`MAX_TURN_MESSAGES` messages (SPEC §1.1, the SMS budget). The
  dialogue never produces more; if something still does, :func:`capped` keeps the first ones
  and the last (the question) and logs a warning;
* the options a bare number picks are those of the turn's *last* message with buttons
  (:func:`last_options`, :func:`pick_option`): numbering never runs on across messages.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.domain.references import normalise_digits
from bot.language import texts

logger = logging.getLogger(__name__)

Option = tuple[str, str]  # (title, payload)
# At most this many messages answer one user message, on every channel (SPEC §1.1).
MAX_TURN_MESSAGES = 3

EXPECTS_REFERENCE = "reference"
EXPECTS_DATE = "date"
THEN_HANG_UP = "hang_up"


@dataclass(frozen=True)
class BotMessage:
    """One message of a bot turn, whatever the channel."""

    text: str = ""
    buttons: tuple[Option, ...] = ()
    image: str | None = None
    expects: str | None = None  # EXPECTS_REFERENCE / EXPECTS_DATE
    then: str | None = None  # THEN_HANG_UP
    dial: str | None = None  # voice: put the caller through to this number
    # The domain response it came from and the values an action filled it with: a call says
    # the response's voice twin instead of the text, when it has one (see voice_text).
    response: str | None = None
    values: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_rasa(cls, message: Mapping[str, Any]) -> BotMessage:
        """From what Rasa hands an output channel (``BotUttered.message()``)."""
        buttons = tuple(
            (str(b.get("title") or b.get("payload") or ""), str(b.get("payload") or ""))
            for b in (message.get("buttons") or message.get("quick_replies") or [])
            if isinstance(b, Mapping) and b.get("payload")
        )
        metadata = message.get("metadata")
        metadata = metadata if isinstance(metadata, Mapping) else {}
        custom = message.get("custom")
        dial = custom.get("dial") if isinstance(custom, Mapping) else None
        image = message.get("image")
        response = message.get("utter_action") or message.get("template")
        values = {str(k): str(v) for k, v in message.items()
                  if isinstance(v, (str, int, float)) and not isinstance(v, bool)
                  and k not in _NOT_VALUES}
        return cls(text=str(message.get("text") or "").strip(), buttons=buttons,
                   image=str(image) if image else None, expects=metadata.get("expects"),
                   then=metadata.get("then"), dial=str(dial) if dial else None,
                   response=str(response) if response else None, values=values)

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "buttons": [list(b) for b in self.buttons],
                "image": self.image, "expects": self.expects, "then": self.then,
                "dial": self.dial, "response": self.response, "values": dict(self.values)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BotMessage:
        return cls(text=data.get("text") or "",
                   buttons=tuple((str(t), str(p)) for t, p in data.get("buttons") or []),
                   image=data.get("image"), expects=data.get("expects"), then=data.get("then"),
                   dial=data.get("dial"), response=data.get("response"),
                   values=dict(data.get("values") or {}))


# What Rasa puts in a bot message besides the values an action filled the response with.
_NOT_VALUES = frozenset({"text", "timestamp", "utter_action", "template", "response", "image",
                         "attachment", "recipient_id", "id"})


def turn_options(messages: Iterable[BotMessage]) -> list[Option]:
    """The turn's buttons in order: what "1", "2", … refer to (numbering runs across messages)."""
    return [button for message in messages for button in message.buttons]


def capped(messages: Sequence[BotMessage], limit: int = MAX_TURN_MESSAGES
           ) -> list[BotMessage]:
    """The turn as sent: repeats of the same message dropped, and at most ``limit`` messages
    (the first ones and the last, which holds the question). More is a bug in the dialogue
    (a turn that ran away), so it is logged as a warning."""
    unique: list[BotMessage] = []
    for message in messages:
        if message not in unique:
            unique.append(message)
    if len(unique) > limit:
        logger.warning("a turn of %d messages (%d different) was cut to %d",
                       len(messages), len(unique), limit)
        unique = [*unique[:limit - 1], unique[-1]]
    return unique


def last_options(messages: Sequence[BotMessage]) -> list[Option]:
    """The buttons of the turn's last message that has any: what "1", "2", … pick."""
    return next((list(m.buttons) for m in reversed(messages) if m.buttons), [])


def turn_expects(messages: Sequence[BotMessage]) -> str | None:
    """What the turn's last message asks for, if it is a reference or a date."""
    return messages[-1].expects if messages else None


_CHOICE = re.compile(r"^\s*#?\s*(\d{1,2})\s*[.)]?\s*$")


def pick_option(text: str, options: Sequence[Option]) -> str | None:
    """The payload a bare number picks ("2", " 2. ", "٢"), or None if it picks nothing."""
    match = _CHOICE.match(normalise_digits(text or ""))
    if not match:
        return None
    index = int(match.group(1))
    return options[index - 1][1] if 1 <= index <= len(options) else None


_UNFILLED = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")


def twin_text(message: BotMessage, language: str, suffix: str) -> str:
    """The text of ``message``'s response's twin (``utter_x`` + ``suffix``, e.g. the voice
    twin ``utter_x__voice``) filled with the same values, when it has one and every value is
    filled; else the message's own text."""
    if message.response:
        try:
            twin = texts.text(message.response + suffix, language, **message.values)
        except KeyError:
            return message.text
        if twin and not _UNFILLED.search(twin):
            return twin
    return message.text
