"""Picking the right language out of a multilingual text field."""

from __future__ import annotations

from collections.abc import Mapping

from bot.language.detect import DEFAULT, SUPPORTED


def normalise(language: str | None) -> str:
    """A supported language code; anything else becomes the default (English)."""
    code = (language or "").strip().lower()[:2]
    return code if code in SUPPORTED else DEFAULT


def pick(texts: Mapping[str, str] | None, language: str | None) -> str:
    """The text in ``language``, falling back to English, then to any text there is."""
    if not texts:
        return ""
    code = normalise(language)
    return texts.get(code) or texts.get(DEFAULT) or next(iter(texts.values()), "")


def capitalised(text: str) -> str:
    """First letter upper case, the rest as written ("carte d'identité" -> "Carte d'identité";
    ``str.capitalize`` would lower the rest)."""
    return text[:1].upper() + text[1:]
