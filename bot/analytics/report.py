"""One period's analytics, as tables (each also a chart and a CSV in the console).

Conversation figures come from :mod:`bot.analytics.rollup` (events); hand-offs, their reasons
and the wait for staff from ``handoffs`` (a conversation handed off: a hand-off created that
day for that sender); notifications from the outbox; SMS from :mod:`bot.analytics.usage`. Every
table is per channel and language (the form funnels and SMS per language only where the
source knows no more), and nothing in it names a person.

- containment = conversations without a hand-off / conversations;
- understanding = messages not sent to ``nlu_fallback`` / messages;
- wait for staff = claimed − asked, for hand-offs taken in the period; p50 and p90 by the
  nearest-rank method (the smallest wait at least that share of people waited no longer than).
- notifications (outbox rows created in the period): *sent* = accepted by the provider; of
  those, by the delivery receipts (SPEC §6.6, :mod:`bot.messaging.receipts`) *delivered*
  (delivered or read), *not delivered* (the provider accepted it, then reported undelivered,
  failed or canceled: the phone or carrier refused it) and *no receipt* (nothing final yet, or
  a channel without receipts: Telegram); delivery rate = delivered / sent. *Failed* is a
  send the provider never accepted (after the outbox's retries), kept apart from "not
  delivered" because it is fixed on our side. A text sent as several messages counts once,
  with :func:`bot.messaging.receipts.summary`'s state.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bot.analytics import rollup
from bot.analytics.fold import UNKNOWN
from bot.messaging import receipts
from bot.store.models import DeliveryReceipt, Handoff, OutboxMessage, SmsUsage

NOTIFICATION_STATES = ("sent", "failed", "skipped", "pending")
# What became of the sent ones, by their delivery receipts.
DELIVERY_STATES = ("delivered", "undelivered", "unconfirmed")


@dataclass(frozen=True)
class Period:
    first: dt.date
    last: dt.date
    channel: str | None = None  # only this channel, or every one
    language: str | None = None

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def start(self) -> dt.datetime:
        return dt.datetime.combine(self.first, dt.time())

    def end(self) -> dt.datetime:
        return dt.datetime.combine(self.last + dt.timedelta(days=1), dt.time())

    def keeps(self, channel: str | None, language: str | None) -> bool:
        return (self.channel is None or (channel or UNKNOWN) == self.channel) and \
            (self.language is None or (language or UNKNOWN) == self.language)


@dataclass
class Table:
    """A table of the report: ``columns`` as (key, heading); ``rows`` as dicts."""

    name: str
    title: str
    columns: list[tuple[str, str]]
    rows: list[dict[str, Any]] = field(default_factory=list)


def percent(part: int, whole: int) -> float | None:
    return None if not whole else round(100.0 * part / whole, 1)


def nearest_rank(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile (``share`` in 0..1) of ``values``; None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(share * len(ordered))) - 1]


def _handoffs(session: Session, period: Period) -> list[Any]:
    """The period's hand-offs, only the columns the figures need (no person, no staff)."""
    return list(session.execute(
        select(Handoff.sender_id, Handoff.channel, Handoff.language, Handoff.reason,
               Handoff.created_at, Handoff.claimed_at)
        .where(Handoff.created_at >= period.start(), Handoff.created_at < period.end())))


def _overview(figures: Counter, handoffs: list[Any], period: Period
              ) -> tuple[Table, Table]:
    handed: dict[tuple[str, str], set] = defaultdict(set)
    for handoff in handoffs:
        where = (handoff.channel or UNKNOWN, handoff.language or UNKNOWN)
        handed[where].add((handoff.sender_id, handoff.created_at.date()))
    places = sorted({(c, lang) for (c, lang, metric, _k) in figures if metric == "messages"}
                    | set(handed))
    overview = Table("conversations", "Conversations and containment", [
        ("channel", "Channel"), ("language", "Language"), ("conversations", "Conversations"),
        ("handed_off", "Handed to a person"), ("containment", "Containment (%)"),
        ("handoff_rate", "Hand-off rate (%)")])
    understanding = Table("understanding", "Understanding", [
        ("channel", "Channel"), ("language", "Language"), ("messages", "Messages"),
        ("not_understood", "Not understood"), ("understanding", "Understanding rate (%)")])
    for channel, language in places:
        if not period.keeps(channel, language):
            continue
        total = figures[(channel, language, "conversations", "")]
        off = min(len(handed[(channel, language)]), total) if total else \
            len(handed[(channel, language)])
        overview.rows.append({"channel": channel, "language": language, "conversations": total,
                              "handed_off": off,
                              "containment": percent(total - off, total) if total else None,
                              "handoff_rate": percent(off, total)})
        messages = figures[(channel, language, "messages", "")]
        missed = figures[(channel, language, "fallbacks", "")]
        if messages:
            understanding.rows.append({
                "channel": channel, "language": language, "messages": messages,
                "not_understood": missed, "understanding": percent(messages - missed,
                                                                   messages)})
    return overview, understanding


def _reasons_and_waits(handoffs: list[Any], period: Period) -> tuple[Table, Table]:
    reasons: Counter = Counter()
    waits: dict[tuple[str, str], list[float]] = defaultdict(list)
    untaken: Counter = Counter()
    for handoff in handoffs:
        where = (handoff.channel or UNKNOWN, handoff.language or UNKNOWN)
        if not period.keeps(*where):
            continue
        reasons[(*where, handoff.reason)] += 1
        if handoff.claimed_at is not None:
            waits[where].append((handoff.claimed_at - handoff.created_at).total_seconds() / 60)
        else:
            untaken[where] += 1
    reason_table = Table("handoff_reasons", "Hand-off reasons", [
        ("channel", "Channel"), ("language", "Language"), ("reason", "Reason"),
        ("handoffs", "Hand-offs")],
        [{"channel": c, "language": lang, "reason": r, "handoffs": n}
         for (c, lang, r), n in sorted(reasons.items())])
    wait_table = Table("waits", "Wait for staff (minutes)", [
        ("channel", "Channel"), ("language", "Language"), ("taken", "Taken by staff"),
        ("not_taken", "Not taken"), ("p50", "Median wait (p50)"), ("p90", "p90 wait")])
    for where in sorted(set(waits) | set(untaken)):
        values = waits[where]
        p50, p90 = nearest_rank(values, 0.5), nearest_rank(values, 0.9)
        wait_table.rows.append({"channel": where[0], "language": where[1],
                                "taken": len(values), "not_taken": untaken[where],
                                "p50": None if p50 is None else round(p50, 1),
                                "p90": None if p90 is None else round(p90, 1)})
    return reason_table, wait_table


def _funnels(figures: Counter, period: Period) -> Table:
    started: Counter = Counter()
    completed: Counter = Counter()
    reached: Counter = Counter()
    left: Counter = Counter()
    for (channel, language, metric, key), value in figures.items():
        if not period.keeps(channel, language):
            continue
        if metric == "form_started":
            started[key] += value
        elif metric == "form_completed":
            completed[key] += value
        elif metric == "form_step":
            reached[tuple(key.split(":", 1))] += value
        elif metric == "form_left":
            left[tuple(key.split(":", 1))] += value
    table = Table("funnels", "Form funnels", [
        ("form", "Form"), ("step", "Step"), ("people", "People"),
        ("share", "Share of those who started (%)"), ("left", "Left at this step")])
    for form in sorted(started):
        begun = started[form]
        table.rows.append({"form": form, "step": "started", "people": begun, "share": 100.0,
                           "left": left[(form, "")]})
        steps = sorted((step for f, step in reached if f == form),
                       key=lambda step: -reached[(form, step)])
        for step in steps:
            count = reached[(form, step)]
            table.rows.append({"form": form, "step": step, "people": count,
                               "share": percent(count, begun), "left": left[(form, step)]})
        table.rows.append({"form": form, "step": "completed", "people": completed[form],
                           "share": percent(completed[form], begun), "left": None})
    return table


def _delivery(receipt: str | None) -> str:
    if receipt in receipts.DELIVERED:
        return "delivered"
    return "undelivered" if receipt in receipts.FAILED else "unconfirmed"


def _notification_counts(session: Session, period: Period
                         ) -> dict[tuple[str, str], Counter]:
    """Outbox rows of the period per (channel, language): by their status, and the sent ones
    also by their delivery (one SQL join for texts sent as one message; the few sent as
    several are summarised part by part)."""
    outbox, receipt = OutboxMessage.__table__, DeliveryReceipt.__table__
    in_period = (outbox.c.created_at >= period.start(), outbox.c.created_at < period.end())
    several = outbox.c.provider_id.contains(",")
    rows = session.execute(
        select(outbox.c.channel, outbox.c.language, outbox.c.status, receipt.c.status,
               func.count())
        .select_from(outbox.outerjoin(receipt, receipt.c.provider_id == outbox.c.provider_id))
        .where(*in_period, or_(outbox.c.provider_id.is_(None), ~several))
        .group_by(outbox.c.channel, outbox.c.language, outbox.c.status, receipt.c.status))
    counts: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for channel, language, status, delivered, number in rows:
        where = (channel or UNKNOWN, language or UNKNOWN)
        if period.keeps(*where):
            counts[where]["pending" if status == "sending" else status] += number
            if status == "sent":
                counts[where][_delivery(delivered)] += number
    for channel, language, joined in session.execute(
            select(outbox.c.channel, outbox.c.language, outbox.c.provider_id)
            .where(*in_period, several, outbox.c.status == "sent")):
        where = (channel or UNKNOWN, language or UNKNOWN)
        if period.keeps(*where):
            state = receipts.summary(session, receipts.ids(joined))
            counts[where]["sent"] += 1
            counts[where][_delivery(state.status if state else None)] += 1
    return counts


def _notifications(session: Session, period: Period) -> Table:
    counts = _notification_counts(session, period)
    table = Table("notifications", "Notifications", [
        ("channel", "Channel"), ("language", "Language"),
        ("sent", "Sent (accepted by the provider)"), ("delivered", "Delivered"),
        ("undelivered", "Not delivered (refused by phone or carrier)"),
        ("unconfirmed", "No delivery receipt yet"), ("delivery_rate", "Delivered (% of sent)"),
        ("failed", "Failed to send"), ("skipped", "Not sent (opted out, no contact)"),
        ("pending", "Waiting to be sent")])
    for channel, language in sorted(counts):
        count = counts[(channel, language)]
        table.rows.append({"channel": channel, "language": language,
                           **{state: count[state] for state in
                              (*NOTIFICATION_STATES, *DELIVERY_STATES)},
                           "delivery_rate": percent(count["delivered"], count["sent"])})
    table.rows = [{key: row[key] for key, _heading in table.columns} for row in table.rows]
    return table


def _sms(session: Session, period: Period) -> Table:
    rows = session.execute(
        select(SmsUsage.language, SmsUsage.kind, func.sum(SmsUsage.messages),
               func.sum(SmsUsage.segments))
        .where(SmsUsage.day >= period.first, SmsUsage.day <= period.last)
        .group_by(SmsUsage.language, SmsUsage.kind)
        .order_by(SmsUsage.language, SmsUsage.kind))
    table = Table("sms", "SMS sent", [
        ("channel", "Channel"), ("language", "Language"), ("kind", "Sent as"),
        ("messages", "Messages"), ("segments", "Segments")])
    for language, kind, messages, segments in rows:
        if period.keeps("sms", language):
            table.rows.append({"channel": "sms", "language": language, "kind": kind,
                               "messages": int(messages), "segments": int(segments)})
    return table


def build(session: Session, period: Period) -> list[Table]:
    """Every table of the report for ``period``."""
    figures = rollup.figures(session, period.first, period.last)
    handoffs = _handoffs(session, period)
    overview, understanding = _overview(figures, handoffs, period)
    reasons, waits = _reasons_and_waits(handoffs, period)
    return [overview, reasons, waits, understanding, _funnels(figures, period),
            _notifications(session, period), _sms(session, period)]
