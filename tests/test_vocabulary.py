"""Every translated table in Python (bot/language/vocabulary.py) has exactly the supported
languages: a fifth language fails here, table by table, until each one has it."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from bot.language import vocabulary
from bot.language.detect import SUPPORTED, explicit_request

TABLES = {name: value for name, value in vars(vocabulary).items()
          if name.isupper() and isinstance(value, Mapping)}


def languages_of(table: Mapping) -> dict[str, set[str]]:
    """The languages of a table keyed by language, or of each choice of a table of choices."""
    if set(table) & set(SUPPORTED):
        return {"": set(table)}
    return {str(choice): set(names) if isinstance(names, Mapping) else set()
            for choice, names in table.items()}


def test_the_vocabulary_has_the_tables_that_were_scattered() -> None:
    assert {"KIND_NAMES", "DAY_NAMES", "DAY_SHORT", "MONTH_NAMES", "MONTH_SHORT", "DAY_WORDS",
            "VOICES", "SPOKEN_LANGUAGE_NAMES", "LANGUAGE_NAMES", "ENGLISH_NAMES"} <= set(TABLES)


@pytest.mark.parametrize("name", sorted(TABLES))
def test_every_table_has_exactly_the_supported_languages(name: str) -> None:
    for choice, languages in languages_of(TABLES[name]).items():
        assert languages == set(SUPPORTED), f"{name}{f'[{choice}]' if choice else ''}"


@pytest.mark.parametrize(("name", "length"), [("DAY_NAMES", 7), ("DAY_SHORT", 7),
                                              ("MONTH_NAMES", 12), ("MONTH_SHORT", 12)])
def test_every_language_names_every_day_and_month(name: str, length: int) -> None:
    assert {code: len(names) for code, names in TABLES[name].items()} == \
        dict.fromkeys(SUPPORTED, length)


def test_a_table_missing_a_language_is_caught() -> None:
    partial = {code: "x" for code in SUPPORTED[:-1]}
    assert languages_of(partial) != {"": set(SUPPORTED)}
    assert languages_of({"choice": partial}) != {"choice": set(SUPPORTED)}


def test_one_table_of_language_names_serves_staff_and_citizens() -> None:
    assert vocabulary.ENGLISH_NAMES == {"en": "English", "es": "Spanish", "fr": "French",
                                        "ar": "Arabic"}
    for code, names in vocabulary.LANGUAGE_NAMES.items():
        for name in names:  # every name, the English one too, asks for its language
            assert explicit_request(name) == code, name


def test_the_voice_hints_are_every_spoken_language_name() -> None:
    assert vocabulary.LANGUAGE_HINTS == ("English", "Español", "Spanish", "Français", "French",
                                         "Arabic", "عربي")
