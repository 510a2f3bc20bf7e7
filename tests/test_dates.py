"""Reading dates of birth and named days the way people type them, in the four languages."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.domain.dates import find_day, parse_date_of_birth

D = dt.date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Day and month can be swapped: both readings, day-first first.
        ("12/03/1985", [D(1985, 3, 12), D(1985, 12, 3)]),
        ("12-03-1985", [D(1985, 3, 12), D(1985, 12, 3)]),
        ("12.03.85", [D(1985, 3, 12), D(1985, 12, 3)]),
        ("01/07/1990", [D(1990, 7, 1), D(1990, 1, 7)]),
        ("1/7/90", [D(1990, 7, 1), D(1990, 1, 7)]),
        ("٠٥/٠١/١٩٦٩", [D(1969, 1, 5), D(1969, 5, 1)]),
        # Only one reading possible.
        ("13/03/1985", [D(1985, 3, 13)]),
        ("03/13/1985", [D(1985, 3, 13)]),
        ("03/03/1980", [D(1980, 3, 3)]),
        ("1985-03-12", [D(1985, 3, 12)]),
        ("born 1978-11-30", [D(1978, 11, 30)]),
        # Month names, four languages.
        ("3 March 1980", [D(1980, 3, 3)]),
        ("3rd March 1980", [D(1980, 3, 3)]),
        ("3 Mar 1980", [D(1980, 3, 3)]),
        ("March 3, 1980", [D(1980, 3, 3)]),
        ("March 3rd 1980", [D(1980, 3, 3)]),
        ("3 de marzo de 1980", [D(1980, 3, 3)]),
        ("3 marzo 1980", [D(1980, 3, 3)]),
        ("1 de julio de 1990", [D(1990, 7, 1)]),
        ("le 3 mars 1980", [D(1980, 3, 3)]),
        ("1er mars 1980", [D(1980, 3, 1)]),
        ("30 novembre 1978", [D(1978, 11, 30)]),
        ("12 décembre 1975", [D(1975, 12, 12)]),
        ("٣ مارس ١٩٨٠", [D(1980, 3, 3)]),
        ("5 يناير 1969", [D(1969, 1, 5)]),
    ],
)
def test_parse_date_of_birth(text: str, expected: list[dt.date]) -> None:
    assert parse_date_of_birth(text) == expected


@pytest.mark.parametrize(
    "text",
    ["12/03/2099", "1 January 2099", "2099-01-01", "3 de marzo de 2999", "1 janvier 2100"],
)
def test_future_dates_are_rejected(text: str) -> None:
    assert parse_date_of_birth(text) == []


def test_tomorrow_is_not_a_date_of_birth_but_today_is() -> None:
    today = WEDNESDAY
    tomorrow = today + dt.timedelta(days=1)
    assert parse_date_of_birth(tomorrow.isoformat(), today) == []
    assert parse_date_of_birth(today.isoformat(), today) == [today]


def test_a_date_of_birth_defaults_to_the_real_today() -> None:
    today = dt.date.today()  # the code's own today is this one or later: never in the future
    assert parse_date_of_birth(today.isoformat()) == [today]
    assert parse_date_of_birth("2999-01-01") == []


@pytest.mark.parametrize("text", ["1899-12-31", "1 January 1850"])
def test_dates_before_1900_are_rejected(text: str) -> None:
    assert parse_date_of_birth(text) == []


@pytest.mark.parametrize(
    "text",
    ["", "hello", "I don't know", "no sé", "je ne sais pas", "لا أعرف", "31/02/1990",
     "32/01/1990", "00/00/0000", "40217382", "3 Smarch 1980", "March 1980"],
)
def test_garbage_gives_nothing(text: str) -> None:
    assert parse_date_of_birth(text) == []


WEDNESDAY = D(2026, 3, 4)
SATURDAY = D(2026, 3, 7)
SUNDAY = D(2026, 3, 8)


@pytest.mark.parametrize(
    ("text", "today", "expected"),
    [
        ("saturday", WEDNESDAY, SATURDAY),
        ("are you open on Saturday?", WEDNESDAY, SATURDAY),
        ("el sábado", WEDNESDAY, SATURDAY),
        ("¿abren el sabado?", WEDNESDAY, SATURDAY),
        ("samedi", WEDNESDAY, SATURDAY),
        ("vous êtes ouverts samedi matin ?", WEDNESDAY, SATURDAY),
        ("السبت", WEDNESDAY, SATURDAY),
        ("هل أنتم مفتوحون يوم السبت", WEDNESDAY, SATURDAY),
        # The next one, today included.
        ("saturday", SATURDAY, SATURDAY),
        ("samedi", SUNDAY, D(2026, 3, 14)),
        ("sunday", WEDNESDAY, SUNDAY),
        ("domingo", SATURDAY, SUNDAY),
        ("الأحد", WEDNESDAY, SUNDAY),
        ("monday", SUNDAY, D(2026, 3, 9)),
        ("lundi", WEDNESDAY, D(2026, 3, 9)),
        ("wednesday", WEDNESDAY, WEDNESDAY),
        ("miércoles", WEDNESDAY, WEDNESDAY),
        # Relative days.
        ("tomorrow", WEDNESDAY, D(2026, 3, 5)),
        ("are you open tomorrow", SATURDAY, SUNDAY),
        ("mañana", WEDNESDAY, D(2026, 3, 5)),
        ("¿abren mañana?", SATURDAY, SUNDAY),
        ("demain", WEDNESDAY, D(2026, 3, 5)),
        ("غدا", WEDNESDAY, D(2026, 3, 5)),
        ("غداً", WEDNESDAY, D(2026, 3, 5)),
        ("بكرة", WEDNESDAY, D(2026, 3, 5)),
        ("today", WEDNESDAY, WEDNESDAY),
        ("hoy", SATURDAY, SATURDAY),
        ("aujourd'hui", WEDNESDAY, WEDNESDAY),
        ("اليوم", WEDNESDAY, WEDNESDAY),
        ("tomorrow", D(2026, 12, 31), D(2027, 1, 1)),  # across a year
        # Spanish "mañana" after an article is "morning", not "tomorrow".
        ("el sábado por la mañana", WEDNESDAY, SATURDAY),
        ("mañana por la mañana", WEDNESDAY, D(2026, 3, 5)),
    ],
)
def test_find_day(text: str, today: dt.date, expected: dt.date) -> None:
    assert find_day(text, today) == expected


@pytest.mark.parametrize(
    "text",
    ["", "what time do you open", "where is city hall", "horaires", "¿a qué hora abren?",
     "مواعيد العمل", "40217382", "hello"],
)
def test_find_day_none(text: str) -> None:
    assert find_day(text, WEDNESDAY) is None


def test_find_day_defaults_to_the_real_today() -> None:
    # Read the clock on both sides of the call: the test passes across midnight too.
    before = dt.date.today()
    today, tomorrow = find_day("today"), find_day("tomorrow")
    after = dt.date.today()
    assert today in {before, after}
    assert tomorrow in {before + dt.timedelta(days=1), after + dt.timedelta(days=1)}
