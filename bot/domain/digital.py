"""Digital help (SPEC §5.5): free internet and computers, classes, and portal how-tos."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.language.detect import words
from bot.store.models import DigitalGuide, DigitalPlace

TOPIC_ACCESS = "access"
TOPIC_CLASS = "class"
TOPIC_PORTAL = "portal"
TOPICS = (TOPIC_ACCESS, TOPIC_CLASS, TOPIC_PORTAL)

# Stems that point to a topic when no guide matches (all four languages, accents folded).
_TOPIC_STEMS = {
    TOPIC_CLASS: ("class", "course", "cours", "curso", "clase", "lesson", "learn", "aprend",
                  "appren", "formation", "taller", "atelier", "دورة", "دورات", "درس", "دروس",
                  "تعلم", "تدريب"),
    TOPIC_ACCESS: ("wifi", "wi", "internet", "computer", "ordinat", "ordenador", "computad",
                   "pc", "print", "imprim", "library", "bibliot", "انترنت", "إنترنت", "كمبيوتر",
                   "حاسوب", "واي", "مكتبة"),
}


def places(session: Session, kind: str) -> list[DigitalPlace]:
    return list(session.scalars(
        select(DigitalPlace).where(DigitalPlace.kind == kind, DigitalPlace.retired_at.is_(None))
        .order_by(DigitalPlace.id)))


def guides(session: Session) -> list[DigitalGuide]:
    """The guides the assistant offers (retired ones never)."""
    return list(session.scalars(select(DigitalGuide).where(DigitalGuide.retired_at.is_(None))
                                .order_by(DigitalGuide.id)))


def get_guide(session: Session, slug: str) -> DigitalGuide | None:
    """A guide the assistant offers; None when unknown or retired."""
    return session.scalar(select(DigitalGuide).where(DigitalGuide.slug == slug,
                                                     DigitalGuide.retired_at.is_(None)))


def match_guide(session: Session, text: str) -> DigitalGuide | None:
    """The portal how-to a message asks about, by its keywords in every language."""
    tokens = words(text)
    best: tuple[int, DigitalGuide | None] = (0, None)
    for guide in guides(session):
        score = 0
        for keywords in (guide.keywords or {}).values():
            for keyword in keywords:
                parts = words(keyword)
                if len(parts) == 1 and any(
                    t == parts[0] or (len(parts[0]) >= 5 and t.startswith(parts[0]))
                    for t in tokens
                ):
                    score += 1
                elif len(parts) > 1 and " ".join(parts) in " ".join(tokens):
                    score += 2
        if score > best[0]:
            best = (score, guide)
    return best[1]


def match_topic(text: str) -> str | None:
    """"access" (internet/computers), "class", or None, from the words of a message."""
    tokens = words(text)
    for topic, stems in _TOPIC_STEMS.items():
        # Two-letter stems ("wi" of "wi-fi", "pc") match whole words only: not "with".
        if any(t == stem if len(stem) <= 2 else t.startswith(stem)
               for t in tokens for stem in stems):
            return topic
    return None
