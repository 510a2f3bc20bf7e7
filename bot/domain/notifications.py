"""Status notifications through an outbox (SPEC §5.7): at least once, never twice per change.

1. :func:`enqueue` is called by :func:`bot.domain.cases.change_status`, so the outbox row is
written in
   the same transaction as the status change: both commit, or neither does. The row's
   ``idempotency_key`` names the change (``case-event-<id>``), so a change is queued once.
2. A dispatcher (:func:`dispatch_due`; in the Rasa server process, see server/dispatcher.py,
   or alone: ``python -m bot dispatch``) claims due rows one by one with a conditional UPDATE
   (pending and due, or a claim whose lease ran out because its process died), sends the text
   in the owner's language through :func:`bot.messaging.outbound.send_to_person`, and records the
   outcome.
   A claim is a lease: a killed dispatcher's row is taken again after ``CIVICLINE_OUTBOX_LEASE
   _SECONDS``; a row marked ``sent`` is never taken again. Every provider call has a timeout
   (bot.messaging.outbound, at most 10 s) and the lease is never shorter than a delivery can take,
   and
   a claim with too little lease left sends nothing: a hung provider cannot make two
   dispatchers send one message.
3. Retryable provider errors back off exponentially (``CIVICLINE_OUTBOX_BACKOFF_SECONDS`` ×
   2^(attempt-1)) up to ``CIVICLINE_OUTBOX_MAX_ATTEMPTS``; then, or on a permanent error, the
   row is ``failed`` and shown to operators (``python -m bot outbox``, the API's case JSON).
   People who opted out, or said "no contact" on their report, are ``skipped``.

The one window for a duplicate is a process killed after the provider accepted a message and
before ``sent`` was committed; Twilio and Telegram take no idempotency key, so that window is
kept to one UPDATE.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Callable
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, object_session

from bot.config import tunable
from bot.domain import people, references
from bot.language import texts
from bot.language.i18n import normalise, pick
from bot.store.db import session_scope
from bot.store.models import Case, CaseEvent, OutboxMessage, Person, ProblemReport, utcnow

logger = logging.getLogger(__name__)

CASE_STATUS = "case_status"
TEXT = "text"  # a message written for one person (a USSD session going on by SMS)
Send = Callable[[Session, Person, Any], Any]


def send_bound() -> dt.timedelta:
    """The longest one delivery can take: a provider call connects and reads, each bounded by
    the provider timeout (bot.messaging.outbound), plus slack for the database around it."""
    from bot.messaging.delivery import timeout_seconds

    return dt.timedelta(seconds=2 * timeout_seconds() + 1)


def lease() -> dt.timedelta:
    """How long a claim lasts. Never shorter than a delivery can take, so a second dispatcher
    cannot take a row whose send is still running (and send it again)."""
    configured = dt.timedelta(seconds=tunable("CIVICLINE_OUTBOX_LEASE_SECONDS", 120))
    return max(configured, send_bound() + dt.timedelta(seconds=2))  # 2 s to start sending


def backoff(attempts: int) -> dt.timedelta:
    """Wait before the next try after ``attempts`` failed ones: base × 2^(attempts-1)."""
    base = tunable("CIVICLINE_OUTBOX_BACKOFF_SECONDS", 10)
    return dt.timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 3600))


def max_attempts() -> int:
    return int(tunable("CIVICLINE_OUTBOX_MAX_ATTEMPTS", 8))


def enqueue(session: Session, case: Case, event: CaseEvent) -> OutboxMessage | None:
    """Queue the notification of one status change (in the caller's transaction)."""
    if event.from_status == event.to_status:
        return None
    message = OutboxMessage(
        idempotency_key=f"case-event-{event.id}", kind=CASE_STATUS, case_id=case.id,
        person_id=case.person_id, payload={"status": event.to_status},
        next_attempt_at=utcnow())
    session.add(message)
    session.flush()
    return message


def enqueue_text(session: Session, person: Person, text: str, language: str,
                 key: str) -> OutboxMessage:
    """Queue ``text`` to ``person`` once per ``key`` (in the caller's transaction): sent on
    their channel by the dispatcher, with its retries, like a status change."""
    existing = session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key
                                                          == key[:64]))
    if existing is not None:
        return existing
    message = OutboxMessage(idempotency_key=key[:64], kind=TEXT, person_id=person.id,
                            payload={"text": text, "language": language},
                            next_attempt_at=utcnow())
    session.add(message)
    session.flush()
    return message


def _due() -> Any:
    now = utcnow()
    return or_(and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),
               and_(OutboxMessage.status == "sending", OutboxMessage.claimed_until < now))


def claim(message_id: int) -> str | None:
    """Take one due row for this process; the token proves the claim (None: not ours)."""
    token = secrets.token_hex(16)
    with session_scope() as session:
        result = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, _due())
            .values(status="sending", claim_token=token, claimed_until=utcnow() + lease(),
                    attempts=OutboxMessage.attempts + 1)
            .execution_options(synchronize_session=False))
        return token if result.rowcount == 1 else None


def owner(session: Session, case: Case) -> Person | None:
    """Who the case belongs to: its person, or the person behind its phone number."""
    if case.person_id is not None:
        person = session.get(Person, case.person_id)
        if person is not None:
            return person
    return people.get_or_create(session, case.phone) if case.phone else None


def render(case: Case, status: str, language: str) -> str:
    """The notification: the status explained with its next step (the `utter_case_*` text)."""
    return texts.text(f"utter_case_{status}", language,
                      reference=references.spoken(case.reference),
                      service=pick(case.service.names, language))


def _finish(session: Session, row: OutboxMessage, token: str, **values: Any) -> None:
    """Record an outcome, only while the claim is still ours."""
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row.id, OutboxMessage.claim_token == token)
        .values(claim_token=None, claimed_until=None, **values)
        .execution_options(synchronize_session=False))


def _prepare(message_id: int, token: str) -> tuple[int, str, str] | str:
    """Who gets what: (person id, text, language), or the final status when nothing is sent."""
    with session_scope() as session:
        row = session.get(OutboxMessage, message_id)
        if row is None:
            return "gone"
        if row.claim_token != token or row.claimed_until is None \
                or row.claimed_until < utcnow() + send_bound():
            return "lost"  # the claim ran out (this process was paused): never send late
        if row.kind == TEXT:
            person = session.get(Person, row.person_id) if row.person_id else None
            if person is None:
                _finish(session, row, token, status="skipped", last_error="no such person")
                return "skipped"
            payload = row.payload or {}
            return person.id, str(payload.get("text") or ""), normalise(payload.get("language"))
        case = session.get(Case, row.case_id) if row.case_id else None
        if case is None:
            return "gone"
        person = owner(session, case)
        report = session.scalar(select(ProblemReport).where(ProblemReport.case_id == case.id))
        if person is None or (report is not None and report.contact == "no_contact"):
            reason = "no contact wanted" if person else "no phone or Telegram for this case"
            _finish(session, row, token, status="skipped", last_error=reason)
            return "skipped"
        language = normalise(person.language or case.language)
        text = render(case, (row.payload or {}).get("status", case.status), language)
        return person.id, text, language


def deliver(message_id: int, token: str, send: Send | None = None) -> str:
    """Send one claimed row; returns its new status.

    Three short transactions (prepare, send, record), so no database lock is held while the
    provider answers.
    """
    from bot.messaging.delivery import DeliveryError, OptedOut, OutboundMessage
    from bot.messaging.outbound import send_to_person

    prepared = _prepare(message_id, token)
    if isinstance(prepared, str):
        return prepared
    person_id, text, language = prepared
    outcome: dict[str, Any] = {"language": language, "person_id": person_id}
    try:
        with session_scope() as session:
            delivery = (send or send_to_person)(
                session, session.get(Person, person_id),
                OutboundMessage(text=text, language=language))
        outcome.update(status="sent", sent_at=utcnow(), last_error=None,
                       channel=delivery.channel, provider_id=delivery.provider_id[:128])
    except OptedOut:
        outcome.update(status="skipped", last_error="opted out of SMS")
    except DeliveryError as exc:
        with session_scope() as session:
            attempts = session.get(OutboxMessage, message_id).attempts
        retry = exc.retryable and attempts < max_attempts()
        logger.warning("outbox %s: attempt %s failed (%s)", message_id, attempts,
                       "will retry" if retry else "giving up")
        outcome.update(status="pending" if retry else "failed", last_error=str(exc)[:500],
                       next_attempt_at=utcnow() + backoff(attempts))
    with session_scope() as session:
        _finish(session, session.get(OutboxMessage, message_id), token, **outcome)
    return outcome["status"]


def dispatch_due(send: Send | None = None, limit: int = 50) -> dict[str, int]:
    """Send what is due now; returns how many rows ended in each status."""
    with session_scope() as session:
        ids = list(session.scalars(select(OutboxMessage.id).where(_due())
                                   .order_by(OutboxMessage.id).limit(limit)))
    outcomes: dict[str, int] = {}
    for message_id in ids:
        token = claim(message_id)
        if token is None:
            continue  # another dispatcher took it
        try:
            status = deliver(message_id, token, send)
        except Exception:  # a bug or the database: the lease will hand the row back later
            logger.exception("outbox %s: delivery crashed", message_id)
            status = "crashed"
        outcomes[status] = outcomes.get(status, 0) + 1
    return outcomes


def retry(session: Session, message_id: int | None = None) -> int:
    """Put failed rows (one, or all) back in the queue, due now; returns how many."""
    query = update(OutboxMessage).where(OutboxMessage.status == "failed")
    if message_id is not None:
        query = query.where(OutboxMessage.id == message_id)
    result = session.execute(query.values(status="pending", next_attempt_at=utcnow(),
                                          attempts=0)
                             .execution_options(synchronize_session=False))
    return result.rowcount or 0


def to_json(row: OutboxMessage) -> dict[str, Any]:
    """An outbox row as operators see it (the API's case JSON, the command line)."""
    def when(value: dt.datetime | None) -> str | None:
        return value.isoformat() + "Z" if value else None

    return {
        "id": row.id,
        "reference": row.case.reference if row.case else None,
        "status": row.status,
        "case_status": (row.payload or {}).get("status"),
        "attempts": row.attempts,
        "last_error": row.last_error,
        "channel": row.channel,
        "language": row.language,
        "created_at": when(row.created_at),
        "next_attempt_at": when(row.next_attempt_at) if row.status == "pending" else None,
        "sent_at": when(row.sent_at),
        "delivery": delivery_state(row),
    }


def delivery_state(row: OutboxMessage) -> str | None:
    """What the provider last said about a sent notification ("delivered", "undelivered
    (error 30003)"; SPEC §6.6), from its status callbacks; None before any receipt."""
    from bot.messaging import receipts

    session = object_session(row)
    state = receipts.summary(session, receipts.ids(row.provider_id)) if session else None
    return str(state) if state else None


def for_case(session: Session, case: Case) -> list[dict[str, Any]]:
    rows = session.scalars(select(OutboxMessage).where(OutboxMessage.case_id == case.id)
                           .order_by(OutboxMessage.id))
    return [to_json(row) for row in rows]


def listing(session: Session, status: str | None = None, limit: int = 100) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if status:
        query = query.where(OutboxMessage.status == status)
    return list(session.scalars(query))
