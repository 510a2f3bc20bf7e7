"""Phone numbers: E.164 normalisation and masking for logs (SPEC §8)."""

from __future__ import annotations

import phonenumbers

from bot.config import get_settings


def to_e164(raw: str | None, region: str | None = None) -> str | None:
    """Normalise ``raw`` to E.164 ("+15550100001"), or None when it is not a valid number.

    Numbers without a country code are read in ``region`` (default: CIVICLINE_DEFAULT_REGION).
    """
    if not raw:
        return None
    text = raw.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, None if text.startswith("+") else region or
                                    get_settings().default_region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def looks_like_phone(text: str) -> bool:
    """True when the whole text is a phone number (used to reject one given as an address)."""
    stripped = text.strip()
    digits = sum(ch.isdigit() for ch in stripped)
    has_letters = any(ch.isalpha() for ch in stripped)
    return digits >= 7 and not has_letters and to_e164(stripped) is not None


def mask(phone: str | None) -> str:
    """'+15550100001' -> '+1•••••••001': safe for logs and the console's lists."""
    if not phone:
        return "-"
    if len(phone) <= 6:  # too short to keep both ends without showing (or repeating) it all
        return "•" * len(phone)
    return phone[:2] + "•" * (len(phone) - 5) + phone[-3:]
