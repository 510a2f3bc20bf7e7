"""Cases: creation, status changes, and the ownership check before any detail is shown.

Disclosure rule (SPEC §5.1): a case's details go only to its owner — the sender's proven phone
matches the case's phone, or the person gives the date of birth on file. Three failed attempts
lock that reference for that person for 15 minutes. Every answer to a stranger is the same
whether the reference exists or not.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import notifications, references
from bot.config import get_settings
from bot.models import CASE_STATUSES, Case, CaseEvent, Person, Service, VerificationAttempt, utcnow
from bot.people import verified_phone


class CaseError(ValueError):
    """Bad input for a case operation; the message says what is wrong (API: 422)."""


class Outcome(str, Enum):
    INVALID = "invalid"  # not a well-formed reference (bad check digit or length)
    OWNER = "owner"  # verified: details may be shown
    NEEDS_DOB = "needs_dob"  # ask for the date of birth (said whether the case exists or not)
    WRONG_DOB = "wrong_dob"  # a failed attempt, some left
    LOCKED = "locked"  # too many failures: wait, or talk to a person


@dataclass(frozen=True)
class Lookup:
    outcome: Outcome
    case: Case | None = None
    attempts_left: int = 0
    locked_until: dt.datetime | None = None


def get_by_reference(session: Session, reference: str) -> Case | None:
    return session.scalar(select(Case).where(Case.reference == reference))


def _attempt(session: Session, person: Person, reference: str) -> VerificationAttempt:
    row = session.scalar(
        select(VerificationAttempt).where(
            VerificationAttempt.person_id == person.id, VerificationAttempt.reference == reference
        )
    )
    if row is None:
        row = VerificationAttempt(person_id=person.id, reference=reference, failures=0)
        session.add(row)
        session.flush()
    return row


def _locked(row: VerificationAttempt, now: dt.datetime) -> bool:
    return row.locked_until is not None and row.locked_until > now


def _open_attempt(
    session: Session, person: Person, raw_reference: str
) -> Lookup | tuple[str, VerificationAttempt]:
    """Both steps start here: a malformed reference or an active lock ends the look-up early;
    otherwise the clean reference and this person's attempt row for it."""
    reference = references.clean(raw_reference)
    if not references.is_valid(reference):
        return Lookup(Outcome.INVALID)
    row = _attempt(session, person, reference)
    if _locked(row, utcnow()):
        return Lookup(Outcome.LOCKED, locked_until=row.locked_until)
    return reference, row


def start_lookup(
    session: Session, person: Person, raw_reference: str, trust_phone: bool
) -> Lookup:
    """First step: is the reference well formed, locked, or already proven by the phone?

    ``trust_phone`` says whether the channel proves the sender's number (SMS, voice, Telegram
    with a shared contact); the REST channel does so only in development.
    """
    gate = _open_attempt(session, person, raw_reference)
    if isinstance(gate, Lookup):
        return gate
    reference, row = gate
    case = get_by_reference(session, reference)
    phone = verified_phone(person) if trust_phone else None
    if case is not None and phone and case.phone == phone:
        return Lookup(Outcome.OWNER, case=case)
    return Lookup(Outcome.NEEDS_DOB, attempts_left=_left(row))


def _left(row: VerificationAttempt) -> int:
    return max(get_settings().max_verification_attempts - row.failures, 0)


def check_date_of_birth(
    session: Session, person: Person, raw_reference: str, candidates: list[dt.date]
) -> Lookup:
    """Second step: compare the given date of birth; count failures and lock on the third."""
    settings = get_settings()
    gate = _open_attempt(session, person, raw_reference)
    if isinstance(gate, Lookup):
        return gate
    reference, row = gate
    now = utcnow()
    case = get_by_reference(session, reference)
    if case is not None and case.date_of_birth is not None and case.date_of_birth in candidates:
        row.failures = 0
        row.locked_until = None
        return Lookup(Outcome.OWNER, case=case)
    if row.locked_until is not None:  # an old lock that has expired: start counting again
        row.failures = 0
        row.locked_until = None
    row.failures += 1
    if row.failures >= settings.max_verification_attempts:
        row.locked_until = now + dt.timedelta(minutes=settings.lock_minutes)
        return Lookup(Outcome.LOCKED, locked_until=row.locked_until)
    return Lookup(Outcome.WRONG_DOB, attempts_left=_left(row))


def create_case(
    session: Session,
    *,
    service_slug: str,
    status: str = "received",
    phone: str | None = None,
    date_of_birth: dt.date | None = None,
    language: str = "en",
    detail: str | None = None,
    person: Person | None = None,
    actor: str = "system",
) -> Case:
    """Create a case with a fresh reference and its first history entry."""
    if status not in CASE_STATUSES:
        raise CaseError(f"status must be one of: {', '.join(CASE_STATUSES)}")
    service = session.scalar(select(Service).where(Service.slug == service_slug))
    if service is None:
        raise CaseError(f"unknown service '{service_slug}'")
    reference = references.generate(lambda ref: get_by_reference(session, ref) is not None)
    case = Case(
        reference=reference,
        service=service,
        status=status,
        phone=phone,
        date_of_birth=date_of_birth,
        language=language,
        detail=detail,
        person_id=person.id if person else None,
    )
    case.events.append(CaseEvent(from_status=None, to_status=status, actor=actor))
    session.add(case)
    session.flush()
    return case


def change_status(
    session: Session, case: Case, status: str, note: str | None, actor: str
) -> CaseEvent | None:
    """Record a status change (None when the status is unchanged and there is no note).

    A real change also queues the owner's notification in the same transaction (SPEC §5.7):
    whoever changes a status (the API, the console, a form) cannot forget to tell them.
    """
    if status not in CASE_STATUSES:
        raise CaseError(f"status must be one of: {', '.join(CASE_STATUSES)}")
    if status == case.status and not note:
        return None
    event = CaseEvent(from_status=case.status, to_status=status, note=note, actor=actor)
    case.events.append(event)
    case.status = status
    case.updated_at = utcnow()
    session.flush()
    notifications.enqueue(session, case, event)
    return event


def to_json(case: Case) -> dict:
    """The API's view of a case (staff only: it includes personal data)."""
    return {
        "reference": case.reference,
        "service": case.service.slug,
        "status": case.status,
        "phone": case.phone,
        "date_of_birth": case.date_of_birth.isoformat() if case.date_of_birth else None,
        "language": case.language,
        "detail": case.detail,
        "created_at": case.created_at.isoformat() + "Z",
        "updated_at": case.updated_at.isoformat() + "Z",
        "history": [
            {
                "from": event.from_status,
                "to": event.to_status,
                "note": event.note,
                "actor": event.actor,
                "at": event.created_at.isoformat() + "Z",
            }
            for event in case.events
        ],
    }
