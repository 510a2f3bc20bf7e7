"""Reading dates of birth and named days the way people type them, in the four languages."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.domain.dates import day_readings, find_day, format_date, parse_date_of_birth, parse_time

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


# --- issue 13 §4: dates and times as people write them, a table per language -----------------
# (kind, written, expected): "birth" -> parse_date_of_birth (every reading: two for 03/04),
# "day" -> day_readings for a booking (two when day and month could be swapped), "time" ->
# parse_time. Today is Wednesday 4 March 2026 (WEDNESDAY above).

T = dt.time
WRITTEN: dict[str, list[tuple[str, str, object]]] = {
    "en": [
        ("birth", "12th of March, 1985", [D(1985, 3, 12)]),
        ("birth", "12 03 1985", [D(1985, 3, 12), D(1985, 12, 3)]),
        ("birth", "12 March 1985", [D(1985, 3, 12)]),
        ("birth", "March 12, 1985", [D(1985, 3, 12)]),
        ("birth", "March 12th, 85", [D(1985, 3, 12)]),
        ("birth", "the 1st of May 1990", [D(1990, 5, 1)]),
        ("birth", "2nd June 1970", [D(1970, 6, 2)]),
        ("birth", "23rd of Dec 1999", [D(1999, 12, 23)]),
        ("birth", "12 Mar 80", [D(1980, 3, 12)]),
        ("birth", "born on 13/03/1985", [D(1985, 3, 13)]),
        ("birth", "03/04/1990", [D(1990, 4, 3), D(1990, 3, 4)]),  # read back, never guessed
        ("birth", "5/1/05", [D(2005, 1, 5), D(2005, 5, 1)]),  # 2005: not in the future
        ("birth", "1/1/30", [D(1930, 1, 1)]),  # 2030 would be in the future
        ("birth", "1985-03-12", [D(1985, 3, 12)]),
        ("birth", "12.03.1985", [D(1985, 3, 12), D(1985, 12, 3)]),
        ("birth", "the first of March 1980", [D(1980, 3, 1)]),
        ("day", "03/04", [D(2026, 4, 3), D(2026, 3, 4)]),
        ("day", "17/05", [D(2026, 5, 17)]),
        ("day", "the 3rd of May", [D(2026, 5, 3)]),
        ("day", "May 17th", [D(2026, 5, 17)]),
        ("day", "next monday", [D(2026, 3, 9)]),
        ("day", "tomorrow", [D(2026, 3, 5)]),
        ("day", "17/05/27", [D(2027, 5, 17)]),  # a booking's two-digit year: this century
        ("time", "10:30", T(10, 30)),
        ("time", "half past ten", T(10, 30)),
        ("time", "half past 2", T(14, 30)),  # a small hour: the afternoon, offices are open
        ("time", "quarter past nine", T(9, 15)),
        ("time", "quarter to 11", T(10, 45)),
        ("time", "noon", T(12, 0)),
        ("time", "midday please", T(12, 0)),
        ("time", "3pm", T(15, 0)),
        ("time", "at ten", T(10, 0)),
        ("time", "10 o'clock", T(10, 0)),
        ("time", "9.45", T(9, 45)),
    ],
    "es": [
        ("birth", "el 3 de marzo del 1980", [D(1980, 3, 3)]),
        ("birth", "3 de marzo de 1980", [D(1980, 3, 3)]),
        ("birth", "3 de marzo del 80", [D(1980, 3, 3)]),
        ("birth", "nací el 1 de julio de 1990", [D(1990, 7, 1)]),
        ("birth", "1º de julio de 1990", [D(1990, 7, 1)]),
        ("birth", "primero de julio de 1990", [D(1990, 7, 1)]),
        ("birth", "12 de Dic. de 1975", [D(1975, 12, 12)]),
        ("birth", "12 03 1985", [D(1985, 3, 12), D(1985, 12, 3)]),
        ("birth", "12/03/85", [D(1985, 3, 12), D(1985, 12, 3)]),
        ("birth", "13-03-1985", [D(1985, 3, 13)]),
        ("birth", "30 setiembre 1978", [D(1978, 9, 30)]),
        ("birth", "5 de enero de 69", [D(1969, 1, 5)]),
        ("birth", "15 agosto 2001", [D(2001, 8, 15)]),
        ("birth", "4 de abril de 1960", [D(1960, 4, 4)]),
        ("birth", "el 2 de febrero del 2002", [D(2002, 2, 2)]),
        ("day", "el 3 de mayo", [D(2026, 5, 3)]),
        ("day", "03/04", [D(2026, 4, 3), D(2026, 3, 4)]),
        ("day", "20/5", [D(2026, 5, 20)]),
        ("day", "el próximo lunes", [D(2026, 3, 9)]),
        ("day", "pasado mañana", [D(2026, 3, 6)]),
        ("day", "mañana", [D(2026, 3, 5)]),
        ("time", "10 y media", T(10, 30)),
        ("time", "a las 10 y media", T(10, 30)),
        ("time", "las diez y media", T(10, 30)),
        ("time", "10 y cuarto", T(10, 15)),
        ("time", "11 menos cuarto", T(10, 45)),
        ("time", "mediodía", T(12, 0)),
        ("time", "a las 12 del mediodía", T(12, 0)),
        ("time", "a las 10", T(10, 0)),
        ("time", "a las 4 de la tarde", T(16, 0)),
        ("time", "la una y media", T(13, 30)),
        ("time", "9:15", T(9, 15)),
        ("time", "10 horas", T(10, 0)),
    ],
    "fr": [
        ("birth", "3 mars 80", [D(1980, 3, 3)]),
        ("birth", "le 3 mars 1980", [D(1980, 3, 3)]),
        ("birth", "1er mars 1980", [D(1980, 3, 1)]),
        ("birth", "le premier mars 1980", [D(1980, 3, 1)]),
        ("birth", "né le 30 novembre 1978", [D(1978, 11, 30)]),
        ("birth", "12 déc. 1975", [D(1975, 12, 12)]),
        ("birth", "12 decembre 1975", [D(1975, 12, 12)]),
        ("birth", "5 févr. 1969", [D(1969, 2, 5)]),
        ("birth", "14 juillet 89", [D(1989, 7, 14)]),
        ("birth", "12 03 1985", [D(1985, 3, 12), D(1985, 12, 3)]),
        ("birth", "12/03/1985", [D(1985, 3, 12), D(1985, 12, 3)]),
        ("birth", "25/12/1960", [D(1960, 12, 25)]),
        ("birth", "1er août 2001", [D(2001, 8, 1)]),
        ("birth", "le 2 avril de l'an 2000", [D(2000, 4, 2)]),
        ("birth", "3 mars 1980, merci", [D(1980, 3, 3)]),
        ("day", "17 mai", [D(2026, 5, 17)]),
        ("day", "le 1er juin", [D(2026, 6, 1)]),
        ("day", "03/04", [D(2026, 4, 3), D(2026, 3, 4)]),
        ("day", "lundi prochain", [D(2026, 3, 9)]),
        ("day", "après-demain", [D(2026, 3, 6)]),
        ("day", "demain", [D(2026, 3, 5)]),
        ("time", "10 et demie", T(10, 30)),
        ("time", "10h et demie", T(10, 30)),
        ("time", "dix heures et demie", T(10, 30)),
        ("time", "10 heures et quart", T(10, 15)),
        ("time", "11 heures moins le quart", T(10, 45)),
        ("time", "midi", T(12, 0)),
        ("time", "vers midi", T(12, 0)),
        ("time", "10h30", T(10, 30)),
        ("time", "15h", T(15, 0)),
        ("time", "à 9 heures", T(9, 0)),
        ("time", "3 heures de l'après-midi", T(15, 0)),
        ("time", "14:45", T(14, 45)),
    ],
    "ar": [
        ("birth", "٣ مارس ١٩٨٠", [D(1980, 3, 3)]),
        ("birth", "3 مارس 1980", [D(1980, 3, 3)]),
        ("birth", "3 من مارس 1980", [D(1980, 3, 3)]),
        ("birth", "١٢ مارس ٨٥", [D(1985, 3, 12)]),
        ("birth", "5 يناير 1969", [D(1969, 1, 5)]),
        ("birth", "٥ يناير ١٩٦٩", [D(1969, 1, 5)]),
        ("birth", "30 نوفمبر 1978", [D(1978, 11, 30)]),
        ("birth", "15 أغسطس 2001", [D(2001, 8, 15)]),
        ("birth", "15 اغسطس 2001", [D(2001, 8, 15)]),
        ("birth", "1 ابريل 1990", [D(1990, 4, 1)]),
        ("birth", "٢٥/١٢/١٩٦٠", [D(1960, 12, 25)]),
        ("birth", "٠٥/٠١/١٩٦٩", [D(1969, 1, 5), D(1969, 5, 1)]),
        ("birth", "12 03 1985", [D(1985, 3, 12), D(1985, 12, 3)]),
        ("birth", "1985-03-12", [D(1985, 3, 12)]),
        ("birth", "10 حزيران 1975", [D(1975, 6, 10)]),
        ("birth", "ولدت في 7 يوليو 1999", [D(1999, 7, 7)]),
        ("day", "3 مايو", [D(2026, 5, 3)]),
        ("day", "٢٠/٥", [D(2026, 5, 20)]),
        ("day", "03/04", [D(2026, 4, 3), D(2026, 3, 4)]),
        ("day", "الاثنين القادم", [D(2026, 3, 9)]),
        ("day", "غدا", [D(2026, 3, 5)]),
        ("day", "بعد غد", [D(2026, 3, 6)]),
        ("time", "الظهر", T(12, 0)),
        ("time", "العاشرة والنصف", T(10, 30)),
        ("time", "10 ونص", T(10, 30)),
        ("time", "١٠ والنصف", T(10, 30)),
        ("time", "العاشرة وربع", T(10, 15)),
        ("time", "11 الا ربع", T(10, 45)),
        ("time", "الساعة العاشرة", T(10, 0)),
        ("time", "١٠:٣٠", T(10, 30)),
        ("time", "3 مساء", T(15, 0)),
        ("time", "9 صباحا", T(9, 0)),
        ("time", "الساعة 2 ظهرا", T(14, 0)),
    ],
}
WRITTEN_CASES = [(language, *case) for language, cases in WRITTEN.items() for case in cases]


def test_at_least_30_written_forms_per_language() -> None:
    assert {language: len(cases) >= 30 for language, cases in WRITTEN.items()} == {
        "en": True, "es": True, "fr": True, "ar": True}


@pytest.mark.parametrize(("language", "kind", "written", "expected"), WRITTEN_CASES,
                         ids=[f"{c[0]}-{c[2]}" for c in WRITTEN_CASES])
def test_dates_and_times_as_people_write_them(language: str, kind: str, written: str,
                                              expected: object) -> None:
    read = {"birth": lambda text: parse_date_of_birth(text, WEDNESDAY),
            "day": lambda text: day_readings(text, WEDNESDAY),
            "time": parse_time}[kind](written)
    assert read == expected


@pytest.mark.parametrize(("text", "today", "expected"), [
    ("01/01/26", D(2026, 3, 4), [D(2026, 1, 1)]),  # this year, already past: 2026
    ("12/12/26", D(2026, 3, 4), [D(1926, 12, 12)]),  # later this year: not born yet -> 1926
    ("3 mars 80", D(2079, 1, 1), [D(1980, 3, 3)]),
    ("3 mars 80", D(2081, 1, 1), [D(2080, 3, 3)]),
])
def test_a_birth_dates_two_digit_year_is_the_latest_not_in_the_future(
        text: str, today: dt.date, expected: list[dt.date]) -> None:
    assert parse_date_of_birth(text, today) == expected


@pytest.mark.parametrize("text", ["", "hello", "no sé", "4021 7382", "the afternoon",
                                  "cet après-midi", "40217382", "ما عندي"])
def test_no_time_in_these(text: str) -> None:
    assert parse_time(text) is None


def test_a_date_is_written_back_with_the_month_as_a_word() -> None:
    date = D(1990, 4, 3)
    assert [format_date(date, code) for code in ("en", "es", "fr", "ar")] == [
        "3 April 1990", "3 de abril de 1990", "3 avril 1990", "3 أبريل 1990"]
    # what is written back reads as that one date again
    assert all(parse_date_of_birth(format_date(date, code)) == [date]
               for code in ("en", "es", "fr", "ar"))
