"""Hand-offs from the assistant to call-centre staff (SPEC §5.6): state, queue, staff actions.

A hand-off is ``waiting`` until an agent claims it (``active``), then ``resolved`` — either
handed back to the bot (resolution ``released``) or closed (``resolved``). A person has at most
one open (waiting or active) hand-off; asking again updates it.

While staff are on duty the conversation is *paused* (Rasa's own pause: the bot says nothing,
the citizen's messages still reach the transcript). Outside staffed hours the hand-off is a
call-back request: the bot keeps helping and the agent who claims it later pauses it then. A
voice caller is put through to the call centre (``<Dial>``) instead, so a voice hand-off never
pauses the conversation by itself.

Rasa and HTTP live elsewhere: the action server opens hand-offs, the console and the API
change them and append the matching events to the tracker. Each operation here writes its own
audit entry (SPEC §8), naming the ``actor`` its caller passes; the transcript staff read is
built by :mod:`bot.callcentre.transcript`.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.callcentre import staff, staffed_hours
from bot.domain import audit, people
from bot.language.detect import DEFAULT, SUPPORTED
from bot.language.i18n import normalise
from bot.messaging import receipts
from bot.store import pages
from bot.store.models import (
    HANDOFF_REASONS,
    HANDOFF_STATUSES,
    CannedReply,
    Handoff,
    HandoffNote,
    StaffUser,
    utcnow,
)

OPEN = ("waiting", "active")
DEFAULT_HANDLING_MINUTES = 6.0
MIN_WAIT_MINUTES = 2  # never promise "about 1 minute": people wait at least that long
HANDLING_SAMPLE = 20
HANDLING_WINDOW = dt.timedelta(days=7)
MAX_TEXT = 1600  # an agent reply: ten SMS segments at most
ASSISTANT = "assistant"  # who the action server's changes are audited as

# Where a reply to a hand-off goes: a voice caller gets an SMS on the same phone; the REST
# channel (development) lets the outbound module pick from what it knows about the person.
DELIVERY_CHANNELS = {"sms": "sms", "telegram": "telegram", "voice": "sms",
                     "whatsapp": "whatsapp", "ussd": "sms"}


class HandoffError(ValueError):
    """A hand-off request is wrong (the message says why)."""


class HandoffConflict(HandoffError):
    """The request does not fit the hand-off's state (the API answers 409)."""


class HandoffClosed(HandoffConflict):
    """The hand-off is already resolved."""


class WithStaff(HandoffConflict):
    """The person is with staff: a task cannot be started with the bot for them now."""


@dataclass(frozen=True)
class Outcome:
    """What :func:`request` did, for the citizen's answer."""

    handoff: Handoff
    created: bool
    staffed: bool
    position: int = 0
    wait_minutes: int = 0
    back_at: dt.datetime | None = None  # local time staff are back, when not staffed


def open_for(session: Session, sender_id: str) -> Handoff | None:
    """The sender's waiting or active hand-off, if any."""
    return session.scalar(select(Handoff).where(Handoff.sender_id == sender_id,
                                                Handoff.status.in_(OPEN))
                          .order_by(Handoff.id.desc()))


def get(session: Session, handoff_id: int) -> Handoff | None:
    return session.get(Handoff, handoff_id)


def view(session: Session, handoff_id: int, *, actor: str) -> Handoff | None:
    """The hand-off a staff member opens to read, personal data and all: who read which
    conversation is audited (the page's live refreshes use :func:`get`)."""
    audit.record(session, actor, "handoff.view", str(handoff_id))
    return get(session, handoff_id)


def request(session: Session, sender_id: str, *, channel: str | None, language: str,
            reason: str = "request_human", urgent: bool = False,
            local_now: dt.datetime | None = None, actor: str = ASSISTANT) -> Outcome:
    """Open (or update) the sender's hand-off and decide whether the bot goes quiet."""
    if reason not in HANDOFF_REASONS:
        raise HandoffError(f"unknown hand-off reason {reason!r}")
    local_now = local_now or dt.datetime.now()
    staffed = staffed_hours.is_staffed(session, local_now)
    handoff = open_for(session, sender_id)
    created = handoff is None
    if handoff is None:
        person = people.get_or_create(session, sender_id)
        handoff = Handoff(sender_id=sender_id, person_id=person.id, reason=reason,
                          status="waiting")
        session.add(handoff)
    handoff.channel = channel or handoff.channel
    handoff.language = normalise(language)
    handoff.urgent = bool(handoff.urgent or urgent)
    if urgent:
        handoff.reason = "distress"
    if staffed and channel != "voice":
        handoff.paused = True
    handoff.contact_later = not staffed and handoff.status == "waiting"
    session.flush()
    audit.record(session, actor, "handoff.open" if created else "handoff.update",
                 str(handoff.id), reason=handoff.reason, urgent=handoff.urgent, channel=channel,
                 staffed=staffed)
    if not staffed:
        return Outcome(handoff, created, staffed=False,
                       back_at=staffed_hours.next_opening(session, local_now))
    place = position(session, handoff)
    return Outcome(handoff, created, staffed=True, position=place,
                   wait_minutes=estimated_wait_minutes(session, place))


def mark_urgent(session: Session, handoff: Handoff, *, actor: str = ASSISTANT) -> bool:
    """Flag an open hand-off urgent (distress words while waiting); True if it was not yet."""
    if handoff.urgent:
        return False
    handoff.urgent = True
    session.flush()
    audit.record(session, actor, "handoff.urgent", str(handoff.id))
    return True


def _queue_order() -> tuple:
    return (Handoff.urgent.desc(), Handoff.created_at, Handoff.id)


def position(session: Session, handoff: Handoff) -> int:
    """1 for the next person an agent will take: urgent ones first, then first come."""
    waiting = session.scalars(select(Handoff.id).where(Handoff.status == "waiting")
                              .order_by(*_queue_order())).all()
    return waiting.index(handoff.id) + 1 if handoff.id in waiting else 0


def average_handling_minutes(session: Session, now: dt.datetime | None = None) -> float:
    """Mean minutes from claim to close over the latest hand-offs of the past week."""
    now = now or utcnow()
    rows = session.execute(
        select(Handoff.claimed_at, Handoff.closed_at)
        .where(Handoff.status == "resolved", Handoff.claimed_at.is_not(None),
               Handoff.closed_at > now - HANDLING_WINDOW)
        .order_by(Handoff.closed_at.desc()).limit(HANDLING_SAMPLE)).all()
    durations = [(closed - claimed).total_seconds() / 60 for claimed, closed in rows
                 if closed and closed >= claimed]
    return sum(durations) / len(durations) if durations else DEFAULT_HANDLING_MINUTES


def estimated_wait_minutes(session: Session, place: int, now: dt.datetime | None = None) -> int:
    """Place in the queue times the average handling time, shared by the staff on duty."""
    agents = max(1, staff.on_duty(session, now))
    estimate = math.ceil(place * average_handling_minutes(session, now) / agents)
    return max(MIN_WAIT_MINUTES, estimate)


def page_order(statuses: tuple[str, ...]) -> list[tuple[Any, bool]]:
    """The queue's order as (column, ascending): waiting before active, urgent first, then
    oldest; resolved alone: most recently closed first (the API's and the console's pages)."""
    if statuses == ("resolved",):
        return [(Handoff.closed_at, False), (Handoff.id, False)]
    return [(Handoff.status, False), (Handoff.urgent, False), (Handoff.created_at, True),
            (Handoff.id, True)]


def page_scope(statuses: tuple[str, ...]) -> str:
    return "handoffs:" + ",".join(sorted(statuses))


def page(session: Session, statuses: tuple[str, ...], limit: int, cursor: str | None
         ) -> pages.Page:
    """One page of the hand-offs in ``statuses`` in :func:`page_order` after ``cursor`` (the
    API's cursor: :mod:`bot.store.pages`; a bad one raises :class:`pages.CursorError`)."""
    wrong = set(statuses) - set(HANDOFF_STATUSES)
    if wrong:
        raise HandoffError(f"unknown status: {', '.join(sorted(wrong))}")
    return pages.page(session, select(Handoff).where(Handoff.status.in_(statuses)),
                      page_order(statuses), page_scope(statuses), limit, cursor)


def counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(Handoff.status, Handoff.urgent, func.count())
                           .where(Handoff.status.in_(OPEN))
                           .group_by(Handoff.status, Handoff.urgent)).all()
    result = {"waiting": 0, "active": 0, "urgent": 0}
    for status, urgent, count in rows:
        result[status] += count
        if urgent and status == "waiting":
            result["urgent"] += count
    return result


def require_open(handoff: Handoff) -> None:
    if handoff.status not in OPEN:
        raise HandoffClosed(f"hand-off {handoff.id} is already resolved")


def claim(session: Session, handoff: Handoff, user: StaffUser | None, *, actor: str) -> bool:
    """An agent takes the conversation (or takes it over); returns True if it must be paused.

    ``user`` None is the API acting without a named agent.
    """
    require_open(handoff)
    if handoff.status == "waiting":
        handoff.status = "active"
        handoff.claimed_at = utcnow()
        handoff.contact_later = False
    if user is not None:
        handoff.assignee_id = user.id
        handoff.assignee = user
    must_pause = not handoff.paused
    handoff.paused = True
    session.flush()
    audit.record(session, actor, "handoff.claim", str(handoff.id))
    return must_pause


def close(session: Session, handoff: Handoff, actor: str, resolution: str) -> bool:
    """Hand back to the bot (``released``) or close (``resolved``); True if it was paused."""
    if resolution not in ("released", "resolved"):
        raise HandoffError(f"unknown resolution {resolution!r}")
    require_open(handoff)
    was_paused = handoff.paused
    now = utcnow()
    handoff.status = "resolved"
    handoff.resolution = resolution
    handoff.closed_at = now
    handoff.closed_by = actor[:64]
    handoff.claimed_at = handoff.claimed_at or now
    handoff.paused = False
    handoff.contact_later = False
    session.flush()
    action = "handoff.release" if resolution == "released" else "handoff.resolve"
    audit.record(session, actor, action, str(handoff.id))
    return was_paused


def clean_text(text: Any, what: str = "text", max_length: int = MAX_TEXT) -> str:
    """A reply or note as given, or :class:`HandoffError` saying what is wrong with it."""
    if not isinstance(text, str):
        raise HandoffError(f"the {what} must be text")
    if not text.strip():
        raise HandoffError(f"the {what} is empty")
    if len(text) > max_length:
        raise HandoffError(f"the {what} is longer than {max_length} characters")
    return text.strip()


def add_note(session: Session, handoff: Handoff, author: str, text: str, kind: str = "note",
             delivered: bool | None = None, error: str | None = None) -> HandoffNote:
    note = HandoffNote(handoff_id=handoff.id, author=author[:64], kind=kind,
                       text=clean_text(text, "note" if kind == "note" else "reply"),
                       delivered=delivered, error=error)
    session.add(note)
    session.flush()
    return note


def staff_note(session: Session, handoff: Handoff, text: str, *, actor: str) -> HandoffNote:
    """An internal note by staff (never sent to the citizen)."""
    note = add_note(session, handoff, actor, text)
    audit.record(session, actor, "handoff.note", str(handoff.id))
    return note


def record_reply(session: Session, handoff: Handoff, text: str, *, actor: str) -> HandoffNote:
    """An agent's reply, stored before it is sent so that a failed delivery loses nothing;
    :func:`reply_outcome` records (and audits) how the sending went."""
    require_open(handoff)
    return add_note(session, handoff, actor, text, kind="reply")


def reply_outcome(session: Session, note: HandoffNote, delivered: bool, errors: list[str], *,
                  actor: str, provider_ids: list[str] | None = None) -> None:
    note.delivered = delivered
    note.error = "; ".join(errors) or None
    note.provider_id = ",".join(provider_ids or [])[:255] or None
    audit.record(session, actor, "handoff.reply", str(note.handoff_id), delivered=delivered,
                 error=note.error)


def reply_states(session: Session, handoff: Handoff) -> dict[int, str]:
    """Each delivered reply's delivery state by note id ("delivered", "failed (error 30008)"),
    from the provider's status callbacks (SPEC §6.6); replies without receipts are left out."""
    states = {}
    for note in handoff.notes:
        state = receipts.summary(session, receipts.ids(note.provider_id)) \
            if note.kind == "reply" and note.delivered else None
        if state is not None:
            states[note.id] = str(state)
    return states


def send_to_bot(session: Session, phone: str, task: str, language: str | None, *,
                actor: str) -> str:
    """Staff start ``task`` with the bot for the person at ``phone`` (SPEC §5.6, "staff to
    bot"): refused (:class:`WithStaff`) while the person is with staff. Returns the language
    to use: the one asked for, else the person's own."""
    open_handoff = open_for(session, phone)
    if open_handoff is not None and open_handoff.paused:
        raise WithStaff(f"this person is with staff (hand-off {open_handoff.id}): hand the "
                        "conversation back to the bot first")
    person = people.get_or_create(session, phone)
    chosen = normalise(language or person.language or DEFAULT)
    audit.record(session, actor, "handoff.send_to_bot", f"person:{person.id}", task=task,
                 language=chosen)  # no phone number: the audit log outlives an erasure
    return chosen


def delivery_channel(handoff: Handoff) -> str | None:
    return DELIVERY_CHANNELS.get(handoff.channel or "")


def canned_replies(session: Session, language: str | None = None) -> list[CannedReply]:
    query = select(CannedReply).order_by(CannedReply.language, CannedReply.id)
    if language:
        query = query.where(CannedReply.language == normalise(language))
    return list(session.scalars(query))


def add_canned_reply(session: Session, language: str, title: str, text: str, *,
                     actor: str) -> CannedReply:
    if language not in SUPPORTED:
        raise HandoffError(f"the language must be one of: {', '.join(SUPPORTED)}")
    reply = CannedReply(language=language, title=clean_text(title, "title", 80),
                        text=clean_text(text))
    session.add(reply)
    session.flush()
    audit.record(session, actor, "canned.add", str(reply.id), language=language)
    return reply


def remove_canned_reply(session: Session, reply_id: int, *, actor: str) -> bool:
    reply = session.get(CannedReply, reply_id)
    if reply is None:
        return False
    session.delete(reply)
    session.flush()
    audit.record(session, actor, "canned.remove", str(reply_id))
    return True


def iso(moment: dt.datetime | None) -> str | None:
    """A stored (naive UTC) time as ISO 8601 with a Z."""
    return moment.replace(microsecond=0).isoformat() + "Z" if moment else None


def to_json(handoff: Handoff, now: dt.datetime | None = None) -> dict[str, Any]:
    now = now or utcnow()
    return {
        "id": handoff.id,
        "sender_id": handoff.sender_id,
        "channel": handoff.channel,
        "language": handoff.language,
        "reason": handoff.reason,
        "urgent": handoff.urgent,
        "status": handoff.status,
        "waiting_since": iso(handoff.created_at),
        "waiting_seconds": int(((handoff.claimed_at or now) - handoff.created_at)
                               .total_seconds()),
        "contact_later": handoff.contact_later,
        "assignee": handoff.assignee.username if handoff.assignee else None,
        "claimed_at": iso(handoff.claimed_at),
        "closed_at": iso(handoff.closed_at),
        "resolution": handoff.resolution,
    }
