"""The catalogue of public services and their running status (SPEC §5.2).

A status change (:func:`set_status`) writes its own audit entry, naming the ``actor``.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain import audit
from bot.language.detect import words
from bot.store.models import SERVICE_STATUSES, Service, utcnow


class ServiceError(ValueError):
    """Bad input for a service update; the message says what is wrong."""


def all_services(session: Session) -> list[Service]:
    """The services the assistant offers (retired ones are kept for their cases only)."""
    return list(session.scalars(select(Service).where(Service.retired_at.is_(None))
                                .order_by(Service.id)))


def get(session: Session, slug: str) -> Service | None:
    """A service the assistant offers; None when unknown or retired."""
    return session.scalar(select(Service).where(Service.slug == slug,
                                                Service.retired_at.is_(None)))


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
    session: Session, service: Service, status: str, message: dict[str, str] | None, *,
    actor: str,
) -> Service:
    """Update a service's status; ``message`` (per language) replaces the old message whole.

    A status change never keeps an old message: "Funcionan con normalidad" must not outlive a
    breakdown, nor "No buses today because of the storm" the repair. Languages without a new
    message say only the generic text for the status (:func:`message_in`).
    """
    if status not in SERVICE_STATUSES:
        raise ServiceError(f"status must be one of: {', '.join(SERVICE_STATUSES)}")
    audit.record(session, actor, "service.status", service.slug, before=service.status,
                 after=status)
    if message is not None or status != service.status:
        service.message = {code: text.strip() for code, text in (message or {}).items()
                           if text and text.strip()}
    service.status = status
    service.updated_at = utcnow()
    session.flush()
    return service


def message_in(service: Service, language: str) -> str:
    """The operator's message in exactly ``language`` ("" if none): a message in another
    language would contradict or repeat the generic text the person reads in theirs."""
    return (service.message or {}).get(language, "")


def to_json(service: Service) -> dict:
    return {
        "slug": service.slug,
        "names": service.names,
        "keywords": service.keywords or {},
        "status": service.status,
        "message": service.message,
        "updated_at": service.updated_at.isoformat() + "Z",
    }
