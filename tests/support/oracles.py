"""Checks written independently of the code under test: an answer is right by these, not by
the project's own function for the same thing."""

from __future__ import annotations

import re

from bot.language import detect as lang

# Words a caller must never hear: text-message instructions and abbreviated days.
NOT_FOR_THE_EAR = re.compile(
    r"\bMENU\b|\b(send|write|reply|texting)\b|\b(escriba|escríba\w*|envíe\w*|responda)\b"
    r"|\b(écrivez|écrire|envoyez\w*|répondez)\b|اكتب|أرسل"
    r"|\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun)\b|\b(lun|mié|jue|vie|sáb|mer|jeu|ven|sam|dim)\b"
    r"|\d{1,2}/\d{1,2}(?!/\d)",  # 17/05: a date to type, not to say
    flags=re.IGNORECASE)
REFERENCE = re.compile(r"\b(\d{4} \d{4})\b")


def luhn_valid(number: str) -> bool:
    """Textbook Luhn over the whole number: from the right, every second digit is doubled."""
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char)
        if position % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def heard(text: str) -> list[str]:
    """The text-message words in ``text`` said on a call (none is right)."""
    return [m.group(0) for m in NOT_FOR_THE_EAR.finditer(text)]


def in_language(text: str, code: str) -> bool:
    """Whether ``text`` reads as ``code`` to the detector every channel uses (a reply's
    language is what the person reads, whichever code produced it)."""
    detection = lang.detect(text)
    return detection is not None and detection.language == code


def reference_in(text: str) -> str:
    """The case reference a reply gives ("4021 7382" → "40217382")."""
    match = REFERENCE.search(text)
    assert match, text
    return match.group(1).replace(" ", "")


MAX_WORDS = 25  # the longest prompt a caller hears (issue 9: "made for the ear")


def words(text: str) -> list[str]:
    """The words a voice says in ``text``: tokens with a letter or a digit ("1:" is one word,
    a lone ":" or "—" none)."""
    return [token for token in text.split() if re.search(r"\w", token)]
