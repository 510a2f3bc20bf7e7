"""Past conversations found by what a caller tells staff: their phone number, a case
reference, or the day they wrote (SPEC §7; issue 14 §5). Each search is audited, with the
phone masked."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.domain import audit, people, references
from bot.domain.phones import mask, to_e164
from bot.store.models import Case, Handoff

LIMIT = 100


class SearchError(ValueError):
    """Nothing to search by, or a date that is no date."""


@dataclass(frozen=True)
class Search:
    text: str = ""
    day: dt.date | None = None

    @property
    def described(self) -> str:
        """The search as the audit log keeps it (a phone masked)."""
        parts = [mask(to_e164(self.text)) if to_e164(self.text) and not
                 references.is_valid(references.clean(self.text)) else self.text]
        return " ".join(p for p in [*parts, self.day.isoformat() if self.day else ""] if p)


def parse(text: str | None, day: str | None) -> Search:
    text, day = (text or "").strip(), (day or "").strip()
    if not text and not day:
        raise SearchError("type a phone number or a case reference, or pick a day")
    try:
        when = dt.date.fromisoformat(day) if day else None
    except ValueError as exc:
        raise SearchError("the day must look like 2026-11-30") from exc
    return Search(text[:64], when)


def _senders(session: Session, text: str) -> tuple[set[str], set[int]]:
    """The sender ids and people ``text`` points at (a reference, a phone, a sender id)."""
    senders, person_ids = {text}, set()
    reference = references.clean(text)
    if references.is_valid(reference):
        case = session.scalar(select(Case).where(Case.reference == reference))
        if case is not None:
            if case.phone:
                senders.add(case.phone)
            if case.person_id:
                person_ids.add(case.person_id)
    phone = to_e164(text)
    if phone and not references.is_valid(reference):
        senders.add(phone)
    for sender in list(senders):
        person = people.find(session, sender)
        if person is not None:
            person_ids.add(person.id)
    return senders, person_ids


def find(session: Session, search: Search, *, actor: str) -> list[Handoff]:
    """The conversations handed to staff that match, newest first (at most :data:`LIMIT`)."""
    query = select(Handoff)
    if search.text:
        senders, person_ids = _senders(session, search.text)
        query = query.where(or_(Handoff.sender_id.in_(senders),
                                Handoff.person_id.in_(person_ids or {-1})))
    if search.day:
        start = dt.datetime.combine(search.day, dt.time())
        query = query.where(Handoff.created_at >= start,
                            Handoff.created_at < start + dt.timedelta(days=1))
    found = list(session.scalars(query.order_by(Handoff.created_at.desc()).limit(LIMIT)))
    audit.record(session, actor, "handoff.search", search.described[:128], found=len(found))
    return found
