"""Personal data out of a citizen's words before staff review them for training.

Replaced, in this order: e-mail addresses, dates (with a month name in any of the four
languages, or in figures), phone numbers (9 digits or more), case references (8 digits, spaced
or not), any other number, and names: the words after "my name is", "me llamo", "je
m'appelle", "اسمي"… and any capitalised word inside a sentence that no training example uses
(Arabic has no capitals: only the phrases find names there). What is left is the shape of the
sentence, which is what the assistant learns from.
"""

from __future__ import annotations

import functools
import re

import yaml

from bot.config import PROJECT_ROOT
from bot.domain.dates import MONTHS
from bot.language.detect import fold

EMAIL, DATE, PHONE, REFERENCE, NUMBER, NAME = ("‹email›", "‹date›", "‹phone›", "‹reference›",
                                               "‹number›", "‹name›")
TOKENS = (EMAIL, DATE, PHONE, REFERENCE, NUMBER, NAME)
NLU_DIR = PROJECT_ROOT / "data" / "nlu"

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_NUMERIC_DATE = re.compile(r"\b\d{1,4}\s*[/.\-]\s*\d{1,2}(?:\s*[/.\-]\s*\d{2,4})?\b")
_WORD = r"[^\W\d_]+"
_BEFORE_MONTH = re.compile(r"\d{1,2}(?:st|nd|rd|th|er|º|°)?\s+(?:de\s+|of\s+|the\s+)?$")
_AFTER_MONTH = re.compile(r"\.?(?:\s+(?:de\s+)?\d{1,4}(?:st|nd|rd|th)?\b)?(?:,?\s+\d{4}\b)?")
_DIGITS = re.compile(r"\+?\d(?:[\s().\-]*\d)*")
_NAME_PHRASES = re.compile(
    r"(?i)(my name is|my name's|this is|i am|i'm|me llamo|mi nombre es|soy|"
    r"je m'appelle|je m’appelle|mon nom est|je suis|اسمي|أنا اسمي)\s+"
    r"([\u0600-\u06ff]+|[A-ZÀ-ÖØ-Þ][\w'’-]*(?:\s+[A-ZÀ-ÖØ-Þ][\w'’-]*)?)")
_CAPITALISED = re.compile(r"(?<=[^\s.!?¿¡:;])(\s+)([A-ZÀ-ÖØ-Þ][\w'’-]+)")


@functools.lru_cache(maxsize=1)
def training_words() -> frozenset[str]:
    """Every word of the NLU training examples (folded): a capitalised word among them is
    vocabulary ("Riverton", "City Hall"), not a name to hide."""
    words: set[str] = set()
    for path in NLU_DIR.rglob("*.yml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in data.get("nlu") or []:
            for line in str(block.get("examples") or "").splitlines():
                words.update(fold(word) for word in re.findall(_WORD, line))
    return frozenset(words)


def _month_dates(text: str) -> str:
    """Each month name with a day or year next to it ("1 de julio de 1990", "March 4, 1970",
    "12 March") becomes :data:`DATE`."""
    for word in reversed(list(re.finditer(_WORD, text))):
        if fold(word.group(0)) not in MONTHS:
            continue
        before = _BEFORE_MONTH.search(text[:word.start()])
        after = _AFTER_MONTH.match(text, word.end())
        start = before.start() if before else word.start()
        end = after.end() if after else word.end()
        if re.search(r"\d", text[start:end]):
            text = text[:start] + DATE + text[end:]
    return text


def _number(match: re.Match) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    if len(digits) >= 9:
        return PHONE
    if len(digits) == 8:
        return REFERENCE
    return NUMBER


def _person(match: re.Match) -> str:
    name = match.group(2)
    if all(fold(word) in training_words() for word in name.split()) and \
            not re.search(r"[\u0600-\u06ff]", name):
        return match.group(0)
    return f"{match.group(1)} {NAME}"


def _capitalised(match: re.Match) -> str:
    word = match.group(2)
    if fold(word) in training_words() or word in TOKENS:
        return match.group(0)
    return match.group(1) + NAME


def mask(text: str) -> str:
    """``text`` with e-mails, dates, phones, references, numbers and names replaced."""
    masked = _EMAIL.sub(EMAIL, text)
    masked = _NUMERIC_DATE.sub(DATE, masked)
    masked = _month_dates(masked)
    masked = _DIGITS.sub(_number, masked)
    masked = _NAME_PHRASES.sub(_person, masked)
    return _CAPITALISED.sub(_capitalised, masked)
