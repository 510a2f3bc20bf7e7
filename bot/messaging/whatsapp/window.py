"""WhatsApp's customer-service window (SPEC §6.4): for 24 hours after a person's last message
on WhatsApp, a business may answer in free text; outside it only an approved template may
open the conversation again."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from bot.messaging import inbound
from bot.store.models import Person, utcnow

WINDOW = dt.timedelta(hours=24)
MARGIN = dt.timedelta(minutes=5)  # a message queued at 23:59 may reach Twilio after 24:00


def window_open(session: Session, person: Person, now: dt.datetime | None = None) -> bool:
    """Whether free text may go to this person on WhatsApp now."""
    last = inbound.last_received(session, person, inbound.WHATSAPP)
    return last is not None and (now or utcnow()) < last + WINDOW - MARGIN
