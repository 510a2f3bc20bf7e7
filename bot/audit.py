"""The append-only audit log (SPEC §8): every staff action and every API write."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from bot.models import AuditEntry


def record(session: Session, actor: str, action: str, target: str | None = None,
           **detail: Any) -> None:
    """Add one audit entry in the caller's transaction (so it commits with the change)."""
    session.add(AuditEntry(actor=actor, action=action, target=target, detail=detail))
