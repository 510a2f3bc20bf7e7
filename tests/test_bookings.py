"""Appointments (SPEC §5.4): availability from the real data, and no double-booking, ever."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy.exc import IntegrityError

from bot.domain import bookings, catalogue, offices, people
from bot.domain.bookings import DayState, SlotTaken, TimeState
from bot.store.db import session_scope
from bot.store.models import Booking, Case

MONDAY = dt.date(2026, 12, 21)  # City Hall: Mon-Fri 08:30-16:30, Sat 09:00-12:00
EARLY = dt.datetime(2026, 12, 21, 7, 0)


def next_monday() -> dt.date:
    """A Monday at least a week ahead of the real today (bookings must be in the future)."""
    today = dt.date.today()
    return today + dt.timedelta(days=7 + (0 - today.weekday()) % 7)


def test_slots_follow_the_opening_ranges(session) -> None:
    city_hall = offices.get(session, "city_hall")
    starts = bookings.slot_starts(city_hall, MONDAY)
    assert starts[0] == dt.time(8, 30) and starts[-1] == dt.time(16, 0)
    assert len(starts) == 16
    riverside = offices.get(session, "riverside_hub")  # Saturday: 10-13 and 14-18
    saturday = bookings.slot_starts(riverside, MONDAY - dt.timedelta(days=2))
    assert dt.time(12, 30) in saturday and dt.time(13, 0) not in saturday
    assert dt.time(14, 0) in saturday and dt.time(17, 30) in saturday


@pytest.mark.parametrize(("day", "expected"), [
    (MONDAY, DayState.OPEN),
    (MONDAY - dt.timedelta(days=1), DayState.PAST),  # Sunday before "now"
    (dt.date(2026, 12, 25), DayState.HOLIDAY),  # Christmas
    (dt.date(2026, 12, 27), DayState.CLOSED),  # a Sunday
    (MONDAY + dt.timedelta(days=60), DayState.TOO_FAR),
])
def test_day_states(session, day: dt.date, expected: DayState) -> None:
    city_hall = offices.get(session, "city_hall")
    assert bookings.day_state(session, city_hall, day, EARLY) is expected


def test_time_states(session) -> None:
    city_hall = offices.get(session, "city_hall")
    assert bookings.time_state(session, city_hall, MONDAY, dt.time(9, 0), EARLY) is TimeState.FREE
    assert bookings.time_state(session, city_hall, MONDAY, dt.time(9, 15), EARLY) \
        is TimeState.CLOSED
    assert bookings.time_state(session, city_hall, MONDAY, dt.time(18, 0), EARLY) \
        is TimeState.CLOSED
    late = dt.datetime(2026, 12, 21, 12, 0)
    assert bookings.time_state(session, city_hall, MONDAY, dt.time(9, 0), late) is TimeState.PAST


def test_free_days_skip_holidays_and_closed_days(session) -> None:
    city_hall = offices.get(session, "city_hall")
    days = bookings.free_days(session, city_hall, dt.datetime(2026, 12, 24, 17, 0), limit=3)
    # Thursday 24th is over, 25th Christmas, 26th Saturday open, 27th Sunday closed.
    assert days == [dt.date(2026, 12, 26), dt.date(2026, 12, 28), dt.date(2026, 12, 29)]


def test_a_full_slot_is_not_offered_and_a_cancelled_one_is_free_again(
        database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIVICLINE_DESKS_PER_SLOT", "2")
    day = next_monday()
    at = dt.datetime.combine(day, dt.time(10, 0))
    first = bookings.book("+15550100001", "id_cards", "city_hall", at, "en")
    second = bookings.book("+34612345678", "id_cards", "city_hall", at, "es")
    assert first.reference != second.reference
    with pytest.raises(SlotTaken):
        bookings.book("+33612345678", "id_cards", "city_hall", at, "fr")
    with session_scope() as session:
        city_hall = offices.get(session, "city_hall")
        assert dt.time(10, 0) not in bookings.free_times(session, city_hall, day)
        assert bookings.time_state(session, city_hall, day, dt.time(10, 0)) is TimeState.TAKEN
        owner = people.find(session, "+34612345678")
        assert [b.case.reference for b in bookings.owned(session, owner)] == [second.reference]
        bookings.cancel(session, owner, second.reference)
    with session_scope() as session:
        city_hall = offices.get(session, "city_hall")
        assert dt.time(10, 0) in bookings.free_times(session, city_hall, day)
        assert bookings.owned(session, people.find(session, "+34612345678")) == []
    assert bookings.book("+33612345678", "id_cards", "city_hall", at, "fr").reference


def test_an_office_with_its_own_desks_takes_that_many_per_slot(
        database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The catalogue's ``desks`` of an office wins over CIVICLINE_DESKS_PER_SLOT."""
    monkeypatch.setenv("CIVICLINE_DESKS_PER_SLOT", "1")
    with session_scope() as session:
        catalogue.update(session, "offices", offices.get(session, "city_hall"), {"desks": 3},
                         actor="test")
    day = next_monday()
    at = dt.datetime.combine(day, dt.time(9, 0))
    for sender in ("+15550100001", "+34612345678", "+33612345678"):
        bookings.book(sender, "id_cards", "city_hall", at, "en")
    with pytest.raises(SlotTaken):
        bookings.book("+212612345678", "id_cards", "city_hall", at, "ar")
    with session_scope() as session:
        assert dt.time(9, 0) not in bookings.free_times(session, offices.get(session, "city_hall"),
                                                        day)


def test_the_database_refuses_a_second_booking_of_the_same_desk(database: str) -> None:
    at = dt.datetime.combine(next_monday(), dt.time(11, 0))
    booked = bookings.book("+15550100001", "id_cards", "city_hall", at, "en")
    with pytest.raises(IntegrityError), session_scope() as session:
        first = bookings.find(session, booked.reference)
        case = session.query(Case).filter(Case.reference == "12345674").one()
        session.add(Booking(case=case, office_id=first.office_id, service_id=first.service_id,
                            starts_at=at, desk=first.desk))
        session.flush()


def test_two_people_racing_for_the_last_desk(database: str,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Both confirm at the same instant: exactly one booking, the other gets SlotTaken."""
    monkeypatch.setenv("CIVICLINE_DESKS_PER_SLOT", "1")
    at = dt.datetime.combine(next_monday(), dt.time(14, 30))
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def confirm(sender: str) -> None:
        start.wait()
        try:
            outcomes.append(bookings.book(sender, "id_cards", "city_hall", at, "en").reference)
        except SlotTaken:
            outcomes.append("taken")

    threads = [threading.Thread(target=confirm, args=(s,)) for s in ("+15550188801",
                                                                     "+15550188802")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(o == "taken" for o in outcomes) == [False, True], outcomes
    with session_scope() as session:
        rows = session.query(Booking).filter(Booking.starts_at == at).all()
        assert len(rows) == 1 and rows[0].desk == 1
        case = session.get(Case, rows[0].case_id)  # the booking's note, in the case's language
        assert case.detail == {case.language: f"Appointment: {rows[0].office.names['en']}, "
                                              f"{at:%Y-%m-%d %H:%M}"}


def test_moving_a_booking(database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIVICLINE_DESKS_PER_SLOT", "1")
    day = next_monday()
    mine = bookings.book("+15550100001", "id_cards", "city_hall",
                         dt.datetime.combine(day, dt.time(9, 0)), "en")
    bookings.book("+34612345678", "id_cards", "city_hall",
                  dt.datetime.combine(day, dt.time(9, 30)), "es")
    with pytest.raises(SlotTaken):  # someone else's slot
        bookings.move("+15550100001", mine.reference, dt.datetime.combine(day, dt.time(9, 30)))
    with pytest.raises(bookings.BookingError):  # not theirs
        bookings.move("+34612345678", mine.reference, dt.datetime.combine(day, dt.time(10, 0)))
    moved = bookings.move("+15550100001", mine.reference,
                          dt.datetime.combine(day, dt.time(10, 0)))
    assert moved.reference == mine.reference and moved.starts_at.time() == dt.time(10, 0)
    with session_scope() as session:
        city_hall = offices.get(session, "city_hall")
        assert dt.time(9, 0) in bookings.free_times(session, city_hall, day)
        assert "moved" in bookings.find(session, mine.reference).case.events[-1].note
