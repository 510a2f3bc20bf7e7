"""The operators' pages: ``/console/analytics`` (figures for a period, per channel and
language, each table with its chart and CSV) for agents and administrators.

The figures are :mod:`bot.analytics.report`'s; the page first rolls the closed days of the
period not rolled yet (:func:`bot.analytics.rollup.catch_up`), so a year of events is read
once (two page views rolling the same day at once: one wins, the other reads its rows).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
from collections import Counter
from typing import Any

from sanic import response
from sanic.request import Request
from sqlalchemy.exc import IntegrityError

from bot.analytics import report, rollup
from bot.language.detect import SUPPORTED
from bot.store.db import session_scope
from server.console.auth import staff_only
from server.console.charts import Chart, bars, place
from server.console.templating import (
    CHANNEL_NAMES,
    LANGUAGE_NAMES,
    REASON_NAMES,
    SECURITY_HEADERS,
    page,
)
from server.http import InputError, in_thread

logger = logging.getLogger(__name__)
DEFAULT_DAYS = 30
MAX_DAYS = 400
NOTIFICATION_BARS = (("sent", "sent"), ("delivered", "delivered"),
                     ("undelivered", "not delivered"), ("unconfirmed", "no receipt yet"),
                     ("failed", "failed to send"), ("skipped", "not sent"),
                     ("pending", "waiting"))
NAMES = {"channels": CHANNEL_NAMES, "languages": {**LANGUAGE_NAMES, "unknown": "Unknown"}}


def period_of(args: Any, today: dt.date | None = None) -> report.Period:
    """The period asked for (``from``, ``to``: YYYY-MM-DD; ``channel``, ``language``);
    default the last 30 days."""
    today = today or dt.datetime.now(dt.timezone.utc).date()
    try:
        last = dt.date.fromisoformat(args.get("to") or today.isoformat())
        first = dt.date.fromisoformat(args.get("from") or
                                      (last - dt.timedelta(days=DEFAULT_DAYS - 1)).isoformat())
    except ValueError as exc:
        raise InputError("dates must look like 2026-11-30") from exc
    if first > last:
        raise InputError("the period's first day is after its last")
    if (last - first).days + 1 > MAX_DAYS:
        raise InputError(f"a period is at most {MAX_DAYS} days")
    channel = args.get("channel") or None
    language = args.get("language") or None
    if channel is not None and channel not in {*CHANNEL_NAMES, "unknown"}:
        raise InputError(f"no such channel: {channel}")
    if language is not None and language not in {*SUPPORTED, "unknown"}:
        raise InputError(f"no such language: {language}")
    return report.Period(first, last, channel, language)


def _tables(period: report.Period) -> list[report.Table]:
    try:
        with session_scope() as session:
            rollup.catch_up(session, since=period.first)
    except IntegrityError:  # another page view rolled the same days meanwhile: they are done
        logger.info("analytics: days rolled by another request meanwhile")
    with session_scope() as session:
        return report.build(session, period)


def _total(rows: list[dict[str, Any]], key: str, by: str) -> list[tuple[str, float]]:
    sums: Counter = Counter()
    for row in rows:
        sums[row[by]] += row[key] or 0
    return sorted(sums.items(), key=lambda item: -item[1])


def chart_of(table: report.Table) -> Chart | None:
    """The chart drawn beside ``table``."""
    rows = table.rows
    if not rows:
        return None
    if table.name == "conversations":
        return bars("Containment: share of conversations without a person (%)",
                    [(place(r, NAMES), r["containment"]) for r in rows], "%", 100)
    if table.name == "understanding":
        return bars("Understanding rate (%)",
                    [(place(r, NAMES), r["understanding"]) for r in rows], "%", 100)
    if table.name == "handoff_reasons":
        return bars("Hand-offs by reason", [(REASON_NAMES.get(reason, reason), count)
                                            for reason, count in _total(rows, "handoffs",
                                                                        "reason")])
    if table.name == "waits":
        items = []
        for r in rows:
            items += [(f"{place(r, NAMES)} p50", r["p50"]), (f"{place(r, NAMES)} p90", r["p90"])]
        return bars("Wait for staff (minutes)", items, " min")
    if table.name == "funnels":
        return bars("Form funnels: share of those who started (%)",
                    [(f"{r['form'].removesuffix('_form')}: {r['step']}", r["share"])
                     for r in rows], "%", 100)
    if table.name == "notifications":
        return bars("Notifications", [(label, sum(r[state] for r in rows))
                                      for state, label in NOTIFICATION_BARS])
    if table.name == "sms":
        return bars("SMS segments sent", [(place(r, NAMES) + f" ({r['kind']})", r["segments"])
                                          for r in rows])
    return None


def _query(period: report.Period) -> dict[str, str]:
    query = {"from": period.first.isoformat(), "to": period.last.isoformat()}
    if period.channel:
        query["channel"] = period.channel
    if period.language:
        query["language"] = period.language
    return query


@staff_only()
async def analytics(request: Request) -> response.HTTPResponse:
    viewer = request.ctx.viewer
    try:
        period = period_of(request.args)
    except InputError as exc:
        return page("analytics.html", exc.status, viewer=viewer, error=str(exc), period=None,
                    tables=[], query={}, form=dict(request.args.items()),
                    supported=SUPPORTED)
    tables = await in_thread(_tables, period)
    return page("analytics.html", viewer=viewer, period=period, query=_query(period),
                tables=[(table, chart_of(table)) for table in tables], form=_query(period),
                supported=SUPPORTED)


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text  # no formula in a sheet


def as_csv(table: report.Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([heading for _key, heading in table.columns])
    for row in table.rows:
        writer.writerow([_cell(row.get(key)) for key, _heading in table.columns])
    return out.getvalue()


@staff_only()
async def analytics_csv(request: Request, filename: str) -> response.HTTPResponse:
    """``/console/analytics/<table>.csv``: one table of the period as CSV."""
    name = filename.removesuffix(".csv")
    if name == filename:
        return response.text("ask for a table's .csv", status=404, headers=SECURITY_HEADERS)
    try:
        period = period_of(request.args)
    except InputError as exc:
        return response.text(str(exc), status=exc.status, headers=SECURITY_HEADERS)
    tables = {table.name: table for table in await in_thread(_tables, period)}
    if name not in tables:
        return response.text(f"no such table: {name}", status=404, headers=SECURITY_HEADERS)
    filename = f"civicline-{name}-{period.first}-{period.last}.csv"
    return response.text(as_csv(tables[name]), content_type="text/csv; charset=utf-8",
                         headers={**SECURITY_HEADERS,
                                  "Content-Disposition": f'attachment; filename="{filename}"'})
