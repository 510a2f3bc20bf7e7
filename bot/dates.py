"""Reading dates the way people type them, in the four languages.

"12/03/1985", "1985-03-12", "3 March 1980", "3 de marzo de 1980", "le 3 mars 1980",
"٣ مارس ١٩٨٠". A numeric date whose day and month could be swapped gives both readings; the
caller decides (a date of birth matches if either reading matches the one on file).
"""

from __future__ import annotations

import datetime as dt
import re

from bot.language import fold
from bot.references import normalise_digits

MONTHS: dict[str, int] = {}
_MONTH_NAMES = {
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
for _number, _names in _MONTH_NAMES.items():
    for _name in _names.split():
        # Ambiguous Levantine halves ("كانون", "تشرين", "الثاني", "الأول") are not single names.
        if _name not in {"كانون", "تشرين", "الثاني", "الأول"}:
            MONTHS.setdefault(fold(_name), _number)

_NUMERIC = re.compile(r"\b(\d{1,4})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{2,4})\b")
_WORDY = re.compile(
    r"(\d{1,2})(?:st|nd|rd|th|er|º|°)?\s+(?:de\s+|of\s+)?([^\W\d_]+)\.?\s+(?:de\s+)?(\d{4})"
)
_MONTH_FIRST = re.compile(r"([^\W\d_]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})")


def _year(value: int) -> int:
    if value >= 100:
        return value
    # Two-digit years: a date of birth is in the past.
    this_year = dt.date.today().year % 100
    return 2000 + value if value <= this_year else 1900 + value


def _safe(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def candidate_dates(text: str) -> list[dt.date]:
    """Every date the text can reasonably mean (usually one, two for 03/04/1990)."""
    folded = fold(normalise_digits(text))
    found: list[dt.date] = []
    match = _NUMERIC.search(folded)
    if match:
        first, second, third = (int(g) for g in match.groups())
        if len(match.group(1)) == 4:  # ISO: year-month-day
            found.append(_safe(first, second, third))
        else:
            year = _year(third)
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


def parse_date_of_birth(text: str) -> list[dt.date]:
    """Candidate dates of birth in ``text``: in the past and after 1900."""
    today = dt.date.today()
    return [d for d in candidate_dates(text) if dt.date(1900, 1, 1) <= d <= today]


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
