"""Retention and erasure (SPEC §8): `python -m bot purge` and `python -m bot erase`.

:func:`purge` deletes what is *transcript* once it is older than a set age: Rasa conversations
(the tracker store's ``events``, and their analytics rows, ``conversation_events``), closed
hand-offs with their notes and replies, the inbound message records (dedupe rows, with media
references and voice replies), form drafts, channel state (numbered options, voice prompts) and
Telegram button keys. Cases, bookings, their history and notifications, and the audit log are
*records*: purge keeps them.

:func:`erase` deletes everything held about one person: their row, their cases (owned, or filed
under their phone) with history, reports, bookings and notifications, hand-offs, messages,
drafts, channel state, failed verification attempts, and their Rasa conversations (with their
analytics rows). If they had opted out of SMS, a hashed suppression entry is all that stays
(bot.domain.suppression).

Both delete inside the caller's transaction and write the audit entry there, naming the
``actor`` (phones masked only); the caller commits. A dry run (:func:`dry_run_purge`) and an
erasure asked for but not done (:func:`erase_refused`, after :func:`preview_erase` or an
unknown sender) are audited too, each in a transaction of its own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, false, func, or_, select, update
from sqlalchemy.orm import Session

from bot.domain import audit, drafts, people, suppression
from bot.domain.phones import looks_like_phone, mask, to_e164
from bot.store.db import rolled_back, session_scope
from bot.store.models import (
    Booking,
    Case,
    CaseEvent,
    ChannelState,
    ConversationEvent,
    DeliveryReceipt,
    FormDraft,
    Handoff,
    HandoffNote,
    HeldMessage,
    InboundMessage,
    OutboxMessage,
    Person,
    ProblemReport,
    TelegramCallback,
    VerificationAttempt,
    utcnow,
)
from bot.store.tracker_events import events, has_events_table

OPEN_HANDOFF = Handoff.status != "resolved"  # waiting or active: never purged


def _delete(session: Session, statement: Any) -> int:
    result = session.execute(statement.execution_options(synchronize_session=False))
    return result.rowcount or 0


# --- purge -------------------------------------------------------------------------------------


def cutoff_for(older_than: dt.timedelta) -> dt.datetime:
    return utcnow() - older_than


def audit_counts(counts: dict[str, int]) -> dict[str, int]:
    """'hand-off notes' -> 'handoff_notes': the audit entry's keys."""
    return {name.replace("-", "").replace(" ", "_"): n for name, n in counts.items()}


def _audit_purge(session: Session, actor: str, older_than: dt.timedelta,
                 counts: dict[str, int], dry_run: bool) -> None:
    audit.record(session, actor, "retention.purge", None, older_than_days=older_than.days,
                 dry_run=dry_run, **audit_counts(counts))


def purge(session: Session, older_than: dt.timedelta, *, actor: str) -> dict[str, int]:
    """Delete transcripts older than ``older_than``; return the counts, by kind.

    A conversation goes whole, when its *last* event is older than the age, and never while
    its sender has an open hand-off; a hand-off goes when it was closed before the age.
    """
    counts = _purge(session, older_than)
    _audit_purge(session, actor, older_than, counts, dry_run=False)
    return counts


def dry_run_purge(older_than: dt.timedelta, *, actor: str) -> dict[str, int]:
    """What :func:`purge` would delete, counted in a transaction that is rolled back."""
    with rolled_back() as session:
        counts = _purge(session, older_than)
    with session_scope() as session:
        _audit_purge(session, actor, older_than, counts, dry_run=True)
    return counts


def _purge(session: Session, older_than: dt.timedelta) -> dict[str, int]:
    cutoff = cutoff_for(older_than)
    counts: dict[str, int] = {}
    counts["conversations"], counts["conversation events"] = _purge_conversations(session,
                                                                                  cutoff)
    counts["analytics events"] = _delete(session, delete(ConversationEvent).where(
        ConversationEvent.timestamp < cutoff.replace(tzinfo=dt.timezone.utc).timestamp()))
    closed = select(Handoff.id).where(
        Handoff.status == "resolved",
        func.coalesce(Handoff.closed_at, Handoff.created_at) < cutoff)
    counts["hand-off notes"] = _delete(session, delete(HandoffNote).where(
        HandoffNote.handoff_id.in_(closed)))
    counts["hand-offs"] = _delete(session, delete(Handoff).where(Handoff.id.in_(closed)))
    counts["inbound messages"] = _delete(session, delete(InboundMessage).where(
        InboundMessage.received_at < cutoff))
    counts["form drafts"] = drafts.purge(session, older_than)
    counts["channel states"] = _delete(session, delete(ChannelState).where(
        ChannelState.updated_at < cutoff))
    counts["telegram button keys"] = _delete(session, delete(TelegramCallback).where(
        TelegramCallback.created_at < cutoff))
    counts["held-back SMS"] = _delete(session, delete(HeldMessage).where(
        HeldMessage.at < cutoff))
    counts["delivery receipts"] = _delete(session, delete(DeliveryReceipt).where(
        DeliveryReceipt.updated_at < cutoff))
    return counts


def _purge_conversations(session: Session, cutoff: dt.datetime) -> tuple[int, int]:
    """(conversations, events) deleted from Rasa's tracker store."""
    if not has_events_table(session):
        return 0, 0
    seconds = cutoff.replace(tzinfo=dt.timezone.utc).timestamp()
    stale = (select(events.c.sender_id)
             .where(events.c.sender_id.not_in(select(Handoff.sender_id).where(OPEN_HANDOFF)))
             .group_by(events.c.sender_id)
             .having(func.max(events.c.timestamp) < seconds))
    conversations = session.scalar(select(func.count()).select_from(stale.subquery())) or 0
    if not conversations:
        return 0, 0
    return conversations, _delete(session, delete(events).where(events.c.sender_id.in_(stale)))


# --- erase -------------------------------------------------------------------------------------


class UnknownSender(LookupError):
    """Nothing is held under the sender id given to :func:`erase`."""

    def __init__(self, label: str) -> None:
        super().__init__(f"nobody is known as {label}")
        self.label = label  # masked


@dataclass
class Erasure:
    """What :func:`erase` found and deleted."""

    label: str  # the sender, masked: safe to print and to audit
    person_id: int | None
    phone: str | None
    sender_ids: list[str]
    counts: dict[str, int] = field(default_factory=dict)
    suppressed: bool = False  # a hashed opt-out suppression entry is kept


def resolve(session: Session, sender: str) -> tuple[Person | None, str | None, set[str]]:
    """The person behind ``sender`` (E.164 phone, possibly unformatted; ``tg:<id>``; or an
    external id), their phone, and every Rasa sender id that is theirs."""
    raw = sender.strip()
    person = people.find(session, raw)
    phone = to_e164(raw) if looks_like_phone(raw) else None  # "+1 555 010-0001", "5550100001"
    if person is None and phone:
        person = people.find(session, phone)
    sender_ids = {raw}
    if person is not None:
        phone = person.phone
        if person.telegram_user_id:
            sender_ids.add(people.telegram_sender_id(person.telegram_user_id))
        if person.external_id:
            sender_ids.add(person.external_id)
    if phone:
        sender_ids.add(phone)
    return person, phone, sender_ids


def masked(sender: str) -> str:
    """A sender id safe for output and the audit log: '+1•••••••001', 'tg:1•••••789'."""
    if sender.startswith(people.TELEGRAM_PREFIX):
        return people.TELEGRAM_PREFIX + mask(sender[len(people.TELEGRAM_PREFIX):])
    return mask(sender)


def erase(session: Session, sender: str, *, actor: str) -> Erasure:
    """Delete everything held about the person behind ``sender``.

    Raises :class:`UnknownSender` when there is no such person and nothing is filed under
    the sender id (no case under that phone, no hand-off, no conversation).
    """
    erasure = _erase(session, sender)
    audit.record(session, actor, "retention.erase", erasure.label, outcome="erased",
                 opt_out_suppression_kept=erasure.suppressed, **audit_counts(erasure.counts))
    return erasure


def preview_erase(sender: str) -> Erasure:
    """What :func:`erase` would delete (in a transaction that is rolled back)."""
    with rolled_back() as session:
        return _erase(session, sender)


def erase_refused(label: str, why: str, *, actor: str) -> None:
    """Audit an erasure that was asked for and not done (``label``: the sender, masked)."""
    with session_scope() as session:
        audit.record(session, actor, "retention.erase", label, outcome=why)


def _erase(session: Session, sender: str) -> Erasure:
    person, phone, sender_ids = resolve(session, sender)
    person_id = person.id if person is not None else None
    opted_out = bool(person is not None and person.sms_opted_out)
    label = masked(phone or sender.strip())
    erasure = Erasure(label=label, person_id=person_id, phone=phone,
                      sender_ids=sorted(sender_ids))
    ids = list(sender_ids)

    def of_person(model: Any) -> Any:
        return model.person_id == person_id if person_id is not None else false()

    cases = select(Case.id).where(or_(of_person(Case), Case.phone == phone if phone else false()))
    handoffs = select(Handoff.id).where(or_(Handoff.sender_id.in_(ids), of_person(Handoff)))

    counts = erasure.counts
    counts["case history"] = _delete(session, delete(CaseEvent).where(
        CaseEvent.case_id.in_(cases)))
    counts["problem reports"] = _delete(session, delete(ProblemReport).where(
        ProblemReport.case_id.in_(cases)))
    # A contact phone given on someone else's report: the report stays, the number goes.
    counts["report contact phones"] = (session.execute(
        update(ProblemReport).where(ProblemReport.contact_phone == phone)
        .values(contact_phone=None).execution_options(synchronize_session=False)).rowcount
        or 0) if phone else 0
    counts["bookings"] = _delete(session, delete(Booking).where(
        or_(Booking.case_id.in_(cases), of_person(Booking))))
    counts["notifications"] = _delete(session, delete(OutboxMessage).where(
        or_(OutboxMessage.case_id.in_(cases), of_person(OutboxMessage))))
    counts["cases"] = _delete(session, delete(Case).where(Case.id.in_(cases)))
    counts["held-back SMS"] = _delete(session, delete(HeldMessage).where(
        HeldMessage.recipient == phone)) if phone else 0
    counts["hand-off notes"] = _delete(session, delete(HandoffNote).where(
        HandoffNote.handoff_id.in_(handoffs)))
    counts["hand-offs"] = _delete(session, delete(Handoff).where(Handoff.id.in_(handoffs)))
    for name, model in (("inbound messages", InboundMessage), ("form drafts", FormDraft),
                        ("channel states", ChannelState),
                        ("verification attempts", VerificationAttempt)):
        counts[name] = _delete(session, delete(model).where(of_person(model)))
    counts["conversations"], counts["conversation events"] = _erase_conversations(session, ids)
    counts["analytics events"] = _delete(session, delete(ConversationEvent).where(
        ConversationEvent.sender_id.in_(ids)))
    counts["people"] = _delete(session, delete(Person).where(Person.id == person_id)) \
        if person_id is not None else 0

    if person_id is None and not any(counts.values()):
        raise UnknownSender(label)
    if phone and opted_out:
        suppression.add(session, phone)
        erasure.suppressed = True
    elif phone and person_id is not None:
        # They had opted back in (or never opted out): no trace of the number may stay.
        suppression.remove(session, phone)
    if person is not None:
        session.expunge(person)
    session.flush()
    return erasure


def _erase_conversations(session: Session, sender_ids: list[str]) -> tuple[int, int]:
    if not has_events_table(session):
        return 0, 0
    conversations = session.scalar(select(func.count(func.distinct(events.c.sender_id)))
                                   .where(events.c.sender_id.in_(sender_ids))) or 0
    return conversations, _delete(session, delete(events).where(
        events.c.sender_id.in_(sender_ids)))
