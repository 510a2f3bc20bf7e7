"""Texts the channels say themselves, in the person's language (SPEC §3).

Some replies never reach Rasa: SMS keywords, media declined, the voice language menu and call
control, Telegram's contact sharing. They are ordinary responses in ``domain/channel.yml`` (so
tests/test_responses.py holds them to the same rules as every other response), read here once:
the variation whose ``language`` slot condition matches, else the English default.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml

from bot.config import PROJECT_ROOT
from bot.language.i18n import normalise

DOMAIN_DIR = PROJECT_ROOT / "domain"
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _language_of(variation: dict) -> str | None:
    for condition in variation.get("condition") or []:
        if condition.get("type") == "slot" and condition.get("name") == "language":
            return str(condition.get("value"))
    return None


@lru_cache(maxsize=1)
def _responses(directory: Path = DOMAIN_DIR) -> dict[str, dict[str | None, dict]]:
    """Every response of the domain: name -> {language or None (the default): variation}."""
    found: dict[str, dict[str | None, dict]] = {}
    for path in sorted(directory.glob("*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for name, variations in (document.get("responses") or {}).items():
            by_language = found.setdefault(name, {})
            for variation in variations or []:
                by_language.setdefault(_language_of(variation), variation)
    return found


def text(name: str, language: str | None, /, **values: object) -> str:
    """The response ``name`` in ``language`` with its {placeholders} filled.

    Raises ``KeyError`` for an unknown response: a typo should fail the tests, not a citizen.
    """
    variations = _responses()[name]
    variation = variations.get(normalise(language)) or variations.get(None) or {}
    template = str(variation.get("text") or "")
    return _PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), m.group(0))), template)


def button_titles(name: str, language: str | None) -> list[str]:
    """The titles of the buttons the response ``name`` has in ``language`` (maybe none)."""
    variations = _responses()[name]
    variation = variations.get(normalise(language)) or variations.get(None) or {}
    return [str(button.get("title") or "") for button in variation.get("buttons") or []]
