"""Reading dates and times the way people write them, in the four languages (issue 13 §4).

Dates: "12/03/1985", "12 03 1985", "1985-03-12", "3 March 1980", "12th of March, 1985",
"March 12th, 85", "3 de marzo de 1980", "el 3 de marzo del 1980", "le 1er mars 1980",
"3 mars 80", "٣ مارس ١٩٨٠", "3 من مارس 1980". Ordinal days ("12th", "1er", "1º") and
two-digit years: a date of birth's century is the latest that is not in the future ("80" is
1980, "05" is 2005); a booking's is this century. A numeric date whose day and month could
be swapped (03/04) gives both readings and is never guessed: a date of birth with two
readings is not tried, the person picks one of them read back with the month as a word
(actions/status.py); a booking day the same way (actions/appointments.py, :func:`day_readings`).

Times: "10:30", "10h30", "3pm", "a las 10", "10 y media", "half past ten", "10 et demie",
"quarter to 11", "11 moins le quart", "العاشرة والنصف", "noon", "midi", "mediodía", "الظهر".
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

_YEAR = r"(\d{4}|\d{2})(?!\d)"
_NUMERIC = re.compile(r"(?<![\d:])(\d{1,4})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{2,4})(?![\d:])")
# "12 03 1985", "12 3 85": three numbers with spaces, the year last (never a reference or a
# phone number: those have no 1-2 digit groups before a year).
_SPACED = re.compile(r"(?<![\d:/.\-])(\d{1,2})\s+(\d{1,2})\s+(\d{4}|\d{2})(?![\d:/.\-])")
_ORDINAL = r"(?:st|nd|rd|th|er|ere|re|eme|o|a|º|ª|°|ro)?"
_WORDY = re.compile(
    r"(\d{1,2})" + _ORDINAL + r"\s+(?:de\s+|of\s+|من\s+)?(?:the\s+)?([^\W\d_]+)\.?,?\s+"
    r"(?:de\s+|del\s+|of\s+|en\s+)?(?:l\s+an\s+|ano\s+|عام\s+|سنة\s+)?" + _YEAR)
_MONTH_FIRST = re.compile(r"([^\W\d_]+)\.?\s+(?:the\s+)?(\d{1,2})" + _ORDINAL + r",?\s+" + _YEAR)
# Day names in words that mean the first ("premier", "primero"): the rest are written as digits.
_FIRST_DAY = re.compile(r"\b(?:premier|primero|first)\b")


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


def _dated(year: str, month: int, day: int, today: dt.date, past: bool) -> dt.date | None:
    """The date for a year as written: four digits as they are; two digits in the latest
    century that puts the date on or before ``today`` (``past``: a date of birth), else in
    this century (a booking)."""
    value = int(year)
    if len(year) > 2:
        return _safe(value, month, day)
    century = today.year // 100 * 100
    date = _safe(century + value, month, day)
    if past and date is not None and date > today:
        return _safe(century - 100 + value, month, day)
    return date


def candidate_dates(text: str, today: dt.date | None = None,
                    past: bool = True) -> list[dt.date]:
    """Every date the text can reasonably mean: usually one, two for 03/04/1990, and every
    date of a message that lists several (a date of birth check tries only a message that
    means exactly one, bot.domain.cases.check_date_of_birth). ``past``: two-digit years are
    read as not in the future (dates of birth); otherwise this century's."""
    today = today or dt.date.today()
    folded = _FIRST_DAY.sub("1", fold(normalise_digits(text)).replace("'", " ").replace(
        "’", " "))
    found: list[dt.date | None] = []
    for pattern in (_NUMERIC, _SPACED):
        for match in pattern.finditer(folded):  # every date in the message counts (§5.1)
            first, second, year = match.group(1), int(match.group(2)), match.group(3)
            if len(first) == 4:  # ISO: year-month-day
                found.append(_safe(int(first), second, int(year)))
                continue
            if len(first) == 3:
                continue
            found.append(_dated(year, second, int(first), today, past))  # day first
            if int(first) != second:
                found.append(_dated(year, int(first), second, today, past))  # month first
    for pattern, order in ((_WORDY, "dmy"), (_MONTH_FIRST, "mdy")):
        for groups in pattern.findall(folded):
            day, month_name, year = groups if order == "dmy" else (groups[1], groups[0],
                                                                    groups[2])
            month = MONTHS.get(month_name)
            if month:
                found.append(_dated(year, month, int(day), today, past))
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
_DAY_MONTH_NAME = re.compile(r"(\d{1,2})" + _ORDINAL + r"\s+(?:de\s+|of\s+|من\s+)?(?:the\s+)?"
                             r"([^\W\d_]+)")
_MONTH_NAME_DAY = re.compile(r"([^\W\d_]+)\.?\s+(?:the\s+)?(\d{1,2})" + _ORDINAL + r"\b")
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


def day_readings(text: str, today: dt.date | None = None) -> list[dt.date]:
    """Every day a booking message can mean: one, or two when day and month could be swapped
    ("03/04", "03/04/2027"), day first first. Two are read back, never guessed."""
    today = today or dt.date.today()
    dated = candidate_dates(text, today, past=False)
    if dated:
        return dated[:2]
    match = _DAY_MONTH.search(fold(normalise_digits(text or "")))
    if match:
        first, second = int(match.group(1)), int(match.group(2))
        readings = [_this_or_next_year(second, first, today),
                    _this_or_next_year(first, second, today) if first != second else None]
        return [day for day in readings if day is not None]
    day = parse_day(text, today)
    return [day] if day else []


def parse_day(text: str, today: dt.date | None = None) -> dt.date | None:
    """The day a person means, for booking: dates with or without a year, or named days.

    "17/05", "٢٠/٥", "2026-05-17", "17 mai", "3 de marzo", "May 17", "the 3rd of May",
    "mañana", "lundi prochain", "el próximo lunes", "الاثنين القادم", "pasado mañana". Numbers
    are read day first (as most of the world writes them), month first only when day first is
    impossible; when both are possible the caller asks which (:func:`day_readings`). A date
    may be in the past: the caller explains that it has passed.
    """
    today = today or dt.date.today()
    folded = _FIRST_DAY.sub("1", fold(normalise_digits(text)).replace("-", " ")) if text else ""
    dated = candidate_dates(text, today, past=False)
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
_HOUR_ONLY = re.compile(r"(?<![\d/.:])(\d{1,2})\s*(?:h|heures?|hrs?|o'?clock|horas?)?(?![\d:./])")
_AFTERNOON = ("pm", "p.m", "tarde", "apres midi", "soir", "مساء", "مساءا", "مساءً", "ظهرا",
              "العصر", "afternoon", "evening")
_MORNING = ("am", "a.m", "manana", "matin", "صباحا", "صباحاً", "الصبح", "morning")
# A bare hour below this is read as afternoon ("at 3" -> 15:00): offices open by day.
AFTERNOON_BEFORE = 7
NOON = dt.time(12, 0)
# Noon in words, folded (a whole word or phrase of the message).
_NOON_WORDS = ("noon", "midday", "midi", "mediodia", "medio dia", "الظهر", "الضهر", "ظهرا",
               "منتصف النهار", "twelve noon")
# Hours in words, folded: "ten", "diez", "dix", "عشرة", "العاشرة" (Arabic says the hour as
# an ordinal: "the tenth").
_HOUR_WORDS = {
    1: "one una uno une un واحدة الواحدة",
    2: "two dos deux اثنتين اثنين الثانية",
    3: "three tres trois ثلاثة الثالثة",
    4: "four cuatro quatre اربعة أربعة الرابعة",
    5: "five cinco cinq خمسة الخامسة",
    6: "six seis ستة السادسة",
    7: "seven siete sept سبعة السابعة",
    8: "eight ocho huit ثمانية الثامنة",
    9: "nine nueve neuf تسعة التاسعة",
    10: "ten diez dix عشرة العاشرة",
    11: "eleven once onze الحادية",
    12: "twelve doce douze الثانية عشرة",
}
HOUR_WORDS = {fold(word): hour for hour, names in _HOUR_WORDS.items()
              for word in names.split()}
_HOUR = r"(\d{1,2}|" + "|".join(sorted(map(re.escape, HOUR_WORDS), key=len, reverse=True)) + ")"
_OCLOCK = r"(?:\s*(?:h|heures?|horas?|o ?clock))?"
# Minutes after or before the hour in words, each pattern with the hour as its group 1.
_PAST = (  # (pattern, minutes)
    (re.compile(r"half past " + _HOUR), 30), (re.compile(r"(?:a )?quarter past " + _HOUR), 15),
    (re.compile(_HOUR + _OCLOCK + r"\s+(?:y|et)\s+(?:media|demie|demi)"), 30),
    (re.compile(_HOUR + _OCLOCK + r"\s+(?:y|et)\s+(?:cuarto|quart|le quart)"), 15),
    (re.compile(_HOUR + r"\s*(?:و\s*)?(?:ونص|والنصف|و النصف|ونصف|و نص|و نصف)"), 30),
    (re.compile(_HOUR + r"\s*(?:وربع|والربع|و ربع|و الربع)"), 15),
    (re.compile(_HOUR + r"\s*(?:وثلث|والثلث|و ثلث)"), 20),
)
_TO = (
    re.compile(r"(?:a )?quarter to " + _HOUR),
    re.compile(_HOUR + _OCLOCK + r"\s+(?:menos|moins)\s+(?:cuarto|quart|le quart)"),
    re.compile(_HOUR + r"\s*(?:الا|إلا|غير)\s*(?:ربع|الربع)"),
)


def _hour(word: str) -> int:
    return int(word) if word.isdigit() else HOUR_WORDS[word]


def _in_words(folded: str) -> tuple[int, int] | None:
    """(hour, minute) for "half past ten", "10 y media", "onze moins le quart", "العاشرة
    والنصف", or None."""
    for pattern, minutes in _PAST:
        match = pattern.search(folded)
        if match:
            return _hour(match.group(1)), minutes
    for pattern in _TO:
        match = pattern.search(folded)
        if match:
            return (_hour(match.group(1)) - 1) % 24, 45
    return None


def parse_time(text: str) -> dt.time | None:
    """The time of day a person means: "10:30", "10h30", "10.30", "3pm", "15h", "a las 10",
    "١٠:٣٠", "10 y media", "half past ten", "10 et demie", "quarter to 11", "العاشرة والنصف",
    "noon", "midi", "mediodía", "الظهر". A bare small hour ("at 3") is read as the
    afternoon, when offices are open."""
    folded = fold(normalise_digits(text or "")).replace("-", " ").replace("'", " ")
    folded = " ".join(folded.split())
    words_ = set(re.findall(r"[^\W\d_]+(?:\.[^\W\d_]+)?", folded))
    padded = f" {folded} "
    pm = any(w in folded for w in _AFTERNOON if " " in w) or bool(words_ & set(_AFTERNOON))
    am = bool(words_ & set(_MORNING))
    match = _CLOCK.search(folded)
    worded = None if match else _in_words(folded)
    if match:
        hour, minute = int(match.group(1)), int(match.group(2))
    elif worded:
        (hour, minute), am = worded, am or False
        if not (pm or am) and 0 < hour < AFTERNOON_BEFORE:
            hour += 12
    else:
        if any(f" {fold(word)} " in padded for word in _NOON_WORDS) and not re.search(
                r"\d", folded.replace("12", "")) and "apres midi" not in folded:
            return NOON
        match = _HOUR_ONLY.search(folded)
        if not match:
            named = next((HOUR_WORDS[w] for w in re.findall(r"[^\W\d_]+", folded)
                          if w in HOUR_WORDS and (f" a las {w} " in padded or f" a {w} "
                                                  in padded or f" at {w} " in padded
                                                  or f" {w} heures " in padded
                                                  or f" {w} o clock " in padded
                                                  or f" الساعة {w} " in padded)), None)
            if named is None:
                return None
            hour, minute = named, 0
        else:
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


def format_date(date: dt.date, language: str) -> str:
    """A date with the month as a word, as it is written back for confirmation: "3 April
    1990", "3 de abril de 1990", "3 avril 1990", "3 أبريل 1990"."""
    from bot.language.i18n import normalise

    code = normalise(language)
    month = MONTH_NAMES[code][date.month - 1]
    if code == "es":
        return f"{date.day} de {month} de {date.year}"
    return f"{date.day} {month} {date.year}"

