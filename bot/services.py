"""The catalogue of public services and their running status (SPEC §5.2)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.language import words
from bot.models import SERVICE_STATUSES, Service, utcnow


class ServiceError(ValueError):
    """Bad input for a service update; the message says what is wrong."""


def all_services(session: Session) -> list[Service]:
    return list(session.scalars(select(Service).order_by(Service.id)))


def get(session: Session, slug: str) -> Service | None:
    return session.scalar(select(Service).where(Service.slug == slug))


def match(session: Session, text: str) -> list[Service]:
    """Services a message talks about, best first, by their keywords in every language.

    Keywords match whole words or, for words of five letters or more, as a prefix
    ("recycling" finds "recycl"), so plurals and small typos at the end still match.
    """
    tokens = words(text)
    scored: list[tuple[int, int, Service]] = []
    for service in all_services(session):
        score = 0
        for keywords in (service.keywords or {}).values():
            for keyword in keywords:
                parts = words(keyword)
                if not parts:
                    continue
                if len(parts) > 1:
                    score += 2 if " ".join(parts) in " ".join(tokens) else 0
                    continue
                kw = parts[0]
                if any(t == kw or (len(kw) >= 5 and t.startswith(kw)) for t in tokens):
                    score += 1
        if score:
            scored.append((score, -service.id, service))
    scored.sort(key=lambda item: (item[0], item[1]), reverse=True)
    return [service for _, _, service in scored]


def set_status(
    session: Session, service: Service, status: str, message: dict[str, str] | None
) -> Service:
    """Update a service's status (and, optionally, its message per language)."""
    if status not in SERVICE_STATUSES:
        raise ServiceError(f"status must be one of: {', '.join(SERVICE_STATUSES)}")
    service.status = status
    if message is not None:
        service.message = {**(service.message or {}), **message}
    service.updated_at = utcnow()
    session.flush()
    return service


def to_json(service: Service) -> dict:
    return {
        "slug": service.slug,
        "names": service.names,
        "status": service.status,
        "message": service.message,
        "updated_at": service.updated_at.isoformat() + "Z",
    }
