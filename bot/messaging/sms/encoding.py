"""How many SMS segments a text costs, and in which encoding it goes out.

SPEC §1.4 says an SMS reply fits in at most 3 segments *in the encoding it actually needs*, and
§6.1 says GSM-7 is preferred where the language allows. Both depend on exact rules that are easy
to get wrong by guessing, so they live here, once:

* A text goes out as **GSM-7** only if every character is in the GSM 03.38 default alphabet or its
  extension table (3GPP TS 23.038 §6.2.1). Extension characters (``€ [ ] { } ^ ~ \\ |`` and form
  feed) are sent as ESC + character and cost 2 septets. Anything else, even one character, forces
  the whole message into **UCS-2**. Beware: "é è ù ì ò à ñ ü Ñ Ü É Ç ¿ ¡" are GSM-7, but
  "á í ó ú â ê î ô û ë ï ç œ", typographic quotes (’ “ ”) and non-breaking spaces are not.
  (0x09 is the capital "Ç"; some phones show it as "ç", but the lower-case letter is not in the
  alphabet.)
* A single GSM-7 message holds 160 septets; a concatenated one 153 per segment (the user data
  header takes the rest). An ESC + character pair is never split across segments, so a segment
  whose last septet would be an ESC carries 152 instead.
* A single UCS-2 message holds 70 UTF-16 code units; a concatenated one 67 per segment. Characters
  outside the Basic Multilingual Plane (most emoji) take two code units (a surrogate pair, as
  phones and carriers send them in practice), and a pair is never split across segments either.

The rules are few and exact, so this module has no dependencies.
"""

from __future__ import annotations

#: Most segments an SMS reply may take (SPEC §1.4).
MAX_SEGMENTS = 3

GSM7 = "GSM-7"
UCS2 = "UCS-2"

#: The GSM 03.38 default alphabet, in code order 0x00-0x7F. 0x1B is the escape to the extension
#: table, not a character, so it is left out (127 characters).
GSM7_BASIC: frozenset[str] = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅå"  # 0x00-0x0F
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"  # 0x10-0x1F (0x1B, ESC, skipped)
    " !\"#¤%&'()*+,-./"  # 0x20-0x2F
    "0123456789:;<=>?"  # 0x30-0x3F
    "¡ABCDEFGHIJKLMNO"  # 0x40-0x4F
    "PQRSTUVWXYZÄÖÑÜ§"  # 0x50-0x5F
    "¿abcdefghijklmno"  # 0x60-0x6F
    "pqrstuvwxyzäöñüà"  # 0x70-0x7F
)

#: The GSM 03.38 extension table: each is sent as ESC + character, so it costs 2 septets.
#: Form feed (0x0A), ^ (0x14), { } (0x28, 0x29), \ (0x2F), [ ~ ] (0x3C-0x3E), | (0x40), € (0x65).
GSM7_EXTENSION: frozenset[str] = frozenset("\f^{}\\[~]|€")

_GSM7_SINGLE = 160
_GSM7_PER_SEGMENT = 153
_UCS2_SINGLE = 70
_UCS2_PER_SEGMENT = 67


def is_gsm7(text: str) -> bool:
    """True if every character of ``text`` can be sent in GSM-7."""
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def encoding(text: str) -> str:
    """``"GSM-7"`` if the whole text fits the GSM 03.38 alphabet, else ``"UCS-2"``."""
    return GSM7 if is_gsm7(text) else UCS2


def septets(text: str) -> int:
    """GSM-7 septets ``text`` takes (extension characters count 2).

    Raises ``ValueError`` if the text cannot be sent in GSM-7.
    """
    total = 0
    for ch in text:
        if ch in GSM7_BASIC:
            total += 1
        elif ch in GSM7_EXTENSION:
            total += 2
        else:
            raise ValueError(f"{ch!r} (U+{ord(ch):04X}) is not in the GSM-7 alphabet")
    return total


def units(text: str) -> int:
    """UTF-16 code units ``text`` takes in a UCS-2 (in practice UTF-16) SMS."""
    return len(text.encode("utf-16-le")) // 2


def _pack(costs: list[int], per_segment: int) -> int:
    """Segments needed for characters of the given costs, never splitting one character."""
    count, used = 1, 0
    for cost in costs:
        if used + cost > per_segment:
            count += 1
            used = 0
        used += cost
    return count


def segments(text: str) -> int:
    """How many SMS segments ``text`` is sent as (0 for an empty text)."""
    if not text:
        return 0
    if is_gsm7(text):
        total = septets(text)
        if total <= _GSM7_SINGLE:
            return 1
        costs = [2 if ch in GSM7_EXTENSION else 1 for ch in text]
        return _pack(costs, _GSM7_PER_SEGMENT)
    total = units(text)
    if total <= _UCS2_SINGLE:
        return 1
    costs = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    return _pack(costs, _UCS2_PER_SEGMENT)


def fits(text: str, max_segments: int = MAX_SEGMENTS) -> bool:
    """True if ``text`` goes out in at most ``max_segments`` segments."""
    return segments(text) <= max_segments


__all__ = [
    "GSM7",
    "GSM7_BASIC",
    "GSM7_EXTENSION",
    "MAX_SEGMENTS",
    "UCS2",
    "encoding",
    "fits",
    "is_gsm7",
    "segments",
    "septets",
    "units",
]
