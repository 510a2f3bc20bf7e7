"""Days for bookings that do not depend on the day the tests run."""

from __future__ import annotations

import datetime as dt

from tests.support.stack import Stack
from tests.support.stack_data import query


def next_weekday(weekday: int, after: dt.date | None = None) -> dt.date:
    """The first ``weekday`` (Monday 0) strictly after ``after`` (default today)."""
    after = after or dt.date.today()
    return after + dt.timedelta(days=(weekday - after.weekday()) % 7 or 7)


def open_weekday(stack: Stack, office: str, weekday: int, after: dt.date) -> dt.date:
    """The first ``weekday`` after ``after`` that is not one of ``office``'s holidays, asked of
    the stack's own data (25 Dec and 1 Jan are Fridays in 2026), not left to the calendar."""
    holidays = {dt.date.fromisoformat(str(day)[:10]) for (day,) in query(
        stack, "SELECT h.day FROM office_holidays h JOIN offices o ON o.id = h.office_id "
               "WHERE o.slug = :slug", slug=office)}
    day = next_weekday(weekday, after)
    while day in holidays:
        day = next_weekday(weekday, day)
    return day
