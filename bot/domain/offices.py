"""Offices, their opening hours and holidays (SPEC §5.3), answered from the data."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.language.detect import words
from bot.language.i18n import normalise, pick
from bot.language.vocabulary import DAY_NAMES, DAY_SHORT, LIST_SEPARATOR
from bot.store.models import Office, Service

RANGE_DASH = "-"


# Words that name no office in particular.
GENERIC_WORDS = frozenset({
    "office", "offices", "oficina", "bureau", "centre", "center", "centro", "service",
    "services", "servicio", "servicios", "community", "comunitario", "مكتب", "مركز", "خدمات",
})


def all_offices(session: Session) -> list[Office]:
    """The offices the assistant offers (retired ones are kept for their bookings only)."""
    return list(session.scalars(select(Office).where(Office.retired_at.is_(None))
                                .order_by(Office.id)))


def get(session: Session, slug: str) -> Office | None:
    """An office the assistant offers; None when unknown or retired."""
    return session.scalar(select(Office).where(Office.slug == slug,
                                               Office.retired_at.is_(None)))


def match_by_name(session: Session, text: str) -> Office | None:
    """The office a message names ("city hall", "la mairie", "riverside", "oak road"), if any.

    Each office is known by its names, keywords (areas people name included) and address in
    every language; words shared by several offices ("Riverton", "centre") say nothing and are
    ignored. A phrase keyword ("town hall") counts double.
    """
    tokens = words(text)
    joined = " ".join(tokens)
    candidates = all_offices(session)
    vocab: dict[int, set[str]] = {}
    phrases: dict[int, set[str]] = {}
    for office in candidates:
        terms = [*(office.names or {}).values(), office.address]
        for keywords in (office.keywords or {}).values():
            terms.extend(keywords)
        vocab[office.id] = {w for term in terms for w in words(term) if len(w) > 2}
        phrases[office.id] = {" ".join(words(t)) for t in terms if len(words(t)) > 1}
    shared = GENERIC_WORDS | {w for office in candidates for w in vocab[office.id]
                              if sum(w in other for other in vocab.values()) > 1}
    best: tuple[int, Office | None] = (0, None)
    for office in candidates:
        score = len(set(tokens) & (vocab[office.id] - shared))
        score += sum(2 for phrase in phrases[office.id] if phrase in joined)
        if score > best[0]:
            best = (score, office)
    return best[1]


def offering(session: Session, service: Service) -> list[Office]:
    return [office for office in all_offices(session) if service in office.services]


def ranges_on(office: Office, day: dt.date) -> list[tuple[str, str]]:
    """Opening ranges on ``day``: empty when closed or a holiday."""
    if holiday_on(office, day):
        return []
    return [tuple(r) for r in (office.hours or {}).get(str(day.weekday()), [])]


def holiday_on(office: Office, day: dt.date):
    return next((h for h in office.holidays if h.day == day), None)


def _format_ranges(ranges: list) -> str:
    return ", ".join(f"{start}{RANGE_DASH}{end}" for start, end in ranges)


def weekly_hours(office: Office, language: str) -> str:
    """Compact weekly hours: "Mon–Fri 08:30–16:30, Sat 09:00–12:00"."""
    code = normalise(language)
    short = DAY_SHORT[code]
    groups: list[tuple[int, int, str]] = []
    for day in range(7):
        text = _format_ranges((office.hours or {}).get(str(day), []))
        if groups and groups[-1][2] == text and groups[-1][1] == day - 1:
            groups[-1] = (groups[-1][0], day, text)
        else:
            groups.append((day, day, text))
    parts = []
    for first, last, text in groups:
        if not text:
            continue
        days = short[first] if first == last else f"{short[first]}{RANGE_DASH}{short[last]}"
        parts.append(f"{days} {text}")
    return LIST_SEPARATOR[code].join(parts)


def hours_on(office: Office, day: dt.date) -> str:
    return _format_ranges(ranges_on(office, day))


def day_name(day: dt.date, language: str) -> str:
    return DAY_NAMES[normalise(language)][day.weekday()]


def name(office: Office, language: str) -> str:
    return pick(office.names, language)
