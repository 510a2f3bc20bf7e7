"""Cases: creation, status changes, and the ownership check before any detail is shown.

Disclosure rule (SPEC §5.1): a case's details go only to its owner — the sender's phone, proven
by the channel that received the message, matches the case's phone, or the person gives the
date of birth on file. Every answer to a stranger is the same whether the reference exists or
not, and failures are limited three ways so that nobody enumerates cases:

- per (person, reference): three failures lock that reference for that person for 15 minutes;
- per reference, across every sender: ten failures in 24 hours lock the reference (rotating
  numbers); staff see the lock (``verification_json``, ``GET /api/cases/{reference}``);
- per sender, across every reference: ten failures in 24 hours stop that sender trying any
  reference (rotating references).

A lock never stops the owner whose phone the channel proves. One attempt is one date: a
message holding several candidate dates is not tried (nor counted). Dates of birth are kept
only as keyed hashes (HMAC-SHA256 under ``CIVICLINE_DOB_KEY``) and compared as hashes.

Creating a case and changing its status write the audit entry themselves (SPEC §8: every staff
action and API write), naming the ``actor``; the citizen's own bookings and reports
(:data:`CITIZEN`) are in the case's history only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.config import get_settings
from bot.domain import audit, case_detail, notifications, references
from bot.domain.people import verified_phone
from bot.store.models import (
    CASE_STATUSES,
    Case,
    CaseEvent,
    Person,
    Service,
    VerificationAttempt,
    VerificationFailure,
    utcnow,
)

# Public: used only when CIVICLINE_DOB_KEY is unset (development, tests). It hides a date from
# a casual reader of the database, nothing more; production refuses to start without the key.
UNKEYED_DOB = b"civicline-date-of-birth-v1"
FAILURE_WINDOW = dt.timedelta(hours=24)
MAX_REFERENCE_FAILURES = 10  # per reference, across every sender, in FAILURE_WINDOW
MAX_SENDER_FAILURES = 10  # per sender, across every reference, in FAILURE_WINDOW
CITIZEN = "citizen"  # the person acting for themself: history, not the staff audit log


class CaseError(ValueError):
    """Bad input for a case operation; the message says what is wrong (API: 422)."""


class Outcome(str, Enum):
    INVALID = "invalid"  # not a well-formed reference (bad check digit or length)
    OWNER = "owner"  # verified: details may be shown
    NEEDS_DOB = "needs_dob"  # ask for the date of birth (said whether the case exists or not)
    WRONG_DOB = "wrong_dob"  # a failed attempt, some left
    ONE_DATE = "one_date"  # several candidate dates: not an attempt; ask for one date
    LOCKED = "locked"  # too many failures: wait, or talk to a person


@dataclass(frozen=True)
class Lookup:
    outcome: Outcome
    case: Case | None = None
    attempts_left: int = 0
    locked_until: dt.datetime | None = None


def dob_hash(date_of_birth: dt.date) -> str:
    """The stored form of a date of birth: HMAC-SHA256 of its ISO text under the DOB key.

    Dates of birth are few (about 40,000 in a century), so a plain hash is reversed by trying
    them all; the key, kept outside the database, stops that for anyone holding only a copy.
    """
    key = get_settings().dob_key.encode("utf-8") or UNKEYED_DOB
    return hmac.new(key, date_of_birth.isoformat().encode("ascii"), hashlib.sha256).hexdigest()


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


def _window_lock(session: Session, where: object, limit: int,
                 now: dt.datetime) -> dt.datetime | None:
    """Until when the failures matching ``where`` lock (the ``limit``-th most recent failure
    in the window, plus the window), or None while fewer than ``limit`` are recent."""
    recent = session.scalars(
        select(VerificationFailure.created_at)
        .where(where, VerificationFailure.created_at > now - FAILURE_WINDOW)
        .order_by(VerificationFailure.created_at.desc())
        .offset(limit - 1).limit(1)
    ).first()
    return recent + FAILURE_WINDOW if recent is not None else None


def reference_locked_until(session: Session, reference: str,
                           now: dt.datetime | None = None) -> dt.datetime | None:
    """Until when ``reference`` is locked for everyone but the proven owner, or None."""
    return _window_lock(session, VerificationFailure.reference == reference,
                        MAX_REFERENCE_FAILURES, now or utcnow())


def sender_locked_until(session: Session, person: Person,
                        now: dt.datetime | None = None) -> dt.datetime | None:
    """Until when ``person`` may try no reference at all, or None."""
    return _window_lock(session, VerificationFailure.person_id == person.id,
                        MAX_SENDER_FAILURES, now or utcnow())


def _locked_until(session: Session, person: Person, reference: str, row: VerificationAttempt,
                  now: dt.datetime) -> dt.datetime | None:
    """The latest of the three locks that holds now, or None."""
    locks = [row.locked_until if row.locked_until and row.locked_until > now else None,
             reference_locked_until(session, reference, now),
             sender_locked_until(session, person, now)]
    active = [lock for lock in locks if lock is not None]
    return max(active) if active else None


def _open_attempt(
    session: Session, person: Person, raw_reference: str, now: dt.datetime
) -> Lookup | tuple[str, VerificationAttempt]:
    """Both steps start here: a malformed reference or an active lock ends the look-up early;
    otherwise the clean reference and this person's attempt row for it."""
    reference = references.clean(raw_reference)
    if not references.is_valid(reference):
        return Lookup(Outcome.INVALID)
    row = _attempt(session, person, reference)
    locked_until = _locked_until(session, person, reference, row, now)
    if locked_until is not None:
        return Lookup(Outcome.LOCKED, locked_until=locked_until)
    return reference, row


def start_lookup(
    session: Session, person: Person, raw_reference: str, trust_phone: bool,
    now: dt.datetime | None = None,
) -> Lookup:
    """First step: is the reference well formed, proven by the phone, or locked?

    ``trust_phone`` says whether the channel that received the message proves the sender's
    number (SMS, voice, Telegram with the user's own shared contact; never REST). The proven
    owner passes every lock: the locks are there to stop strangers.
    """
    reference = references.clean(raw_reference)
    if references.is_valid(reference) and trust_phone:
        case = get_by_reference(session, reference)
        phone = verified_phone(person)
        if case is not None and phone and case.phone == phone:
            return Lookup(Outcome.OWNER, case=case)
    gate = _open_attempt(session, person, raw_reference, now or utcnow())
    if isinstance(gate, Lookup):
        return gate
    _reference, row = gate
    return Lookup(Outcome.NEEDS_DOB, attempts_left=_left(row))


def _left(row: VerificationAttempt) -> int:
    return max(get_settings().max_verification_attempts - row.failures, 0)


def _matches(case: Case | None, date_of_birth: dt.date) -> bool:
    return (case is not None and case.date_of_birth_hash is not None
            and hmac.compare_digest(case.date_of_birth_hash, dob_hash(date_of_birth)))


def check_date_of_birth(
    session: Session, person: Person, raw_reference: str, candidates: list[dt.date],
    now: dt.datetime | None = None,
) -> Lookup:
    """Second step: compare the one date of birth given; count failures, lock when due.

    Several candidate dates ("03/12/1985" reads two ways; a message listing many) are not an
    attempt: ``ONE_DATE``, nothing counted, nothing compared.
    """
    settings = get_settings()
    now = now or utcnow()
    gate = _open_attempt(session, person, raw_reference, now)
    if isinstance(gate, Lookup):
        return gate
    reference, row = gate
    if len(candidates) > 1:
        return Lookup(Outcome.ONE_DATE, attempts_left=_left(row))
    case = get_by_reference(session, reference)
    if candidates and _matches(case, candidates[0]):
        row.failures = 0
        row.locked_until = None
        return Lookup(Outcome.OWNER, case=case)
    session.add(VerificationFailure(reference=reference, person_id=person.id, created_at=now))
    if row.locked_until is not None:  # an old lock that has expired: start counting again
        row.failures = 0
        row.locked_until = None
    row.failures += 1
    if row.failures >= settings.max_verification_attempts:
        row.locked_until = now + dt.timedelta(minutes=settings.lock_minutes)
    session.flush()
    locked_until = _locked_until(session, person, reference, row, now)
    if locked_until is not None:
        return Lookup(Outcome.LOCKED, locked_until=locked_until)
    return Lookup(Outcome.WRONG_DOB, attempts_left=_left(row))


def verification_json(session: Session, reference: str,
                      now: dt.datetime | None = None) -> dict:
    """For staff: whether the reference is locked against everyone but its proven owner."""
    now = now or utcnow()
    locked_until = reference_locked_until(session, reference, now)
    failures = session.scalar(select(func.count()).select_from(VerificationFailure).where(
        VerificationFailure.reference == reference,
        VerificationFailure.created_at > now - FAILURE_WINDOW)) or 0
    return {"locked": locked_until is not None,
            "locked_until": locked_until.isoformat() + "Z" if locked_until else None,
            "failures_24h": failures}


def create_case(
    session: Session,
    *,
    service_slug: str,
    status: str = "received",
    phone: str | None = None,
    date_of_birth: dt.date | None = None,
    language: str = "en",
    detail: str | Mapping[str, str] | None = None,
    person: Person | None = None,
    actor: str = "system",
) -> Case:
    """Create a case with a fresh reference and its first history entry. ``detail``: what
    the case waits for, a plain string (in ``language``) or per language
    (:mod:`bot.domain.case_detail`)."""
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
        date_of_birth_hash=dob_hash(date_of_birth) if date_of_birth else None,
        language=language,
        detail=case_detail.encode(detail, language),
        person_id=person.id if person else None,
    )
    case.events.append(CaseEvent(from_status=None, to_status=status, actor=actor))
    session.add(case)
    session.flush()
    _audit(session, actor, "case.create", case.reference, status=status)
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
    _audit(session, actor, "case.update", case.reference, before=case.status, after=status)
    if status == case.status and not note:
        return None
    event = CaseEvent(from_status=case.status, to_status=status, note=note, actor=actor)
    case.events.append(event)
    case.status = status
    case.updated_at = utcnow()
    session.flush()
    notifications.enqueue(session, case, event)
    return event


def _audit(session: Session, actor: str, action: str, reference: str, **detail: object) -> None:
    if actor != CITIZEN:
        audit.record(session, actor, action, reference, **detail)


def set_detail(session: Session, case: Case, detail: str | Mapping[str, str] | None, *,
               actor: str) -> None:
    """Replace what the case waits for (None clears it), in every language at once."""
    case.detail = case_detail.encode(detail, case.language)
    case.updated_at = utcnow()
    _audit(session, actor, "case.detail", case.reference, cleared=detail is None)


def to_json(case: Case) -> dict:
    """The API's view of a case (staff only: it includes personal data)."""
    return {
        "reference": case.reference,
        "service": case.service.slug,
        "status": case.status,
        "phone": case.phone,
        "date_of_birth_on_file": case.date_of_birth_hash is not None,  # never the date
        "language": case.language,
        "detail": case_detail.texts(case.detail, case.language) or None,  # per language
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
