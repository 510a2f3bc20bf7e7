"""Appointments (SPEC §5.4): real availability, and bookings nobody can double-book.

A day offers slots of ``CIVICLINE_SLOT_MINUTES`` (default 30) inside the office's opening
ranges, each with the office's ``desks`` (the catalogue; else ``CIVICLINE_DESKS_PER_SLOT``,
default 2), up to
``CIVICLINE_BOOKING_DAYS`` (default 30) ahead. Past days and times, holidays, closed days and
full slots are never offered, and each is refused with its own reason when typed.

Double-booking is prevented by the database, not by a check-then-insert: a booking takes one
desk, (office, start, desk) is unique, and :func:`book` tries the free desks one by one in
separate transactions. Two conversations confirming the last desk at once: one insert wins,
the other gets an IntegrityError and then :class:`SlotTaken`. Times are the office's local
time (naive datetimes), like its opening hours.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.config import tunable
from bot.domain import cases, offices, people
from bot.language.detect import words
from bot.store.db import session_scope
from bot.store.models import Booking, Case, Office, Person, Service


class SlotTaken(Exception):
    """Every desk of the slot is booked (possibly a moment ago, by someone else)."""


class BookingError(ValueError):
    """Not a booking this person may change (unknown, not theirs, or already cancelled)."""


class DayState(str, Enum):
    OPEN = "open"
    PAST = "past"
    TOO_FAR = "too_far"
    HOLIDAY = "holiday"
    CLOSED = "closed"
    FULL = "full"


class TimeState(str, Enum):
    FREE = "free"
    PAST = "past"
    CLOSED = "closed"  # outside opening hours, or not the start of a slot
    TAKEN = "taken"


def slot_length() -> dt.timedelta:
    return dt.timedelta(minutes=tunable("CIVICLINE_SLOT_MINUTES", 30))


def desks(office: Office | None = None) -> int:
    """Desks per slot: the office's own number (the catalogue's ``desks``), else
    CIVICLINE_DESKS_PER_SLOT."""
    if office is not None and office.desks:
        return office.desks
    return max(1, int(tunable("CIVICLINE_DESKS_PER_SLOT", 2)))


RACE_ATTEMPTS = 101  # a booking lost to a race for a desk tries the next (at most 100 desks)


def horizon_days() -> int:
    return int(tunable("CIVICLINE_BOOKING_DAYS", 30))


def bookable_services(session: Session) -> list[Service]:
    """Services some office offers appointments for."""
    offered = {s.id: s for office in offices.all_offices(session) for s in office.services
               if s.retired_at is None}
    return sorted(offered.values(), key=lambda s: s.id)


def _clock(text: str) -> dt.time:
    hour, minute = text.split(":")
    return dt.time(int(hour) % 24, int(minute))


def slot_starts(office: Office, day: dt.date) -> list[dt.time]:
    """Every slot start on ``day``: whole slots inside each opening range."""
    length = slot_length()
    starts: list[dt.time] = []
    for opens, closes in offices.ranges_on(office, day):
        start = dt.datetime.combine(day, _clock(opens))
        end = dt.datetime.combine(day, _clock(closes))
        while start + length <= end:
            starts.append(start.time())
            start += length
    return starts


def _booked(session: Session, office: Office, day: dt.date) -> dict[dt.datetime, int]:
    """How many desks are taken per slot start on ``day``."""
    first = dt.datetime.combine(day, dt.time())
    rows = session.execute(
        select(Booking.starts_at, func.count(Booking.id))
        .where(Booking.office_id == office.id, Booking.desk.is_not(None),
               Booking.starts_at >= first, Booking.starts_at < first + dt.timedelta(days=1))
        .group_by(Booking.starts_at)
    )
    return {starts_at: count for starts_at, count in rows}


def free_times(session: Session, office: Office, day: dt.date,
               now: dt.datetime | None = None) -> list[dt.time]:
    """Slot starts on ``day`` with a free desk, later than ``now``."""
    now = now or dt.datetime.now()
    booked = _booked(session, office, day)
    capacity = desks(office)
    return [t for t in slot_starts(office, day)
            if dt.datetime.combine(day, t) > now
            and booked.get(dt.datetime.combine(day, t), 0) < capacity]


def day_state(session: Session, office: Office, day: dt.date,
              now: dt.datetime | None = None) -> DayState:
    """Whether ``day`` can be booked at ``office``, or why not."""
    now = now or dt.datetime.now()
    if day < now.date():
        return DayState.PAST
    if day > now.date() + dt.timedelta(days=horizon_days()):
        return DayState.TOO_FAR
    if offices.holiday_on(office, day) is not None:
        return DayState.HOLIDAY
    if not slot_starts(office, day):
        return DayState.CLOSED
    if not free_times(session, office, day, now):
        return DayState.FULL
    return DayState.OPEN


def free_days(session: Session, office: Office, now: dt.datetime | None = None,
              limit: int = 5) -> list[dt.date]:
    """The next days with at least one free slot, soonest first."""
    now = now or dt.datetime.now()
    found: list[dt.date] = []
    for offset in range(horizon_days() + 1):
        day = now.date() + dt.timedelta(days=offset)
        if day_state(session, office, day, now) is DayState.OPEN:
            found.append(day)
            if len(found) >= limit:
                break
    return found


def time_state(session: Session, office: Office, day: dt.date, time: dt.time,
               now: dt.datetime | None = None) -> TimeState:
    """Whether ``time`` on ``day`` can be booked, or why not."""
    now = now or dt.datetime.now()
    if time not in slot_starts(office, day):
        return TimeState.CLOSED
    if dt.datetime.combine(day, time) <= now:
        return TimeState.PAST
    if time not in free_times(session, office, day, now):
        return TimeState.TAKEN
    return TimeState.FREE


@dataclass(frozen=True)
class Booked:
    """What the person is told: the reference and when and where."""

    reference: str
    office_slug: str
    service_slug: str
    starts_at: dt.datetime


def _summary(booking: Booking) -> Booked:
    return Booked(booking.case.reference, booking.office.slug, booking.service.slug,
                  booking.starts_at)


def _free_desks(session: Session, office: Office, starts_at: dt.datetime,
                ignore: int | None = None) -> list[int]:
    taken = set(session.scalars(
        select(Booking.desk).where(Booking.office_id == office.id,
                                   Booking.starts_at == starts_at,
                                   Booking.desk.is_not(None), Booking.id != (ignore or -1))))
    return [desk for desk in range(1, desks(office) + 1) if desk not in taken]


def book(sender_id: str, service_slug: str, office_slug: str, starts_at: dt.datetime,
         language: str) -> Booked:
    """Book a desk at ``starts_at`` and open a case for it; :class:`SlotTaken` when full.

    Each desk is tried in its own transaction, so losing a race for one desk (the unique
    constraint) leaves nothing behind and the next desk is tried.
    """
    for _attempt in range(RACE_ATTEMPTS):
        try:
            with session_scope() as session:
                person = people.get_or_create(session, sender_id)
                office = offices.get(session, office_slug)
                if office is None:
                    raise BookingError(f"unknown office {office_slug!r}")
                free = _free_desks(session, office, starts_at)
                if not free:
                    raise SlotTaken(starts_at.isoformat())
                case = cases.create_case(
                    session, service_slug=service_slug, phone=person.phone,
                    language=language, person=person, actor="citizen",
                    detail=f"Appointment: {office.names.get('en', office.slug)}, "
                           f"{starts_at:%Y-%m-%d %H:%M}")
                booking = Booking(case=case, person_id=person.id, office=office,
                                  service=case.service, starts_at=starts_at, desk=free[0])
                session.add(booking)
                session.flush()
                return _summary(booking)
        except IntegrityError:
            continue
    raise SlotTaken(starts_at.isoformat())


def owned(session: Session, person: Person) -> list[Booking]:
    """The person's upcoming bookings: made by them, or for a case on their proven phone."""
    phone = people.verified_phone(person)
    owner = Booking.person_id == person.id
    if phone:
        owner = or_(owner, Booking.case.has(Case.phone == phone))
    return list(session.scalars(
        select(Booking).where(owner, Booking.status == "booked",
                              Booking.starts_at > dt.datetime.now())
        .order_by(Booking.starts_at)))


def _owned_one(session: Session, person: Person, reference: str) -> Booking:
    booking = next((b for b in owned(session, person) if b.case.reference == reference), None)
    if booking is None:
        raise BookingError("not an upcoming booking of this person")
    return booking


def move(sender_id: str, reference: str, starts_at: dt.datetime) -> Booked:
    """Move the person's booking to ``starts_at`` (same office); :class:`SlotTaken` if full."""
    for _attempt in range(RACE_ATTEMPTS):
        try:
            with session_scope() as session:
                person = people.get_or_create(session, sender_id)
                booking = _owned_one(session, person, reference)
                free = _free_desks(session, booking.office, starts_at, ignore=booking.id)
                if not free:
                    raise SlotTaken(starts_at.isoformat())
                before = booking.starts_at
                booking.starts_at, booking.desk = starts_at, free[0]
                session.flush()
                cases.change_status(session, booking.case, booking.case.status,
                                    note=f"Appointment moved from {before:%Y-%m-%d %H:%M} to "
                                         f"{starts_at:%Y-%m-%d %H:%M}", actor="citizen")
                return _summary(booking)
        except IntegrityError:
            continue
    raise SlotTaken(starts_at.isoformat())


def cancel(session: Session, person: Person, reference: str) -> Booked:
    """Cancel the person's booking: its desk is freed at once (``desk`` NULL)."""
    booking = _owned_one(session, person, reference)
    booking.status, booking.desk = "cancelled", None
    cases.change_status(session, booking.case, booking.case.status,
                        note="Appointment cancelled by the citizen", actor="citizen")
    session.flush()
    return _summary(booking)


def find(session: Session, reference: str) -> Booking | None:
    return session.scalar(select(Booking).join(Booking.case).where(Case.reference == reference))


# Words that call an appointment off, folded (no accents; Arabic without hamza marks): "cancel
# my appointment", "anular la cita", "annuler le rendez-vous", "ألغِ الموعد".
_CALL_OFF_PREFIXES = ("cancel", "anul", "annul", "desconvoc", "الغ")
_CALL_OFF_WORDS = frozenset({"نلغي", "تلغي", "يلغي", "الغاء"})


def wants_call_off(text: str) -> bool:
    """Whether a message asks to call an appointment off (not to book or move one)."""
    tokens = words(text)
    if any(t == "call" and "off" in tokens[i + 1:i + 4] for i, t in enumerate(tokens)):
        return True  # "call it off", "call off my appointment"
    return any(t in _CALL_OFF_WORDS or t.startswith(_CALL_OFF_PREFIXES) for t in tokens)
