"""What a case waits for, in the citizen's language (SPEC §5.1, §7; issue 9).

Staff say what is missing ("proof of address") in the case's ``detail``. A conversation may be
in another language than the one staff wrote in, so the detail is kept per language, like a
service message: ``{"en": "proof of address", "es": "comprobante de domicilio"}``. A plain
string is still accepted (the API's first form, the demo data): it is the text in the case's
own ``language``. A conversation in a language the detail does not have is told the generic
"we need more papers" and offered a person who can say which; it never reads another
language's words.

Stored in the existing ``cases.detail`` text column: a per-language detail as a JSON object
(:func:`encode`), a plain string as itself (:func:`texts` reads both), so no migration and no
change for rows written before.
"""

from __future__ import annotations

import json
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


def encode(value: str | Mapping[str, str] | None) -> str | None:
    """What the ``detail`` column holds for a :func:`clean` value."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(dict(value), ensure_ascii=False, sort_keys=True)


def decoded(stored: str | None) -> str | dict[str, str] | None:
    """The column's value as given: the per-language object, or the plain string."""
    if not stored or not stored.lstrip().startswith("{"):
        return stored
    try:
        value = json.loads(stored)
    except ValueError:
        return stored
    if isinstance(value, dict) and value and all(
            k in SUPPORTED and isinstance(v, str) for k, v in value.items()):
        return value
    return stored


def texts(stored: str | None, case_language: str) -> dict[str, str]:
    """Language code -> text; a plain string is the text in the case's language."""
    value = decoded(stored)
    if isinstance(value, dict):
        return value
    return {case_language or "en": value} if value and value.strip() else {}
