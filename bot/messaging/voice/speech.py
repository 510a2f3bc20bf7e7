"""What a call says, as words for the ear (SPEC §6.3): no provider here, only text.

References and phone numbers are read digit by digit, opening hours and dates in full
("Monday to Thursday, 9 in the morning to 5 in the afternoon"), and a response that has a
voice twin (``utter_x__voice``, domain/voice.yml) says the twin.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

from bot.language.i18n import normalise
from bot.language.vocabulary import (
    DAY_NAMES,
    DAY_SHORT,
    MONTH_NAMES,
    SPOKEN_DAY_ONE,
    SPOKEN_DAY_RANGE,
    SPOKEN_TIME_RANGE,
)
from bot.messaging.messages import BotMessage, twin_text

VOICE_TWIN = "__voice"  # utter_x__voice (domain/voice.yml) is how a call says utter_x
_REFERENCE_DIGITS = re.compile(r"(?<![\d/])(\d{4}) ?(\d{4})(?![\d/])")
_PHONE_DIGITS = re.compile(r"\+(\d{7,15})\b")


def spoken_digits(digits: str) -> str:
    """'40217382' -> '4 0 2 1 7 3 8 2': read one digit at a time."""
    return " ".join(ch for ch in digits if ch.isdigit())


# --- days, times and dates spoken in full ---

_TIME = r"([01]?\d|2[0-3])[:h]([0-5]\d)"
# A time, or a range of times, in one pass (what it produces is never read again).
_TIMES_RE = re.compile(rf"(?<![\d:/]){_TIME}(?:\s*[-–—]\s*{_TIME})?(?![\d:/])")


_ES_DOUBLE_ARTICLE = re.compile(r"\blas? (las?) (?=\d)")  # "a las las 10" -> "a las 10"


def spoken_time(hour: int, minute: int, language: str) -> str:
    """09:00 -> '9 in the morning', 16:30 -> '4:30 in the afternoon' (es, fr, ar alike)."""
    code = normalise(language)
    if code == "fr":  # French speaks the 24-hour clock: "17 heures 30"
        return f"{hour} heures" + (f" {minute:02d}" if minute else "")
    twelve = hour % 12 or 12
    clock = f"{twelve}:{minute:02d}" if minute else str(twelve)
    part = 0 if hour < 12 else 1 if hour < 18 else 2
    if code == "es":
        article = "la" if twelve == 1 else "las"
        return f"{article} {clock} " + ("de la mañana", "de la tarde", "de la noche")[part]
    if code == "ar":
        return f"{clock} " + ("صباحا", "ظهرا" if hour == 12 else "مساء", "مساء")[part]
    if hour == 12 and not minute:
        return "12 noon"
    return f"{clock} " + ("in the morning", "in the afternoon", "in the evening")[part]


def spoken_date(date: dt.date, language: str) -> str:
    """1985-03-12 -> 'the 12th of March 1985', 'el 12 de marzo de 1985', 'le 12 mars 1985'."""
    code = normalise(language)
    month = MONTH_NAMES[code][date.month - 1]
    if code == "en":
        suffix = "th" if 10 <= date.day % 100 <= 20 else \
            {1: "st", 2: "nd", 3: "rd"}.get(date.day % 10, "th")
        return f"the {date.day}{suffix} of {month} {date.year}"
    if code == "es":
        return f"el {date.day} de {month} de {date.year}"
    if code == "fr":
        return f"le {'1er' if date.day == 1 else date.day} {month} {date.year}"
    return f"{date.day} {month} {date.year}"


@lru_cache(maxsize=4)
def _day_pattern(code: str) -> re.Pattern[str]:
    names = sorted({*DAY_NAMES[code], *DAY_SHORT[code]}, key=len, reverse=True)
    day = "|".join(re.escape(n) for n in names)
    # A day (or a range of days) before opening hours: "Mon-Thu 09:00-17:00", "Sat 9:00"; not
    # a date ("mercredi 16 décembre à 14:00" stays as written, its time said in full).
    return re.compile(rf"(?<!\w)({day})\.?(?:\s*[-–—]\s*({day})\.?)?(?=\s+{_TIME})",
                      re.IGNORECASE)


def _full_day(name: str, code: str) -> str:
    lowered = name.lower()
    for index, short in enumerate(DAY_SHORT[code]):
        if lowered in (short.lower(), DAY_NAMES[code][index].lower()):
            return DAY_NAMES[code][index]
    return name


def spoken_hours(text: str, language: str) -> str:
    """Opening hours as said aloud: 'Mon-Thu 09:00-17:00' -> 'Monday to Thursday, 9 in the
    morning to 5 in the afternoon' (and 'de lunes a jueves, de las 9 de la mañana …')."""
    code = normalise(language)

    def days(match: re.Match[str]) -> str:
        first, last = match.group(1), match.group(2)
        if last:
            return SPOKEN_DAY_RANGE[code].format(first=_full_day(first, code),
                                           last=_full_day(last, code))
        return SPOKEN_DAY_ONE[code].format(day=_full_day(first, code))

    def times(match: re.Match[str]) -> str:
        start = spoken_time(int(match.group(1)), int(match.group(2)), code)
        if match.group(3) is None:
            return start
        return SPOKEN_TIME_RANGE[code].format(
            start=start, end=spoken_time(int(match.group(3)), int(match.group(4)), code))

    spoken = _TIMES_RE.sub(times, _day_pattern(code).sub(days, text))
    if code == "es":  # "a las {time}" written, the time said with its article: one article
        spoken = _ES_DOUBLE_ARTICLE.sub(r"\1 ", spoken)
    return spoken


def speakable(text: str, language: str = "en") -> str:
    """Text for <Say>: references and phone numbers digit by digit, days and times in full,
    no list bullets."""
    text = _PHONE_DIGITS.sub(lambda m: "+ " + spoken_digits(m.group(1)), text)
    text = _REFERENCE_DIGITS.sub(lambda m: spoken_digits(m.group(1) + m.group(2)), text)
    text = spoken_hours(text, language)
    return text.replace("\n", " ").strip()


def voice_text(message: BotMessage, language: str) -> str:
    """What a call says for ``message``: its response's voice twin (``utter_x__voice``, in
    domain/voice.yml) filled with the same values, when it has one; else its text.

    The twin exists wherever the text-message wording would be wrong on the phone ("send",
    "write", "MENU", a photo). One mechanism for every medium difference: Rasa's own
    ``channel:`` variations are not used, because Rasa prefers a channel match over the
    language condition (see domain/responses.yml).
    """
    return twin_text(message, language, VOICE_TWIN)
