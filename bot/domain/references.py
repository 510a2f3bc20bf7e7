"""Case references: 8 digits, the last a Luhn check digit (SPEC §5.1).

People type them with spaces, dashes or a leading ``#`` ("4021 7385", "4021-7385", "#40217385").
A mistyped reference is caught here, by its check digit, without a database look-up.
"""

from __future__ import annotations

import re
import secrets

REFERENCE_LENGTH = 8
# Digits that may be broken up by spaces, dashes, dots or a leading '#'. Arabic-Indic and
# Eastern Arabic-Indic digits are folded to ASCII first (see normalise_digits).
_CANDIDATE = re.compile(r"#?\s*(\d(?:[\s\-.]*\d){5,11})")
_ARABIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


def normalise_digits(text: str) -> str:
    """Fold Arabic-Indic digits (٠-٩, ۰-۹) to ASCII so every channel's input reads the same."""
    return text.translate(_ARABIC_DIGITS)


def luhn_check_digit(payload: str) -> str:
    """The Luhn check digit for a string of digits."""
    total = 0
    for index, char in enumerate(reversed(payload)):
        digit = int(char)
        if index % 2 == 0:  # doubled: the digit next to the (future) check digit, and every 2nd
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def is_valid(reference: str) -> bool:
    """True for exactly 8 ASCII digits whose last digit is the Luhn check digit."""
    return (
        len(reference) == REFERENCE_LENGTH
        and reference.isascii()
        and reference.isdigit()
        and luhn_check_digit(reference[:-1]) == reference[-1]
    )


def clean(text: str) -> str:
    """Strip the separators people type: '# 4021-7385' -> '40217385' (no validation)."""
    return re.sub(r"[\s\-.#]", "", normalise_digits(text))


def find_candidate(text: str) -> str | None:
    """The first run of 6-12 digits in ``text`` (separators allowed), cleaned; None if none.

    It returns what the person *meant* as a reference even when it is mistyped, so the caller
    can tell them "that number does not look right" rather than "I did not see a number".
    """
    match = _CANDIDATE.search(normalise_digits(text))
    return clean(match.group(1)) if match else None


def generate(exists: callable | None = None) -> str:  # type: ignore[valid-type]
    """A new random valid reference (not starting with 0, so it reads well aloud)."""
    while True:
        payload = str(secrets.randbelow(9) + 1) + "".join(
            str(secrets.randbelow(10)) for _ in range(REFERENCE_LENGTH - 2)
        )
        reference = payload + luhn_check_digit(payload)
        if exists is None or not exists(reference):
            return reference


def spoken(reference: str) -> str:
    """Digit by digit, grouped 4+4, for voice read-back and SMS clarity: '4021 7385'."""
    return f"{reference[:4]} {reference[4:]}"
