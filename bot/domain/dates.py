"""Reading dates the way people type them, in the four languages.

"12/03/1985", "1985-03-12", "3 March 1980", "3 de marzo de 1980", "le 3 mars 1980",
"٣ مارس ١٩٨٠". A numeric date whose day and month could be swapped gives both readings; the
caller decides (a date of birth matches if either reading matches the one on file).
"""

from __future__ import annotations

import datetime as dt
import re

from bot.domain.references import normalise_digits
from bot.language.detect import fold
from bot.language.vocabulary import DAY_NAMES, DAY_SHORT, MONTH_NAMES, MONTH_SHORT

MONTHS: dict[str, int] = {}
_MONTH_WORDS = {
    1: "january jan enero ene janvier janv يناير كانون الثاني",
    2: "february feb febrero fevrier fev fevr فبراير شباط",
    3: "march mar marzo mars مارس آذار اذار",
    4: "april apr abril avril avr أبريل ابريل إبريل نيسان",
    5: "may mayo mai مايو أيار ايار",
    6: "june jun junio juin يونيو يونيه حزيران",
    7: "july jul julio juillet juil يوليو يوليه تموز",
    8: "august aug agosto aout أغسطس اغسطس آب",
    9: "september sep sept septiembre setiembre septembre سبتمبر أيلول ايلول",
    10: "october oct octubre octobre أكتوبر اكتوبر تشرين الأول",
    11: "november nov noviembre novembre نوفمبر تشرين الثاني",
    12: "december dec diciembre dic decembre ديسمبر كانون الأول",
}
for _number, _names in _MONTH_WORDS.items():
    for _name in _names.split():
        # Ambiguous Levantine halves ("كانون", "تشرين", "الثاني", "الأول") are not single names.
        if _name not in {"كانون", "تشرين", "الثاني", "الأول"}:
            MONTHS.setdefault(fold(_name), _number)

_NUMERIC = re.compile(r"\b(\d{1,4})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{2,4})\b")
_WORDY = re.compile(
    r"(\d{1,2})(?:st|nd|rd|th|er|º|°)?\s+(?:de\s+|of\s+)?([^\W\d_]+)\.?\s+(?:de\s+)?(\d{4})"
)
_MONTH_FIRST = re.compile(r"([^\W\d_]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})")


def full_year(value: int, today: dt.date | None = None) -> int:
    """A year as typed: two digits are the most recent such year not in the future."""
    if value >= 100:
        return value
    # Two-digit years: a date of birth is in the past.
    this_year = (today or dt.date.today()).year % 100
    return 2000 + value if value <= this_year else 1900 + value


def _safe(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def candidate_dates(text: str, today: dt.date | None = None) -> list[dt.date]:
    """Every date the text can reasonably mean: usually one, two for 03/04/1990, and every
    date of a message that lists several (a date of birth check tries only a message that
    means exactly one, bot.domain.cases.check_date_of_birth)."""
    folded = fold(normalise_digits(text))
    found: list[dt.date] = []
    for match in _NUMERIC.finditer(folded):  # every date in the message counts (§5.1)
        first, second, third = (int(g) for g in match.groups())
        if len(match.group(1)) == 4:  # ISO: year-month-day
            found.append(_safe(first, second, third))
        else:
            year = full_year(third, today)
            found.append(_safe(year, second, first))  # day first: most of the world
            if first != second:
                found.append(_safe(year, first, second))  # month first: US
    for pattern, order in ((_WORDY, "dmy"), (_MONTH_FIRST, "mdy")):
        for groups in pattern.findall(folded):
            if order == "dmy":
                day, month_name, year = groups
            else:
                month_name, day, year = groups
            month = MONTHS.get(month_name)
            if month:
                found.append(_safe(int(year), month, int(day)))
    unique: list[dt.date] = []
    for date in found:
        if date and date not in unique:
            unique.append(date)
    return unique


def parse_date_of_birth(text: str, today: dt.date | None = None) -> list[dt.date]:
    """Candidate dates of birth in ``text``: in the past (``today`` at the latest, default
    the real today) and after 1900."""
    today = today or dt.date.today()
    return [d for d in candidate_dates(text, today) if dt.date(1900, 1, 1) <= d <= today]


_WEEKDAY_NAMES = {
    0: "monday mon lunes lundi الاثنين الإثنين اثنين",
    1: "tuesday tue tues martes mardi الثلاثاء ثلاثاء",
    2: "wednesday wed miercoles mercredi الأربعاء الاربعاء اربعاء",
    3: "thursday thu thurs jueves jeudi الخميس خميس",
    4: "friday fri viernes vendredi الجمعة جمعة",
    5: "saturday sat sabado samedi السبت سبت",
    6: "sunday sun domingo dimanche الأحد الاحد احد",
}
WEEKDAYS = {fold(name): day for day, names in _WEEKDAY_NAMES.items() for name in names.split()}
_RELATIVE = {
    0: "today hoy aujourd'hui aujourdhui اليوم",
    1: "tomorrow manana demain غدا غداً بكرة بكره",
}
RELATIVE_DAYS = {
    fold(name): offset for offset, names in _RELATIVE.items() for name in names.split()
}
_MORNING_BEFORE = frozenset({"la", "esta", "una", "cada"})


def find_day(text: str, today: dt.date | None = None) -> dt.date | None:
    """The day a message names: a weekday (the next one, today included) or today/tomorrow."""
    today = today or dt.date.today()
    tokens = re.findall(r"[^\W\d_']+(?:'[^\W\d_]+)?", fold(text))
    for index, token in enumerate(tokens):
        # "por la mañana", "esta mañana": Spanish "mañana" after an article is "morning".
        if token == "manana" and index and tokens[index - 1] in _MORNING_BEFORE:
            continue
        if token in RELATIVE_DAYS:
            return today + dt.timedelta(days=RELATIVE_DAYS[token])
    for token in tokens:
        if token in WEEKDAYS:
            return today + dt.timedelta(days=(WEEKDAYS[token] - today.weekday()) % 7)
    return None


# --- Days and times for appointments (SPEC §5.4) ---------------------------------------------

_NEXT_WORDS = frozenset({"next", "prochain", "prochaine", "proximo", "proxima", "viene",
                         "القادم", "المقبل", "الجاي", "القادمة"})
# "the day after tomorrow", folded, hyphens as spaces.
_DAY_AFTER_TOMORROW = ("day after tomorrow", "pasado manana", "apres demain", "بعد غد",
                       "بعد الغد", "بعد بكرة", "بعد بكره")
_DAY_MONTH = re.compile(r"(?<![\d/.\-])(\d{1,2})\s*[/.\-]\s*(\d{1,2})(?![\d/.\-:])")
_DAY_MONTH_NAME = re.compile(r"(\d{1,2})(?:st|nd|rd|th|er|º|°)?\s+(?:de\s+|of\s+)?([^\W\d_]+)")
_MONTH_NAME_DAY = re.compile(r"([^\W\d_]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b")
# How far back a date without a year may be and still mean this year ("that day has passed").
PAST_WINDOW_DAYS = 90


def _this_or_next_year(month: int, day: int, today: dt.date) -> dt.date | None:
    """A day and month without a year: this year's, unless long past (then next year's)."""
    date = _safe(today.year, month, day)
    if date is None:
        return None
    if date < today - dt.timedelta(days=PAST_WINDOW_DAYS):
        return _safe(today.year + 1, month, day)
    return date


def parse_day(text: str, today: dt.date | None = None) -> dt.date | None:
    """The day a person means, for booking: dates with or without a year, or named days.

    "17/05", "٢٠/٥", "2026-05-17", "17 mai", "3 de marzo", "May 17", "mañana", "lundi
    prochain", "el próximo lunes", "الاثنين القادم", "pasado mañana". Numbers are read day
    first (as most of the world writes them), month first only when day first is impossible.
    A date may be in the past: the caller explains that it has passed.
    """
    today = today or dt.date.today()
    folded = fold(normalise_digits(text)).replace("-", " ") if text else ""
    dated = candidate_dates(text)
    if dated:
        return dated[0]
    match = _DAY_MONTH.search(fold(normalise_digits(text)))
    if match:
        first, second = int(match.group(1)), int(match.group(2))
        return _this_or_next_year(second, first, today) or _this_or_next_year(first, second,
                                                                                today)
    for pattern, day_first in ((_DAY_MONTH_NAME, True), (_MONTH_NAME_DAY, False)):
        for groups in pattern.findall(folded):
            day, name = (groups[0], groups[1]) if day_first else (groups[1], groups[0])
            month = MONTHS.get(name)
            if month:
                return _this_or_next_year(month, int(day), today)
    if any(phrase in folded for phrase in _DAY_AFTER_TOMORROW):
        return today + dt.timedelta(days=2)
    tokens = re.findall(r"[^\W\d_']+(?:'[^\W\d_]+)?", folded)
    weekday = next((WEEKDAYS[t] for t in tokens if t in WEEKDAYS), None)
    if weekday is not None and _NEXT_WORDS & set(tokens):
        return today + dt.timedelta(days=(weekday - today.weekday()) % 7 or 7)
    return find_day(text, today)


_CLOCK = re.compile(r"(?<!\d)(\d{1,2})\s*(?::|h|\.)\s*(\d{2})(?!\d)")
_HOUR_ONLY = re.compile(r"(?<![\d/.:])(\d{1,2})\s*(?:h|heures?|hrs?|o'?clock)?(?![\d:./])")
_AFTERNOON = ("pm", "p.m", "tarde", "apres midi", "soir", "مساء", "مساءا", "مساءً", "ظهرا",
              "العصر", "afternoon", "evening")
_MORNING = ("am", "a.m", "manana", "matin", "صباحا", "صباحاً", "الصبح", "morning")
# A bare hour below this is read as afternoon ("at 3" -> 15:00): offices open by day.
AFTERNOON_BEFORE = 7


def parse_time(text: str) -> dt.time | None:
    """The time of day a person means: "10:30", "10h30", "10.30", "3pm", "15h", "a las 10",
    "١٠:٣٠". A bare small hour ("at 3") is read as the afternoon, when offices are open."""
    folded = fold(normalise_digits(text or "")).replace("-", " ")
    words_ = set(re.findall(r"[^\W\d_]+(?:\.[^\W\d_]+)?", folded))
    pm = any(w in folded for w in _AFTERNOON if " " in w) or bool(words_ & set(_AFTERNOON))
    am = bool(words_ & set(_MORNING))
    match = _CLOCK.search(folded)
    if match:
        hour, minute = int(match.group(1)), int(match.group(2))
    else:
        match = _HOUR_ONLY.search(folded)
        if not match:
            return None
        hour, minute = int(match.group(1)), 0
        if not (pm or am) and 0 < hour < AFTERNOON_BEFORE:
            hour += 12
    if pm and hour < 12:
        hour += 12
    if am and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        return None
    return dt.time(hour, minute)


def format_day(day: dt.date, language: str, short: bool = False) -> str:
    """A day as people say it: "Tuesday 1 December", "martes 1 de diciembre"; ``short`` for
    a list of days on SMS: "Tue 1 Dec", "mar 1 dic" (Arabic names stay whole)."""
    from bot.language.i18n import normalise

    code = normalise(language)
    weekday = (DAY_SHORT if short else DAY_NAMES)[code][day.weekday()]
    month = MONTH_NAMES[code][day.month - 1]
    if short and code != "ar":
        return f"{weekday} {day.day} {MONTH_SHORT[code][day.month - 1]}"
    if code == "es":
        return f"{weekday} {day.day} de {month}"
    return f"{weekday} {day.day} {month}"


EARLIEST_BIRTH_YEAR = 1900


def keyed_date(digits: str, today: dt.date | None = None) -> dt.date | None:
    """A date of birth typed on a keypad (a call, USSD) in the one documented order, DDMMYYYY
    ('12031985' is the 12th of March 1985), or None: not 8 digits, no such day, in the future
    or before 1900. A month over 12 is refused, never read as a day."""
    if len(digits) != 8 or not digits.isdigit():
        return None
    try:
        date = dt.date(int(digits[4:]), int(digits[2:4]), int(digits[:2]))
    except ValueError:
        return None
    return date if dt.date(EARLIEST_BIRTH_YEAR, 1, 1) <= date <= (today or dt.date.today()) \
        else None


def written_date(date: dt.date, language: str) -> str:
    """A date written out for reading back: "12 March 1985", "12 de marzo de 1985",
    "12 mars 1985", "12 مارس 1985"."""
    from bot.language.i18n import normalise

    code = normalise(language)
    month = MONTH_NAMES[code][date.month - 1]
    if code == "es":
        return f"{date.day} de {month} de {date.year}"
    return f"{date.day} {month} {date.year}"
