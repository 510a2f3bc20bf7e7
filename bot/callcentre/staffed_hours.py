"""When the call centre is staffed (SPEC §5.6): weekly hours plus holidays, in the database.

Times are the server's local time, as office hours are (:mod:`bot.domain.offices`). A weekday
with no hours is closed; "24:00" closes at midnight. Staff changes (:func:`set_week`, the
holidays) write their own audit entry, naming the ``actor``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain import audit
from bot.language.vocabulary import DAY_NAMES
from bot.store.models import StaffedHours, StaffHoliday

LOOKAHEAD_DAYS = 21
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")


class HoursError(ValueError):
    """Staffed hours or a holiday given wrongly (the message says how)."""


def _minutes(value: str) -> int:
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def weekly(session: Session) -> dict[int, tuple[str | None, str | None]]:
    """Opening and closing time per weekday (0 = Monday); (None, None) when closed."""
    rows = {row.weekday: (row.opens, row.closes) for row in session.scalars(select(StaffedHours))}
    return {day: rows.get(day, (None, None)) for day in range(7)}


def holidays(session: Session, since: dt.date | None = None) -> list[StaffHoliday]:
    query = select(StaffHoliday).order_by(StaffHoliday.day)
    if since is not None:
        query = query.where(StaffHoliday.day >= since)
    return list(session.scalars(query))


def set_day(session: Session, weekday: int, opens: str | None, closes: str | None) -> None:
    """Set one weekday's hours; both empty closes the day."""
    if weekday not in range(7):
        raise HoursError("the weekday must be 0 (Monday) to 6 (Sunday)")
    opens, closes = (opens or "").strip() or None, (closes or "").strip() or None
    if (opens is None) != (closes is None):
        raise HoursError("give both an opening and a closing time, or neither")
    if opens is not None and closes is not None:
        if not _TIME.match(opens) or not _TIME.match(closes) or opens == "24:00":
            raise HoursError("times look like 08:30 (24-hour clock)")
        if _minutes(closes) <= _minutes(opens):
            raise HoursError("the closing time must be after the opening time")
    row = session.get(StaffedHours, weekday) or StaffedHours(weekday=weekday)
    row.opens, row.closes = opens, closes
    session.add(row)
    session.flush()


def set_week(session: Session, hours: Mapping[int, tuple[str | None, str | None]], *,
             actor: str) -> None:
    """Set every weekday's hours (a weekday missing from ``hours`` is closed), audited as one
    change; a :class:`HoursError` starts with the name of the day that is wrong."""
    for day in range(7):
        opens, closes = hours.get(day, (None, None))
        try:
            set_day(session, day, opens, closes)
        except HoursError as exc:
            raise HoursError(f"{DAY_NAMES['en'][day]}: {exc}") from exc
    audit.record(session, actor, "hours.update", "staffed_hours",
                 hours={str(k): v for k, v in weekly(session).items()})


def add_holiday(session: Session, day: dt.date, name: str = "", *,
                actor: str) -> StaffHoliday:
    if session.scalar(select(StaffHoliday).where(StaffHoliday.day == day)) is not None:
        raise HoursError(f"{day.isoformat()} is already a holiday")
    holiday = StaffHoliday(day=day, name=(name or "").strip()[:120])
    session.add(holiday)
    session.flush()
    audit.record(session, actor, "holiday.add", day.isoformat(), name=name)
    return holiday


def remove_holiday(session: Session, holiday_id: int, *, actor: str) -> bool:
    holiday = session.get(StaffHoliday, holiday_id)
    if holiday is None:
        return False
    session.delete(holiday)
    session.flush()
    audit.record(session, actor, "holiday.remove", str(holiday_id))
    return True


def _opening(session: Session, day: dt.date,
             hours: dict[int, tuple[str | None, str | None]],
             closed_days: set[dt.date]) -> tuple[dt.datetime, dt.datetime] | None:
    opens, closes = hours[day.weekday()]
    if opens is None or closes is None or day in closed_days:
        return None
    start = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=_minutes(opens))
    return start, dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=_minutes(closes))


def is_staffed(session: Session, now: dt.datetime | None = None) -> bool:
    """Whether the call centre is answering at ``now`` (local time)."""
    now = now or dt.datetime.now()
    closed_days = {h.day for h in holidays(session, now.date())}
    window = _opening(session, now.date(), weekly(session), closed_days)
    return window is not None and window[0] <= now < window[1]


def next_opening(session: Session, now: dt.datetime | None = None) -> dt.datetime | None:
    """When staff are next back after ``now`` (local time), or None if never in three weeks."""
    now = now or dt.datetime.now()
    hours = weekly(session)
    closed_days = {h.day for h in holidays(session, now.date())}
    for offset in range(LOOKAHEAD_DAYS):
        window = _opening(session, now.date() + dt.timedelta(days=offset), hours, closed_days)
        if window is None:
            continue
        start, end = window
        if now < start:
            return start
        if now < end:
            return now
    return None
