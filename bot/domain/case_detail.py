"""What a case waits for, in the citizen's language (SPEC §5.1, §7; issue 9).

Staff say what is missing ("proof of address") in the case's ``detail``. A conversation may be
in another language than the one staff wrote in, so the detail is kept per language, like a
service message: ``{"en": "proof of address", "es": "comprobante de domicilio"}``. A plain
string is still accepted (the API's first form, the demo data): it is the text in the case's
own ``language``. A conversation in a language the detail does not have is told the generic
"we need more papers" and offered a person who can say which; it never reads another
language's words.

Stored in the ``cases.detail`` JSON column as ``{language: text}`` (:func:`encode`); a plain
string is stored as ``{case language: text}``, and migration 0010 turned the rows of the old
text column into that form.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.language.detect import SUPPORTED

MAX_LENGTH = 2000  # per language


class DetailError(ValueError):
    """A detail that cannot be stored; the message says why (API: 422)."""


def clean(value: object) -> str | dict[str, str] | None:
    """``value`` as the API may give it, checked: a non-empty string, or an object of supported
    language codes to non-empty strings (empty ones dropped), or None."""
    if value is None:
        return None
    if isinstance(value, str):
        if not value.strip():
            raise DetailError("'detail' must not be empty")
        if len(value) > MAX_LENGTH:
            raise DetailError(f"'detail' is longer than {MAX_LENGTH} characters")
        return value.strip()
    if not isinstance(value, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise DetailError("'detail' must be a string or an object of language code to text")
    wrong = sorted(set(value) - set(SUPPORTED))
    if wrong:
        raise DetailError(f"'detail' has unsupported language(s): {', '.join(wrong)}")
    if any(len(v) > MAX_LENGTH for v in value.values()):
        raise DetailError(f"each 'detail' text must be at most {MAX_LENGTH} characters")
    kept = {code: text.strip() for code, text in value.items() if text.strip()}
    if not kept:
        raise DetailError("'detail' needs a text in at least one language")
    return dict(sorted(kept.items()))


def encode(value: str | Mapping[str, str] | None, language: str) -> dict[str, str] | None:
    """What the ``detail`` column holds for a :func:`clean` value: a plain string is the text in
    the case's ``language``."""
    if value is None:
        return None
    if isinstance(value, str):
        return {language or "en": value} if value.strip() else None
    return dict(sorted(value.items())) or None


def texts(stored: Mapping[str, str] | None, case_language: str) -> dict[str, str]:
    """Language code -> text, as the column holds it (a stray plain string, written around
    the model, is read as the case's language)."""
    if isinstance(stored, str):
        return encode(stored, case_language) or {}
    return {code: text for code, text in (stored or {}).items()
            if code in SUPPORTED and isinstance(text, str)}
