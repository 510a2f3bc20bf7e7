"""SMS sent, counted per day and conversation language (the cost the analytics show).

Each SMS body is counted with its segments (:func:`bot.messaging.sms.encoding.segments`, the
same rule the SMS renderer keeps to): ``reply`` for a webhook's own answer (TwiML), ``later``
for what goes out through Twilio's REST API (agent replies, notifications). One row per day,
language and kind, incremented; nothing about who it went to.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.messaging.sms.encoding import segments
from bot.store.models import SmsUsage, utcnow

REPLY = "reply"
LATER = "later"


def record_sms(session: Session, language: str | None, kind: str, bodies: Sequence[str],
               day: dt.date | None = None) -> None:
    """Count ``bodies`` sent today (``day``) in ``language`` as ``kind``."""
    bodies = [body for body in bodies if body]
    if not bodies:
        return
    day = day or utcnow().date()
    language = (language or "unknown")[:8]
    cost = sum(segments(body) for body in bodies)
    table = SmsUsage.__table__
    add = (update(table).where(table.c.day == day, table.c.language == language,
                               table.c.kind == kind)
           .values(messages=table.c.messages + len(bodies), segments=table.c.segments + cost))
    if session.execute(add).rowcount:
        return
    try:
        with session.begin_nested():  # the day's first: a row, unless another writer won
            session.add(SmsUsage(day=day, language=language, kind=kind, messages=len(bodies),
                                 segments=cost))
    except IntegrityError:
        session.execute(add)
