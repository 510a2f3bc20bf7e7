"""Closed days kept as figures (``analytics_daily``), so a year of events is read once.

A day is *closed* once it is over by more than :data:`GRACE` (events may reach the stream a
little late): :func:`catch_up` folds each closed day not yet rolled (:mod:`bot.analytics.fold`)
and writes its figures and an ``analytics_rolled_days`` row in one transaction. The days in a
period that are not rolled (today, yesterday, or before the first rollup) are folded from the
events when asked (:func:`figures`). `python -m bot analytics rollup` runs :func:`catch_up`, and
so does the analytics page.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot.analytics import events
from bot.analytics.fold import fold
from bot.store import tracker_events
from bot.store.models import AnalyticsDaily, AnalyticsRolledDay, ConversationEvent, utcnow

GRACE = dt.timedelta(days=1)


def epoch(day: dt.date) -> float:
    return dt.datetime.combine(day, dt.time(), dt.timezone.utc).timestamp()


def last_closed_day(now: dt.datetime | None = None) -> dt.date:
    """The most recent day that may be rolled: over by more than :data:`GRACE`."""
    moment = now or dt.datetime.now(dt.timezone.utc)
    return (moment - GRACE).date() - dt.timedelta(days=1)


def _first_event_day(session: Session, where: str) -> dt.date | None:
    if where == events.STREAM:
        first = session.scalar(select(func.min(ConversationEvent.timestamp)))
    elif tracker_events.has_events_table(session):
        first = session.scalar(select(func.min(tracker_events.events.c.timestamp)))
    else:
        first = None
    return None if first is None else dt.datetime.fromtimestamp(first, dt.timezone.utc).date()


def rolled_days(session: Session, start: dt.date, end: dt.date) -> set[dt.date]:
    """The rolled days in ``[start, end]``."""
    return set(session.scalars(select(AnalyticsRolledDay.day).where(
        AnalyticsRolledDay.day >= start, AnalyticsRolledDay.day <= end)))


def _spans(days: list[dt.date]) -> Iterator[tuple[dt.date, dt.date]]:
    """Consecutive runs of ``days`` (sorted) as (first, last)."""
    first = last = None
    for day in days:
        if last is not None and day == last + dt.timedelta(days=1):
            last = day
            continue
        if first is not None:
            yield first, last
        first = last = day
    if first is not None:
        yield first, last


def fold_days(session: Session, first: dt.date, last: dt.date, where: str | None = None
              ) -> Counter:
    """The figures of the days ``[first, last]`` folded from the events."""
    return fold(events.read(session, epoch(first), epoch(last + dt.timedelta(days=1)), where))


def roll(session: Session, first: dt.date, last: dt.date, where: str | None = None) -> int:
    """Fold the days ``[first, last]`` and keep their figures (replacing any); rows written."""
    where = where or events.source()
    figures = fold_days(session, first, last, where)
    session.execute(delete(AnalyticsDaily).where(AnalyticsDaily.day >= first,
                                                 AnalyticsDaily.day <= last))
    session.execute(delete(AnalyticsRolledDay).where(AnalyticsRolledDay.day >= first,
                                                     AnalyticsRolledDay.day <= last))
    session.bulk_insert_mappings(AnalyticsDaily, [
        {"day": day, "channel": channel[:32], "language": language[:8], "metric": metric,
         "key": key[:128], "value": value}
        for (day, channel, language, metric, key), value in figures.items()])
    now, day = utcnow(), first
    rolled = []
    while day <= last:
        rolled.append({"day": day, "source": where, "rolled_at": now})
        day += dt.timedelta(days=1)
    session.bulk_insert_mappings(AnalyticsRolledDay, rolled)
    session.flush()
    return len(figures)


def catch_up(session: Session, now: dt.datetime | None = None, where: str | None = None,
             since: dt.date | None = None) -> int:
    """Roll every closed day (since the first event, or ``since``) that is not rolled yet;
    days rolled. Each run of days is committed on its own, so a writer waits for one run at
    most (SQLite has one writer at a time)."""
    where = where or events.source()
    first, last = _first_event_day(session, where), last_closed_day(now)
    if first is not None and since is not None:
        first = max(first, since)
    if first is None or first > last:
        return 0
    done = rolled_days(session, first, last)
    missing = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    missing = [day for day in missing if day not in done]
    for start, end in _spans(missing):
        roll(session, start, end, where)
        session.commit()
    return len(missing)


def figures(session: Session, first: dt.date, last: dt.date) -> Counter:
    """The figures of ``[first, last]``: rolled days from ``analytics_daily``, the others
    folded from the events now."""
    table = AnalyticsDaily.__table__
    totals: Counter = Counter()
    rows = session.execute(
        select(table.c.channel, table.c.language, table.c.metric, table.c.key,
               func.sum(table.c.value))
        .where(table.c.day >= first, table.c.day <= last)
        .group_by(table.c.channel, table.c.language, table.c.metric, table.c.key))
    for channel, language, metric, key, value in rows:
        totals[(channel, language, metric, key)] += int(value)
    done = rolled_days(session, first, last)
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    for start, end in _spans([day for day in days if day not in done]):
        for (_day, *rest), value in fold_days(session, start, end).items():
            totals[tuple(rest)] += value
    return totals
