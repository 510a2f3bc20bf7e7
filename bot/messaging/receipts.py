"""Delivery receipts (SPEC §6.6): what the provider last said about each outbound message.

Every message sent through Twilio's REST API is recorded here with the status Twilio answered
(``queued``, or ``accepted`` through a Messaging Service), and Twilio's status callbacks
(``POST /webhooks/sms/status``, signed) move it on: queued → sending → sent → delivered → read,
or undelivered / failed with Twilio's ``ErrorCode``. A state never moves backwards: callbacks
arrive out of order, so a late "sent" never overwrites "delivered", and a callback for a message
not recorded yet (it can overtake the REST answer) creates the row the send then joins.

An outbox row and an agent's reply keep the provider ids they were sent as (comma-joined when a
long text went as several messages); :func:`summary` gives their one state: the furthest state
every part reached, or the failure of a failed part. Nothing here knows a provider's library.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.store.db import session_scope
from bot.store.models import DeliveryReceipt, utcnow

# How far along each of Twilio's message statuses is. Equal ranks never replace each other
# (the first final word stands); a higher rank always wins.
RANKS: dict[str, int] = {
    "accepted": 0, "scheduled": 0, "queued": 1, "sending": 2, "sent": 3,
    "delivered": 4, "undelivered": 4, "failed": 4, "canceled": 4, "partially_delivered": 4,
    "read": 5,
}
FAILED = frozenset({"undelivered", "failed", "canceled"})
DELIVERED = frozenset({"delivered", "read"})
MAX_ID = 64


def known(status: str) -> bool:
    return status in RANKS


def _advance(row: DeliveryReceipt, status: str, error_code: str | None) -> bool:
    if RANKS[status] <= RANKS.get(row.status, -1):
        return False
    row.status = status
    row.error_code = (error_code or None) if status in FAILED else row.error_code
    row.updated_at = utcnow()
    return True


def _row(session: Session, provider_id: str) -> DeliveryReceipt | None:
    return session.scalar(select(DeliveryReceipt)
                          .where(DeliveryReceipt.provider_id == provider_id[:MAX_ID]))


def _record(session: Session, provider_id: str, status: str, error_code: str | None,
            channel: str | None) -> bool:
    """Record ``status`` for ``provider_id`` in ``session`` unless it would move backwards;
    True if it changed. A concurrent first insert (a callback racing the send's record) is
    read back and advanced instead."""
    row = _row(session, provider_id)
    if row is None:
        try:
            with session.begin_nested():
                session.add(DeliveryReceipt(provider_id=provider_id[:MAX_ID], channel=channel,
                                            status=status, error_code=(error_code or None)
                                            if status in FAILED else None))
            return True
        except IntegrityError:
            row = _row(session, provider_id)
            if row is None:
                raise
    if channel and not row.channel:
        row.channel = channel
    return _advance(row, status, error_code)


def sent(provider_id: str, channel: str, status: str, session: Session | None = None) -> None:
    """A message the provider accepted, with the status it answered; in ``session`` when the
    caller is writing (SQLite has one writer at a time), else in its own transaction."""
    status = status if known(status) else "queued"
    if session is not None:
        _record(session, provider_id, status, None, channel)
        return
    with session_scope() as own:
        _record(own, provider_id, status, None, channel)


@dataclass(frozen=True)
class Callback:
    """What a status callback did: ``known`` (the message was recorded before) and
    ``changed`` (the state moved on)."""

    known: bool
    changed: bool


def callback(provider_id: str, status: str, error_code: str | None) -> Callback:
    """Twilio's status callback for ``provider_id``."""
    with session_scope() as session:
        existed = _row(session, provider_id) is not None
        return Callback(existed, _record(session, provider_id, status, error_code, None))


@dataclass(frozen=True)
class State:
    """One outbound text's delivery state (all its parts), and the error code of a failure."""

    status: str
    error_code: str | None = None

    @property
    def failed(self) -> bool:
        return self.status in FAILED

    def __str__(self) -> str:
        return f"{self.status} (error {self.error_code})" if self.error_code else self.status


def ids(joined: str | None) -> list[str]:
    return [part for part in (joined or "").split(",") if part]


def summary(session: Session, provider_ids: Iterable[str]) -> State | None:
    """The state of a text sent as ``provider_ids``: a failed part's failure, else the least
    advanced part's state; None when nothing is recorded."""
    wanted = [pid[:MAX_ID] for pid in provider_ids]
    if not wanted:
        return None
    rows = list(session.scalars(select(DeliveryReceipt)
                                .where(DeliveryReceipt.provider_id.in_(wanted))))
    if not rows:
        return None
    failed = [row for row in rows if row.status in FAILED]
    if failed:
        return State(failed[0].status, failed[0].error_code)
    if len(rows) < len(set(wanted)):
        return State("queued")  # a part Twilio has not said anything about yet
    least = min(rows, key=lambda row: RANKS.get(row.status, 0))
    return State(least.status)
