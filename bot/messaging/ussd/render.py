"""A bot turn as USSD screens (SPEC §6.5): plain text after ``CON `` (the session waits for a
key) or ``END `` (it closes), at most :data:`MAX_SCREEN` characters a screen, prefix included.

Options are numbered as on SMS ("1. My application"); a turn that does not fit one screen is
cut at lines, then sentences, then words into pages, each but the last ending "9 More" and each
but the first "0 Back". A list of more than eight options skips the number 9 (9 is "More").
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

from bot.domain.references import normalise_digits
from bot.language.i18n import normalise
from bot.language.vocabulary import USSD_TEXTS
from bot.messaging.messages import Option

MAX_SCREEN = 182  # Africa's Talking's limit for one USSD screen, "CON " or "END " included
CON, END = "CON ", "END "
MORE_KEY, BACK_KEY = "9", "0"
_SENTENCE_END = re.compile(r"(?<=[.!?؟…:])\s+")
Piece = tuple[str, str]  # (separator before it, text)


def word(name: str, language: str | None) -> str:
    """One of USSD's own words (:data:`bot.language.vocabulary.USSD_TEXTS`)."""
    return USSD_TEXTS[name][normalise(language)]


def option_numbers(count: int) -> list[int]:
    """The numbers ``count`` options get: 1, 2, … as on SMS, never 9 (the "More" key)."""
    return list(itertools.islice((n for n in itertools.count(1) if n != int(MORE_KEY)), count))


def pick(answer: str, options: Sequence[Option]) -> str | None:
    """The payload the number ``answer`` picks among ``options`` ("2", "٢"), or None."""
    numbers = {str(n): payload for n, (_, payload) in
               zip(option_numbers(len(options)), options, strict=True)}
    return numbers.get(normalise_digits(answer).strip())


def first_sentence(text: str) -> str:
    """The first sentence of ``text`` ("Where is it? Send the street…" -> "Where is it?")."""
    return next((s for s in _SENTENCE_END.split(text.strip()) if s.strip()), text)


def _pieces(text: str) -> list[Piece]:
    pieces: list[Piece] = []
    for line in text.split("\n"):
        for index, sentence in enumerate(s for s in _SENTENCE_END.split(line) if s.strip()):
            pieces.append((" " if index else "\n", sentence.strip()))
    return pieces


def _cut(text: str, budget: int) -> list[str]:
    """A piece longer than a page, at words (a word longer than that, at characters)."""
    parts: list[str] = []
    current = ""
    for token in text.split(" "):
        while len(token) > budget:
            if current:
                parts.append(current)
                current = ""
            parts.append(token[:budget])
            token = token[budget:]
        candidate = f"{current} {token}" if current else token
        if len(candidate) <= budget:
            current = candidate
        else:
            parts.append(current)
            current = token
    return [*parts, current] if current else parts


def _pack(pieces: Sequence[Piece], budget: int) -> list[str]:
    pages: list[str] = []
    current = ""
    for separator, piece in pieces:
        for part in ([piece] if len(piece) <= budget else _cut(piece, budget)):
            candidate = current + separator + part if current else part
            if len(candidate) <= budget:
                current = candidate
            else:
                pages.append(current)
                current = part
            separator = " "
    return [*pages, current] if current else pages


def pages(texts: Sequence[str], options: Sequence[Option], language: str | None) -> list[str]:
    """The screens' bodies (without CON/END): ``texts`` then the numbered ``options``, each
    page with its paging keys."""
    pieces = [piece for text in texts for piece in _pieces(text)]
    pieces += [("\n", f"{n}. {title}") for n, (title, _) in
               zip(option_numbers(len(options)), options, strict=True)]
    budget = MAX_SCREEN - len(CON)
    whole = _pack(pieces, budget)
    if len(whole) <= 1:
        return whole or [""]
    more, back = word("more", language), word("back", language)
    bodies = _pack(pieces, budget - len(more) - len(back) - 2)
    last = len(bodies) - 1
    return ["\n".join([body, *([more] if i < last else []), *([back] if i else [])])
            for i, body in enumerate(bodies)]


def screen(texts: Sequence[str], options: Sequence[Option], language: str | None,
           page: int = 0, end: bool = False) -> str:
    """One screen of the turn: page ``page`` (clamped) after ``CON ``, or the first after
    ``END `` when the session closes."""
    bodies = pages(texts, options, language)
    if end:
        return END + bodies[0]
    return CON + bodies[max(0, min(page, len(bodies) - 1))]


def page_count(texts: Sequence[str], options: Sequence[Option], language: str | None) -> int:
    return len(pages(texts, options, language))
