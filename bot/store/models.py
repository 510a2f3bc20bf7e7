"""SQLAlchemy models: the whole of CivicLine's own data (Rasa's tracker store sits beside it).

Texts shown to citizens in several languages are JSON objects keyed by language code
(``{"en": "...", "es": "...", "fr": "...", "ar": "..."}``); :func:`bot.language.i18n.pick` reads
them.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import declarative_base, relationship

Base = declarative_base()


def utcnow() -> dt.datetime:
    """Timezone-naive UTC now: what every timestamp column stores."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


CASE_STATUSES = ("received", "in_review", "needs_information", "approved", "rejected", "completed")
SERVICE_STATUSES = ("operational", "disrupted", "down", "maintenance")


class Person(Base):
    """A citizen, known by phone number and/or Telegram user, with their sticky language."""

    __tablename__ = "people"

    id = Column(Integer, primary_key=True)
    phone = Column(String(20), unique=True, nullable=True)  # E.164
    telegram_user_id = Column(String(32), unique=True, nullable=True)
    external_id = Column(String(128), unique=True, nullable=True)  # other channels (REST, web)
    phone_verified = Column(Boolean, nullable=False, default=False)  # e.g. Telegram shared contact
    language = Column(String(2), nullable=True)
    language_explicit = Column(Boolean, nullable=False, default=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)
    # SMS opt-out (SPEC §6.1): STOP and its kin set it, START/UNSTOP/YES clear it. While set,
    # nothing is sent to this person by SMS (bot.messaging.outbound) and their texts go unanswered.
    sms_opted_out = Column(Boolean, nullable=False, default=False, server_default=false())
    sms_opted_out_at = Column(DateTime, nullable=True)


class Service(Base):
    """A public service whose running status citizens ask about (SPEC §5.2)."""

    __tablename__ = "services"

    id = Column(Integer, primary_key=True)
    slug = Column(String(64), unique=True, nullable=False)
    names = Column(JSON, nullable=False)  # {lang: name}
    keywords = Column(JSON, nullable=False, default=dict)  # {lang: [word, ...]} for matching
    status = Column(String(16), nullable=False, default="operational")
    message = Column(JSON, nullable=False, default=dict)  # {lang: text}
    updated_at = Column(DateTime, nullable=False, default=utcnow)
    retired_at = Column(DateTime, nullable=True)  # retired: kept for its cases, never offered


office_services = Table(
    "office_services",
    Base.metadata,
    Column("office_id", ForeignKey("offices.id", ondelete="CASCADE"), primary_key=True),
    Column("service_id", ForeignKey("services.id", ondelete="CASCADE"), primary_key=True),
)


class Office(Base):
    """A public office with weekly hours, holidays and the services it offers (SPEC §5.3)."""

    __tablename__ = "offices"

    id = Column(Integer, primary_key=True)
    slug = Column(String(64), unique=True, nullable=False)
    names = Column(JSON, nullable=False)
    address = Column(String(255), nullable=False)
    phone = Column(String(20), nullable=True)
    keywords = Column(JSON, nullable=False, default=dict)  # {lang: [other names people use]}
    # {"0": [["09:00", "17:00"]], ..., "6": []}: Monday is "0"; several ranges allowed.
    hours = Column(JSON, nullable=False, default=dict)
    # Desks serving appointments in each slot; None: CIVICLINE_DESKS_PER_SLOT (bot.domain.bookings).
    desks = Column(Integer, nullable=True)
    retired_at = Column(DateTime, nullable=True)  # retired: kept for its bookings, never offered
    services = relationship("Service", secondary=office_services, lazy="selectin")
    holidays = relationship(
        "OfficeHoliday", back_populates="office", lazy="selectin", cascade="all, delete-orphan"
    )


class OfficeHoliday(Base):
    __tablename__ = "office_holidays"
    __table_args__ = (UniqueConstraint("office_id", "day"),)

    id = Column(Integer, primary_key=True)
    office_id = Column(ForeignKey("offices.id", ondelete="CASCADE"), nullable=False)
    day = Column(Date, nullable=False)
    names = Column(JSON, nullable=False, default=dict)
    office = relationship("Office", back_populates="holidays")


class DigitalPlace(Base):
    """Free internet/computer access or a digital-skills class (SPEC §5.5)."""

    __tablename__ = "digital_places"

    id = Column(Integer, primary_key=True)
    slug = Column(String(64), unique=True, nullable=False)
    kind = Column(String(16), nullable=False)  # "access" (internet/computers) or "class"
    names = Column(JSON, nullable=False)
    address = Column(String(255), nullable=False)
    when = Column(JSON, nullable=False, default=dict)  # {lang: "Mon-Fri 9-6"}
    retired_at = Column(DateTime, nullable=True)  # retired: never offered


class DigitalGuide(Base):
    """Step-by-step help with one common portal task, per language."""

    __tablename__ = "digital_guides"

    id = Column(Integer, primary_key=True)
    slug = Column(String(64), unique=True, nullable=False)
    titles = Column(JSON, nullable=False)
    keywords = Column(JSON, nullable=False, default=dict)  # {lang: [word, ...]}
    steps = Column(JSON, nullable=False)  # {lang: [step, ...]}
    retired_at = Column(DateTime, nullable=True)  # retired: never offered


class Case(Base):
    """A citizen's application or request, known by its 8-digit Luhn reference (SPEC §5.1)."""

    __tablename__ = "cases"

    id = Column(Integer, primary_key=True)
    reference = Column(String(8), unique=True, nullable=False)
    service_id = Column(ForeignKey("services.id"), nullable=False)
    status = Column(String(24), nullable=False)
    phone = Column(String(20), nullable=True, index=True)
    # HMAC-SHA256 of the ISO date of birth under CIVICLINE_DOB_KEY (bot/cases.dob_hash): the
    # date itself is never stored (SPEC §8).
    date_of_birth_hash = Column(String(64), nullable=True)
    language = Column(String(2), nullable=False, default="en")
    # What the case waits for, {language: text} (bot/domain/case_detail.py; migration 0010).
    detail = Column(JSON(none_as_null=True), nullable=True)
    person_id = Column(ForeignKey("people.id", ondelete="SET NULL"), nullable=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)
    service = relationship("Service", lazy="joined")
    events = relationship(
        "CaseEvent", back_populates="case", order_by="CaseEvent.id", cascade="all, delete-orphan"
    )


class CaseEvent(Base):
    """One status change of a case (the history; notifications hang off it later)."""

    __tablename__ = "case_events"

    id = Column(Integer, primary_key=True)
    case_id = Column(ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True)
    from_status = Column(String(24), nullable=True)
    to_status = Column(String(24), nullable=False)
    note = Column(Text, nullable=True)
    actor = Column(String(64), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    case = relationship("Case", back_populates="events")


class VerificationAttempt(Base):
    """Failed ownership checks of one reference by one person, and the lock they lead to."""

    __tablename__ = "verification_attempts"
    __table_args__ = (UniqueConstraint("person_id", "reference"),)

    id = Column(Integer, primary_key=True)
    person_id = Column(ForeignKey("people.id", ondelete="CASCADE"), nullable=False)
    reference = Column(String(8), nullable=False)
    failures = Column(Integer, nullable=False, default=0)
    locked_until = Column(DateTime, nullable=True)
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)


class VerificationFailure(Base):
    """One failed date-of-birth attempt, kept a day: failures are counted per reference across
    every sender and per sender across every reference (SPEC §5.1, bot/domain/cases.py)."""

    __tablename__ = "verification_failures"

    id = Column(Integer, primary_key=True)
    reference = Column(String(8), nullable=False, index=True)
    person_id = Column(ForeignKey("people.id", ondelete="CASCADE"), nullable=False, index=True)
    created_at = Column(DateTime, nullable=False, default=utcnow, index=True)


class AuditEntry(Base):
    """Append-only record of every staff action and API write (SPEC §8)."""

    __tablename__ = "audit_log"

    id = Column(Integer, primary_key=True)
    at = Column(DateTime, nullable=False, default=utcnow, index=True)
    actor = Column(String(64), nullable=False)
    action = Column(String(64), nullable=False)
    target = Column(String(128), nullable=True)
    detail = Column(JSON, nullable=False, default=dict)
    # The hash chain (bot.domain.audit): the previous entry's hash and this entry's own.
    prev_hash = Column(String(64), nullable=True)
    hash = Column(String(64), nullable=True)


class AuditChainHead(Base):
    """The audit chain's head: the last entry's id and hash. Its one row is also the lock that
    serialises appends (bot.domain.audit.record updates it first)."""

    __tablename__ = "audit_chain_head"

    id = Column(Integer, primary_key=True, autoincrement=False)
    last_id = Column(Integer, nullable=False, default=0)
    last_hash = Column(String(64), nullable=False)


# --- Hand-off to a person and the staff console (SPEC §5.6, §7) --------------------------------

STAFF_ROLES = ("agent", "admin")
HANDOFF_STATUSES = ("waiting", "active", "resolved")
HANDOFF_REASONS = ("request_human", "fallback", "voice_no_input", "distress")


class StaffUser(Base):
    """A call-centre agent or administrator who logs in to the console."""

    __tablename__ = "staff_users"

    id = Column(Integer, primary_key=True)
    username = Column(String(64), unique=True, nullable=False)
    password_hash = Column(String(255), nullable=False)  # argon2id, never the password
    role = Column(String(16), nullable=False, default="agent")
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    last_login_at = Column(DateTime, nullable=True)


class StaffSession(Base):
    """A console login: the cookie holds a random token, the database only its keyed hash."""

    __tablename__ = "staff_sessions"

    id = Column(Integer, primary_key=True)
    token_hash = Column(String(64), unique=True, nullable=False)
    staff_id = Column(ForeignKey("staff_users.id", ondelete="CASCADE"), nullable=False,
                      index=True)
    csrf_token = Column(String(64), nullable=False)
    ip = Column(String(64), nullable=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    last_seen_at = Column(DateTime, nullable=False, default=utcnow)
    expires_at = Column(DateTime, nullable=False)
    staff = relationship("StaffUser", lazy="joined")


class StaffLoginFailure(Base):
    """One refused console login, counted per account, per address and per trusted device for
    throttling (bot.callcentre.staff)."""

    __tablename__ = "staff_login_failures"

    id = Column(Integer, primary_key=True)
    username = Column(String(64), nullable=False, index=True)
    ip = Column(String(64), nullable=False, index=True)
    at = Column(DateTime, nullable=False, default=utcnow)
    # The trusted-device id when the attempt carried a valid device cookie, else NULL.
    device = Column(String(32), nullable=True, index=True)


class Handoff(Base):
    """A conversation handed from the assistant to a person: waiting, active, then resolved.

    ``paused`` says whether the Rasa conversation is paused (the bot silent) for it; outside
    staffed hours a hand-off is a call-back request and the bot keeps helping until an agent
    claims it. ``resolution`` tells how it ended: ``released`` (back to the bot) or ``resolved``.
    """

    __tablename__ = "handoffs"

    id = Column(Integer, primary_key=True)
    sender_id = Column(String(128), nullable=False, index=True)
    person_id = Column(ForeignKey("people.id", ondelete="SET NULL"), nullable=True)
    channel = Column(String(16), nullable=True)
    language = Column(String(2), nullable=False, default="en")
    reason = Column(String(24), nullable=False, default="request_human")
    urgent = Column(Boolean, nullable=False, default=False)
    status = Column(String(16), nullable=False, default="waiting", index=True)
    paused = Column(Boolean, nullable=False, default=False)
    contact_later = Column(Boolean, nullable=False, default=False)
    assignee_id = Column(ForeignKey("staff_users.id", ondelete="SET NULL"), nullable=True)
    created_at = Column(DateTime, nullable=False, default=utcnow, index=True)
    claimed_at = Column(DateTime, nullable=True)
    closed_at = Column(DateTime, nullable=True)
    closed_by = Column(String(64), nullable=True)
    resolution = Column(String(16), nullable=True)
    assignee = relationship("StaffUser", lazy="joined")
    person = relationship("Person", lazy="joined")
    notes = relationship("HandoffNote", back_populates="handoff", order_by="HandoffNote.id",
                         cascade="all, delete-orphan")


class HandoffNote(Base):
    """An internal note, or an agent's reply to the citizen with its delivery outcome."""

    __tablename__ = "handoff_notes"

    id = Column(Integer, primary_key=True)
    handoff_id = Column(ForeignKey("handoffs.id", ondelete="CASCADE"), nullable=False,
                        index=True)
    author = Column(String(64), nullable=False)
    kind = Column(String(8), nullable=False, default="note")  # "note" or "reply"
    text = Column(Text, nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    delivered = Column(Boolean, nullable=True)  # replies only
    error = Column(Text, nullable=True)
    # the provider's message id(s) of a delivered reply, comma-joined (its delivery receipts)
    provider_id = Column(String(255), nullable=True)
    handoff = relationship("Handoff", back_populates="notes")


class CannedReply(Base):
    """A ready-made agent reply in one language."""

    __tablename__ = "canned_replies"

    id = Column(Integer, primary_key=True)
    language = Column(String(2), nullable=False, index=True)
    title = Column(String(80), nullable=False)
    text = Column(Text, nullable=False)


class StaffedHours(Base):
    """When the call centre answers, per weekday (Monday is 0), in the server's local time."""

    __tablename__ = "staffed_hours"

    weekday = Column(Integer, primary_key=True, autoincrement=False)
    opens = Column(String(5), nullable=True)  # "08:00"; None: closed all day
    closes = Column(String(5), nullable=True)  # "18:00"; "24:00" is midnight


class StaffHoliday(Base):
    """A day the call centre is closed."""

    __tablename__ = "staff_holidays"

    id = Column(Integer, primary_key=True)
    day = Column(Date, unique=True, nullable=False)
    name = Column(String(120), nullable=False, default="")


# --- Channels: SMS, Telegram and voice (SPEC §6) -----------------------------------------------


class InboundMessage(Base):
    """One message or call step a provider delivered: the dedupe record (SPEC §6).

    The row is inserted *before* the message is processed, and (channel, external_id) is
    unique, so a provider's retry, a replay or a second replica never processes it twice.
    Its ``state`` follows the message: ``claimed`` (a turn runs, until ``claimed_until``),
    ``answered`` (``reply`` is what was answered, given again to a retry) or ``failed`` (not
    processed: a retry runs the turn again); see :mod:`bot.messaging.inbound`.
    """

    __tablename__ = "inbound_messages"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id = Column(Integer, primary_key=True)
    channel = Column(String(16), nullable=False)
    external_id = Column(String(128), nullable=False)  # MessageSid, CallSid:step, update_id
    person_id = Column(ForeignKey("people.id", ondelete="SET NULL"), nullable=True, index=True)
    # [{"url": ..., "content_type": ...}] (MMS) or [{"file_id": ...}] (Telegram); never logged.
    media = Column(JSON, nullable=True)
    reply = Column(Text, nullable=True)  # the answer (TwiML, JSON), given again to a replay
    received_at = Column(DateTime, nullable=False, default=utcnow, index=True)
    state = Column(String(16), nullable=False, default="claimed", server_default="answered")
    claimed_until = Column(DateTime, nullable=True)  # a claimed turn's lease
    seen = Column(Integer, nullable=False, default=1, server_default="1")  # requests so far


class ChannelState(Base):
    """What the last bot turn on one channel left open for one person.

    ``options`` are the numbered choices an SMS or a call offered ("1" picks the first);
    ``prompt`` is the last voice prompt (repeated after silence); ``pending`` holds keypad
    digits the caller has still to confirm.
    """

    __tablename__ = "channel_states"
    __table_args__ = (UniqueConstraint("person_id", "channel"),)

    id = Column(Integer, primary_key=True)
    person_id = Column(ForeignKey("people.id", ondelete="CASCADE"), nullable=False)
    channel = Column(String(16), nullable=False)
    options = Column(JSON, nullable=False, default=list)  # [[title, payload], ...]
    prompt = Column(JSON, nullable=True)
    pending = Column(String(32), nullable=True)
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)


class TelegramCallback(Base):
    """A short key for a button payload longer than Telegram's 64-byte ``callback_data``."""

    __tablename__ = "telegram_callbacks"

    id = Column(Integer, primary_key=True)
    digest = Column(String(64), unique=True, nullable=False)  # sha256 of the payload
    payload = Column(Text, nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)  # refreshed on every reuse


# --- Guided forms, bookings and notifications (SPEC §5.4, §5.7) --------------------------------

OUTBOX_STATUSES = ("pending", "sending", "sent", "skipped", "failed")


class FormDraft(Base):
    """The answers a person has given so far in one guided form, kept to resume it later.

    One per person and form; saved on every validated answer, deleted when the form is
    submitted or cancelled, ignored (and deleted) once older than the draft lifetime.
    """

    __tablename__ = "form_drafts"
    __table_args__ = (UniqueConstraint("person_id", "form"),)

    id = Column(Integer, primary_key=True)
    person_id = Column(ForeignKey("people.id", ondelete="CASCADE"), nullable=False)
    form = Column(String(32), nullable=False)
    answers = Column(JSON, nullable=False, default=dict)  # slot name -> validated value
    channel = Column(String(16), nullable=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    updated_at = Column(DateTime, nullable=False, default=utcnow, index=True)


class ProblemReport(Base):
    """What a submitted `report_problem` form said, beside the case it created."""

    __tablename__ = "problem_reports"

    id = Column(Integer, primary_key=True)
    case_id = Column(ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, unique=True)
    kind = Column(String(24), nullable=False)
    place = Column(String(255), nullable=False)
    detail = Column(Text, nullable=True)
    # "this_channel", "phone_call" or "no_contact" (then no status notifications either).
    contact = Column(String(16), nullable=False)
    contact_phone = Column(String(20), nullable=True)
    channel = Column(String(16), nullable=True)
    # [{"url": ..., "content_type": ...} or {"file_id": ...}]: a reference, never the bytes.
    media = Column(JSON, nullable=False, default=list)
    case = relationship("Case", lazy="joined")


class Booking(Base):
    """An appointment at an office: one desk in one time slot.

    The unique (office, start, desk) constraint is what makes double-booking impossible, even
    for two conversations confirming at the same instant. A cancelled booking keeps its row
    with ``desk`` NULL: NULLs never collide in a unique constraint (SQLite and PostgreSQL), so
    the slot is free again.
    """

    __tablename__ = "bookings"
    __table_args__ = (UniqueConstraint("office_id", "starts_at", "desk",
                                       name="uq_bookings_office_slot_desk"),)

    id = Column(Integer, primary_key=True)
    case_id = Column(ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, unique=True)
    person_id = Column(ForeignKey("people.id", ondelete="SET NULL"), nullable=True, index=True)
    office_id = Column(ForeignKey("offices.id", ondelete="CASCADE"), nullable=False)
    service_id = Column(ForeignKey("services.id"), nullable=False)
    starts_at = Column(DateTime, nullable=False, index=True)  # the office's local time
    desk = Column(Integer, nullable=True)  # 1..desks while booked, NULL once cancelled
    status = Column(String(16), nullable=False, default="booked")
    created_at = Column(DateTime, nullable=False, default=utcnow)
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)
    case = relationship("Case", lazy="joined")
    office = relationship("Office", lazy="joined")
    service = relationship("Service", lazy="joined")


class OutboxMessage(Base):
    """A notification to send, written in the same transaction as the change it announces.

    ``idempotency_key`` names the change (one row per case status change, ever). A dispatcher
    claims a due row by a conditional UPDATE (``claim_token``, ``claimed_until``), so two
    dispatchers never send the same row, and a claim left by a killed process expires.
    """

    __tablename__ = "outbox"

    id = Column(Integer, primary_key=True)
    idempotency_key = Column(String(64), unique=True, nullable=False)
    kind = Column(String(24), nullable=False, default="case_status")
    case_id = Column(ForeignKey("cases.id", ondelete="CASCADE"), nullable=True, index=True)
    person_id = Column(ForeignKey("people.id", ondelete="SET NULL"), nullable=True)
    payload = Column(JSON, nullable=False, default=dict)
    status = Column(String(16), nullable=False, default="pending", index=True)
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(DateTime, nullable=False, default=utcnow, index=True)
    claim_token = Column(String(32), nullable=True)
    claimed_until = Column(DateTime, nullable=True)
    last_error = Column(Text, nullable=True)
    channel = Column(String(16), nullable=True)
    language = Column(String(2), nullable=True)
    provider_id = Column(String(128), nullable=True)
    created_at = Column(DateTime, nullable=False, default=utcnow, index=True)
    sent_at = Column(DateTime, nullable=True)
    case = relationship("Case", lazy="joined")


class DeliveryReceipt(Base):
    """What the provider last said about one outbound message (SPEC §6.6): Twilio's status
    callbacks, never moving backwards (bot/messaging/receipts.py). Keyed by the provider's id
    (a Twilio MessageSid); the outbox row or agent reply that sent it holds that id."""

    __tablename__ = "delivery_receipts"

    id = Column(Integer, primary_key=True)
    provider_id = Column(String(64), unique=True, nullable=False)
    channel = Column(String(16), nullable=True)  # "sms" or "whatsapp"; None: only a callback
    status = Column(String(24), nullable=False)  # queued, sent, delivered, read, failed...
    error_code = Column(String(16), nullable=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    updated_at = Column(DateTime, nullable=False, default=utcnow, index=True)


# --- Retention and erasure (SPEC §8) -----------------------------------------------------------


class OptOutSuppression(Base):
    """What is left of an erased person who had opted out of SMS: a keyed hash of the phone.

    Someone who texts again from that number is created already opted out (bot.domain.suppression),
    so erasing a person never undoes their STOP. Nothing else about them is kept.
    """

    __tablename__ = "opt_out_suppressions"

    id = Column(Integer, primary_key=True)
    phone_hash = Column(String(64), unique=True, nullable=False)  # hex HMAC-SHA256 of E.164
    created_at = Column(DateTime, nullable=False, default=utcnow)


# --- Abuse and cost control (SPEC §6, §7) ------------------------------------------------------


class RateCounter(Base):
    """One rate-limit counter in one time window, shared by every replica (bot.domain.ratelimit).

    ``key`` is a hash of what is counted (a sender, an address, the SMS budget), never the
    phone number itself; rows are deleted once ``expires_at`` has passed.
    """

    __tablename__ = "rate_counters"

    key = Column(String(64), primary_key=True)
    window_start = Column(BigInteger, primary_key=True, autoincrement=False)  # epoch seconds
    count = Column(Integer, nullable=False, default=0)
    expires_at = Column(DateTime, nullable=False, index=True)


class HeldMessage(Base):
    """An outbound SMS that was not sent: over the hourly budget or to a country not allowed.

    Staff see these in the console (/console/held) and in `python -m bot outbox`.
    """

    __tablename__ = "held_messages"

    id = Column(Integer, primary_key=True)
    at = Column(DateTime, nullable=False, default=utcnow, index=True)
    channel = Column(String(16), nullable=False, default="sms")
    recipient = Column(String(20), nullable=False)  # E.164
    country = Column(String(2), nullable=True)  # ISO 3166 code, when known
    reason = Column(String(16), nullable=False)  # "budget" or "country"
    segments = Column(Integer, nullable=False, default=1)
    body = Column(Text, nullable=False)


# --- The event stream (issue 12 §2) ------------------------------------------------------------


class ConversationEvent(Base):
    """One Rasa event as the operators' analytics need it, written by `python -m bot events
    consume` from RabbitMQ (bot/store/event_stream.py): no message text, and slot values only
    of the slots in ``event_stream.KEPT_SLOTS``.

    ``event_key`` (a hash of the event as published) is unique, so a message delivered again
    after a consumer restart is not counted twice.
    """

    __tablename__ = "conversation_events"

    id = Column(Integer, primary_key=True)
    event_key = Column(String(64), nullable=False, unique=True)
    sender_id = Column(String(255), nullable=False, index=True)
    type_name = Column(String(32), nullable=False)
    name = Column(String(255), nullable=True)  # the intent, action, slot or loop
    value = Column(String(255), nullable=True)  # a kept slot's value
    input_channel = Column(String(64), nullable=True)
    confidence = Column(Float, nullable=True)  # the intent's (user) or the policy's (action)
    timestamp = Column(Float, nullable=False, index=True)  # Unix seconds, as Rasa's events
    received_at = Column(DateTime, nullable=False, default=utcnow)


# --- The API's clients and idempotent creates (issue 14 §4) ------------------------------------


class ApiClient(Base):
    """A system allowed to use the API, with its own bearer token (bot.domain.api_clients).

    Only the SHA-256 of the token is stored (tokens are 256-bit random, shown once); a revoked
    client keeps its row, so the audit log's ``api:NAME`` entries still name a known client.
    """

    __tablename__ = "api_clients"

    id = Column(Integer, primary_key=True)
    name = Column(String(40), unique=True, nullable=False)
    token_hash = Column(String(64), unique=True, nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    revoked_at = Column(DateTime, nullable=True)
    last_used_at = Column(DateTime, nullable=True)


class IdempotencyKey(Base):
    """The answer given to one create sent with an ``Idempotency-Key`` header, per client
    (bot.domain.idempotency): the same key and body again get the same answer, a different
    body with the same key a 422. Kept in the database so every replica agrees."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("client", "key"),)

    id = Column(Integer, primary_key=True)
    client = Column(String(64), nullable=False)  # the audit actor: "api" or "api:NAME"
    key = Column(String(255), nullable=False)
    fingerprint = Column(String(64), nullable=False)  # sha256 of method, path and body
    status = Column(Integer, nullable=False)
    response = Column(JSON, nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow, index=True)


# --- Operators' analytics and the learning inbox (issue 14 §1, §2) -----------------------------


class AnalyticsDaily(Base):
    """One figure of one closed day, per channel and language (bot/analytics/rollup.py):
    ``metric`` (conversations, messages, fallbacks, form_started, form_step, form_completed)
    and its ``key`` (the form, or "form:question"). Counts only: nobody can be found in it, so
    retention keeps it when the events it came from are purged."""

    __tablename__ = "analytics_daily"

    day = Column(Date, primary_key=True)
    channel = Column(String(32), primary_key=True)
    language = Column(String(8), primary_key=True)
    metric = Column(String(32), primary_key=True)
    key = Column(String(128), primary_key=True)
    value = Column(BigInteger, nullable=False)


class AnalyticsRolledDay(Base):
    """A day whose figures are in ``analytics_daily`` (read from ``source``: stream or
    tracker); the analytics compute the days not listed here from the events."""

    __tablename__ = "analytics_rolled_days"

    day = Column(Date, primary_key=True)
    source = Column(String(16), nullable=False)
    rolled_at = Column(DateTime, nullable=False, default=utcnow)


class SmsUsage(Base):
    """SMS sent per day and conversation language: ``kind`` "reply" (a webhook's answer) or
    "later" (agent replies, notifications); messages and the segments they cost."""

    __tablename__ = "sms_usage"

    day = Column(Date, primary_key=True)
    language = Column(String(8), primary_key=True)
    kind = Column(String(16), primary_key=True)
    messages = Column(BigInteger, nullable=False, default=0)
    segments = Column(BigInteger, nullable=False, default=0)


class LearnLabel(Base):
    """A staff member's answer for a misunderstood message (bot/learn): the right intent, or
    ``not_for_us``. Only the masked text is kept; ``exported_at`` is set by `python -m bot nlu
    export`."""

    __tablename__ = "learn_labels"

    id = Column(Integer, primary_key=True)
    text_key = Column(String(64), unique=True, nullable=False)  # sha256 of language + text
    language = Column(String(8), nullable=False)
    masked_text = Column(Text, nullable=False)
    intent = Column(String(64), nullable=False)
    labelled_by = Column(String(64), nullable=False)
    labelled_at = Column(DateTime, nullable=False, default=utcnow)
    exported_at = Column(DateTime, nullable=True)
