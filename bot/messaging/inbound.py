"""What the channels keep in the database about incoming messages (SPEC §6).

* **Dedupe that loses nothing**: :func:`claim` inserts a unique (channel, external id) row in
  its own committed transaction *before* anything is processed, so a provider's retry or a
  replay reaching any replica is recognised. The row keeps the message's state: ``claimed``
  while a turn runs (a lease, ``claimed_until``), ``answered`` with the reply (a retry gets the
  same reply, not a second turn) or ``failed`` (the turn did not happen: a retry runs it). A
  claim whose process died (its lease ran out) is taken again, so a crash loses nothing.
* **MENU** on every medium (:func:`is_menu`); SMS's own keywords (STOP, START, HELP) are
  :mod:`bot.messaging.sms.keywords`.
* **Numbered options**: what "1", "2", … mean for this person on this channel, from the last
  bot turn that channel rendered (:class:`bot.store.models.ChannelState`).
* **User text hygiene**: control characters out, a length cap, and no leading ``/``, which Rasa
  would read as an intent with entities (only buttons and channel commands send payloads).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from bot.config import tunable
from bot.language.detect import fold
from bot.store.db import session_scope
from bot.store.models import ChannelState, InboundMessage, Person, utcnow

logger = logging.getLogger(__name__)
SMS, TELEGRAM, VOICE, WHATSAPP, USSD = "sms", "telegram", "voice", "whatsapp", "ussd"
MAX_TEXT = 2000

# --- dedupe ----------------------------------------------------------------------------------


CLAIMED, ANSWERED, FAILED = "claimed", "answered", "failed"  # InboundMessage.state
NEW, BUSY = "new", "busy"  # the other outcomes of a claim


@dataclass(frozen=True)
class Claim:
    """What :func:`claim` found. ``outcome``: ``new`` (this request runs the turn), ``busy``
    (another request runs it now), ``answered`` (``reply`` was answered already). ``seen``
    counts the requests for this message so far, a bound for replays."""

    outcome: str
    reply: str | None = None
    seen: int = 1

    @property
    def ours(self) -> bool:
        return self.outcome == NEW


def lease() -> dt.timedelta:
    """How long a claimed turn may run before a retry takes it over (its process died).

    Longer than any turn: a webhook answers within Twilio's 15 s and the turn it leaves
    behind finishes or fails well within this."""
    return dt.timedelta(seconds=tunable("CIVICLINE_INBOUND_LEASE_SECONDS", 60))


def claim(channel: str, external_id: str, media: list[dict[str, Any]] | None = None) -> Claim:
    """Claim ``external_id`` on ``channel`` for this request (in its own committed transaction).

    A first arrival, a retry of a message whose turn failed, or one whose claim's lease ran
    out is ours to process; a message being answered now is busy; an answered one gives its
    reply. Database errors propagate: nothing was claimed, the caller says so.
    """
    external_id = external_id[:128]
    try:
        with session_scope() as session:
            session.add(InboundMessage(channel=channel, external_id=external_id,
                                       media=media or None, state=CLAIMED,
                                       claimed_until=utcnow() + lease(), seen=1))
        return Claim(NEW)
    except IntegrityError:
        pass
    with session_scope() as session:
        now = utcnow()
        key = (InboundMessage.channel == channel, InboundMessage.external_id == external_id)
        taken = session.execute(
            update(InboundMessage)
            .where(*key, or_(InboundMessage.state == FAILED,
                             and_(InboundMessage.state == CLAIMED,
                                  InboundMessage.claimed_until < now)))
            .values(state=CLAIMED, claimed_until=now + lease(), seen=InboundMessage.seen + 1)
            .execution_options(synchronize_session=False)).rowcount == 1
        if not taken:
            session.execute(update(InboundMessage).where(*key)
                            .values(seen=InboundMessage.seen + 1)
                            .execution_options(synchronize_session=False))
        row = _row(session, channel, external_id)
        if taken:
            return Claim(NEW, seen=row.seen)
        if row.state == ANSWERED:
            return Claim(ANSWERED, reply=row.reply, seen=row.seen)
        return Claim(BUSY, seen=row.seen)


def answered(channel: str, external_id: str, reply: str) -> None:
    """The turn is done and ``reply`` was answered: a retry gets it again."""
    with session_scope() as session:
        session.execute(update(InboundMessage)
                        .where(InboundMessage.channel == channel,
                               InboundMessage.external_id == external_id[:128])
                        .values(state=ANSWERED, reply=reply, claimed_until=None)
                        .execution_options(synchronize_session=False))


def release(channel: str, external_id: str) -> bool:
    """The turn failed: not processed, a retry runs it again. Best effort (the database may be
    what failed; then the lease hands the message to a retry later); True if recorded."""
    try:
        with session_scope() as session:
            session.execute(update(InboundMessage)
                            .where(InboundMessage.channel == channel,
                                   InboundMessage.external_id == external_id[:128],
                                   InboundMessage.state == CLAIMED)
                            .values(state=FAILED, claimed_until=None)
                            .execution_options(synchronize_session=False))
        return True
    except SQLAlchemyError as exc:
        logger.warning("inbound: %s %s not released (%s); its lease will", channel,
                       external_id[:16], type(exc).__name__)
        return False


def _row(session: Session, channel: str, external_id: str) -> InboundMessage | None:
    return session.scalar(select(InboundMessage).where(
        InboundMessage.channel == channel, InboundMessage.external_id == external_id[:128]))


def record(session: Session, channel: str, external_id: str, person: Person) -> None:
    """Attach the person to a claimed message."""
    row = _row(session, channel, external_id)
    if row is not None:
        row.person_id = person.id


def reply_of(channel: str, external_id: str) -> str | None:
    """The reply a message was answered with (None: not answered yet, or unknown)."""
    with session_scope() as session:
        row = _row(session, channel, external_id)
        return row.reply if row is not None and row.state == ANSWERED else None


def owner_of(session: Session, channel: str, external_id: str) -> int | None:
    """The person a claimed message was recorded for (None: unknown message, or no one yet)."""
    row = _row(session, channel, external_id)
    return row.person_id if row is not None else None


def last_channel(session: Session, person: Person) -> str | None:
    """The channel this person last wrote or called on."""
    return session.scalar(select(InboundMessage.channel)
                          .where(InboundMessage.person_id == person.id)
                          .order_by(InboundMessage.id.desc()).limit(1))


def last_received(session: Session, person: Person, channel: str) -> dt.datetime | None:
    """When this person's last message on ``channel`` arrived (None: never)."""
    return session.scalar(select(InboundMessage.received_at)
                          .where(InboundMessage.person_id == person.id,
                                 InboundMessage.channel == channel)
                          .order_by(InboundMessage.received_at.desc()).limit(1))


# --- MENU, on every medium (SPEC §4, §5.4) ----------------------------------------------------

MENU_WORDS = frozenset({"menu"})
MENU_PAYLOAD = "/cancel"  # the `cancel` intent's rule leaves any form and shows the menu
_EDGE_PUNCTUATION = " \t\r\n.!¡?¿,;:'\"()"


def bare(text: str) -> str:
    """The message folded (lower case, no accents) without edge punctuation: "Stop!" -> "stop"."""
    return fold(text or "").strip(_EDGE_PUNCTUATION)


def is_menu(text: str) -> bool:
    """A bare MENU: leave whatever form is running and show the menu (SPEC §4, §5.4)."""
    return bare(text) in MENU_WORDS


# --- numbered options and voice prompt -------------------------------------------------------


def state(session: Session, person: Person, channel: str) -> ChannelState:
    """This person's state on ``channel`` (created empty)."""
    row = session.scalar(select(ChannelState).where(ChannelState.person_id == person.id,
                                                    ChannelState.channel == channel))
    if row is None:
        row = ChannelState(person_id=person.id, channel=channel, options=[])
        session.add(row)
        session.flush()
    return row


def options(session: Session, person: Person, channel: str) -> list[tuple[str, str]]:
    return [(str(t), str(p)) for t, p in state(session, person, channel).options or []]


def remember(session: Session, person: Person, channel: str,
             offered: Sequence[tuple[str, str]], prompt: list[dict[str, Any]] | None = None
             ) -> None:
    """Remember the options the last turn offered (and, for voice, the prompt itself)."""
    row = state(session, person, channel)
    row.options = [list(option) for option in offered]
    if prompt is not None:
        row.prompt = prompt
    row.updated_at = utcnow()


# --- user text -------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def user_text(raw: str | None, limit: int = MAX_TEXT) -> str:
    """What a person typed, safe to hand to Rasa as text: no control characters, at most
    ``limit`` characters, and no leading "/" (Rasa would parse "/intent{...}" as a command)."""
    text = _CONTROL.sub(" ", raw or "").strip()[:limit]
    return text.lstrip("/").strip()
