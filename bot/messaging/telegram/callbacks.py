"""Telegram callback keys (SPEC §6.2): a button's ``callback_data`` holds at most 64 bytes, so a
longer payload is stored and the button carries its key (:func:`bot.messaging.telegram.render.
callback_data`).
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.store.models import TelegramCallback, utcnow


def callback_key(session: Session, payload: str) -> int:
    """The short key for a long button payload (the same payload always gets the same key)."""
    digest = hashlib.sha256(payload.encode("utf-8")).hexdigest()
    row = session.scalar(select(TelegramCallback).where(TelegramCallback.digest == digest))
    if row is None:
        row = TelegramCallback(digest=digest, payload=payload)
        session.add(row)
    else:
        row.created_at = utcnow()  # handed out again: retention counts from the newest button
    session.flush()
    return row.id


def callback_payload(session: Session, key: str) -> str | None:
    """The payload stored under ``key`` ("12"), or None."""
    if not key.isdigit() or len(key) > 12:
        return None
    row = session.get(TelegramCallback, int(key))
    return row.payload if row is not None else None
