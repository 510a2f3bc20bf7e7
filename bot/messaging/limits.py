"""Bounded input (SPEC §6): how much one request and one message may carry.

A request body over :data:`MAX_BODY_BYTES` is refused with 413 before it is read, parsed or its
signature checked (server/platform.py). A message over :data:`MAX_MESSAGE_CHARS` characters
never reaches NLU on any channel: the person gets ``utter_message_too_long`` in their language
(channels/common.py). Ten full SMS segments are 1,530 GSM characters, so no genuine text or
spoken answer comes near the cap; a longer one is a paste, a fault or an attack.
"""

from __future__ import annotations

MAX_BODY_BYTES = 64 * 1024
MAX_MESSAGE_CHARS = 1_600
TOO_LONG_RESPONSE = "utter_message_too_long"


def too_long(text: str | None) -> bool:
    """True when ``text`` is over the message cap."""
    return isinstance(text, str) and len(text) > MAX_MESSAGE_CHARS
