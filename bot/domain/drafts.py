"""Form drafts: the answers given so far, per person and form, to resume later (SPEC §5.4).

A draft belongs to the *person*, not to a Rasa conversation: it outlives the Rasa session
(60 minutes of silence) and is found again from any channel of the same person (SMS and voice
share the phone number; a Telegram user who shared that number is the same person). Drafts
expire after ``CIVICLINE_DRAFT_HOURS`` (default 72): an expired draft is never offered and is
deleted when met, or by :func:`purge`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.config import tunable
from bot.store.models import FormDraft, Person, utcnow

DEFAULT_HOURS = 72


def lifetime() -> dt.timedelta:
    return dt.timedelta(hours=tunable("CIVICLINE_DRAFT_HOURS", DEFAULT_HOURS))


def load(session: Session, person: Person, form: str) -> FormDraft | None:
    """The person's live draft of ``form`` (None if none, or expired: then it is deleted)."""
    draft = session.scalar(select(FormDraft).where(FormDraft.person_id == person.id,
                                                   FormDraft.form == form))
    if draft is not None and draft.updated_at < utcnow() - lifetime():
        session.delete(draft)
        session.flush()
        return None
    return draft


def save(session: Session, person: Person, form: str, answers: dict[str, Any],
         channel: str | None = None) -> FormDraft | None:
    """Keep ``answers`` (only the ones given) as the person's draft of ``form``."""
    given = {name: value for name, value in answers.items() if value is not None}
    draft = load(session, person, form)
    if not given:
        if draft is not None:
            session.delete(draft)
            session.flush()
        return None
    if draft is None:
        draft = FormDraft(person_id=person.id, form=form)
        session.add(draft)
    draft.answers = given
    draft.channel = channel or draft.channel
    draft.updated_at = utcnow()
    session.flush()
    return draft


def discard(session: Session, person: Person, form: str | None = None) -> None:
    """Forget the person's draft of ``form`` (of every form when None)."""
    query = delete(FormDraft).where(FormDraft.person_id == person.id)
    if form is not None:
        query = query.where(FormDraft.form == form)
    session.execute(query)


def purge(session: Session, older_than: dt.timedelta | None = None) -> int:
    """Delete drafts not touched for ``older_than`` (default: the lifetime); return how many."""
    cutoff = utcnow() - (older_than if older_than is not None else lifetime())
    result = session.execute(delete(FormDraft).where(FormDraft.updated_at < cutoff))
    return result.rowcount or 0
