"""Staff actions on conversations, shared by the console and the hand-off API (SPEC §5.6, §7).

Each operation changes the database (in a worker thread) and the Rasa conversation (on the
event loop, under Rasa's per-conversation lock, as Rasa's own ``trigger_intent`` endpoint
does): pausing and resuming the bot, adding what an agent says to the transcript, and starting a
task with the bot for a citizen. Messages go out through ``bot.messaging.outbound.send_to_person``.
The audit entries are written by the hand-off operations themselves (bot.callcentre.handoffs),
naming the ``actor`` given here.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from rasa.core.agent import Agent
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.lock_store import LockError
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    Event,
    SlotSet,
)
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.callcentre import handoffs
from bot.domain import people
from bot.domain.phones import to_e164
from bot.language.detect import SUPPORTED
from bot.messaging import outbound
from bot.messaging.delivery import DeliveryError, OutboundMessage
from bot.store import tracker_events
from bot.store.db import session_scope
from bot.store.models import Handoff, StaffUser
from server.http import InputError, in_thread
from server.tracker_store import TrackerStoreUnavailable

logger = logging.getLogger(__name__)

# Tasks staff can send a citizen to, and the intent that starts each (SPEC §5.6, "staff to bot").
TASKS = {"appointment": "book_appointment", "status": "check_application_status"}
BACK_RESPONSES = {"released": "utter_handoff_released", "resolved": "utter_handoff_resolved"}
TRANSCRIPT_LIMIT = 400  # events shown, newest kept


class NotReady(InputError):
    """The Rasa model is not loaded yet: 503 (try again shortly), not a 500."""

    def __init__(self, message: str = "the assistant is not ready yet") -> None:
        super().__init__(message, status=503)


@dataclass
class Delivery:
    """The outcome of sending messages to a citizen."""

    delivered: bool = True
    errors: list[str] = field(default_factory=list)
    provider_ids: list[str] = field(default_factory=list)  # for the delivery receipts


class StoreUnavailable(InputError):
    """The conversation store failed (server.tracker_store fails closed): 503, try again
    shortly; nothing was changed from memory."""

    def __init__(self) -> None:
        super().__init__("the conversation store is unavailable; try again shortly", status=503)


@asynccontextmanager
async def conversation(agent: Agent, sender_id: str) -> AsyncIterator[None]:
    """Rasa's conversation lock around a read-modify-write of one tracker; a store failure
    becomes :class:`StoreUnavailable` (503), never a 500."""
    try:
        async with agent.lock_store.lock(sender_id):
            yield
    except (TrackerStoreUnavailable, LockError) as exc:
        # LockError: the shared lock store (Redis) is unreachable or the lock timed out.
        logger.warning("conversation store unavailable: %s", exc)
        raise StoreUnavailable() from exc


def _processor(agent: Agent | None):
    if agent is None or agent.processor is None:
        raise NotReady()
    return agent.processor


async def append_events(agent: Agent, sender_id: str, events: list[Event],
                        only_if_paused: bool | None = None) -> bool:
    """Append ``events`` to the conversation; optionally only in the given pause state."""
    processor = _processor(agent)
    async with conversation(agent, sender_id):
        tracker = await processor.get_tracker(sender_id)
        if only_if_paused is not None and tracker.is_paused() != only_if_paused:
            return False
        for event in events:
            tracker.update(event, agent.domain)
        await processor.save_tracker(tracker)
    return True


async def pause(agent: Agent, sender_id: str) -> None:
    await append_events(agent, sender_id, [ConversationPaused()], only_if_paused=False)


async def render(agent: Agent, response: str, language: str, **values: Any) -> dict[str, Any]:
    """A domain response in ``language`` (the variation the `language` slot selects)."""
    processor = _processor(agent)
    tracker = DialogueStateTracker.from_events("render", [SlotSet("language", language)],
                                               slots=agent.domain.slots)
    return await processor.nlg.generate(response, tracker, "collector", **values) or {}


def deliver(sender_id: str, channel: str | None, messages: list[dict[str, Any]],
            language: str) -> Delivery:
    """Send Rasa-style messages ({text, buttons}) to the person; never raises."""
    result = Delivery()
    for message in messages:
        text = message.get("text") or ""
        if not text:
            continue
        buttons = [(b.get("title", ""), b.get("payload", ""))
                   for b in message.get("buttons") or []]
        try:
            with session_scope() as session:
                person = people.get_or_create(session, sender_id)
                sent = outbound.send_to_person(session, person,
                                               OutboundMessage(text, language, buttons),
                                               channel=channel)
            result.provider_ids += sent.provider_ids
        except DeliveryError as exc:
            result.delivered = False
            result.errors.append(str(exc) or "the provider refused the message")
        except Exception as exc:  # a reply must never be lost to a crash: report, keep the text
            logger.exception("delivery to a citizen failed")
            result.delivered = False
            result.errors.append(f"could not send: {type(exc).__name__}")
    return result


# --- database steps (run in a worker thread) ---------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """What the async steps need to know about a hand-off after its transaction."""

    id: int
    sender_id: str
    language: str
    delivery_channel: str | None
    must_pause: bool = False
    was_paused: bool = False


def _snapshot(handoff: Handoff, **flags: bool) -> Snapshot:
    return Snapshot(handoff.id, handoff.sender_id, handoff.language,
                    handoffs.delivery_channel(handoff), **flags)


def _load(session: Session, handoff_id: int) -> Handoff:
    """The hand-off, its row locked until the transaction ends (PostgreSQL's ``FOR UPDATE``):
    two agents on two replicas claiming, replying to or closing it at once take turns, so
    the second sees what the first did (a second close is a 409, not a second goodbye).
    SQLite has one writer at a time anyway."""
    session.execute(select(Handoff.id).where(Handoff.id == handoff_id).with_for_update())
    handoff = handoffs.get(session, handoff_id)
    if handoff is None:
        raise InputError(f"no hand-off {handoff_id}", status=404)
    return handoff


def _input_error(exc: handoffs.HandoffError) -> InputError:
    """409 for a hand-off that is already resolved (or a person with staff), 422 for anything
    else wrong."""
    return InputError(str(exc), status=409 if isinstance(exc, handoffs.HandoffConflict) else 422)


def _claim(handoff_id: int, actor: str, user_id: int | None) -> Snapshot:
    with session_scope() as session:
        handoff = _load(session, handoff_id)
        user = session.get(StaffUser, user_id) if user_id else None
        try:
            must_pause = handoffs.claim(session, handoff, user, actor=actor)
        except handoffs.HandoffError as exc:
            raise _input_error(exc) from exc
        return _snapshot(handoff, must_pause=must_pause)


def _record_reply(handoff_id: int, actor: str, text: str) -> int:
    with session_scope() as session:
        handoff = _load(session, handoff_id)
        try:
            note = handoffs.record_reply(session, handoff, text, actor=actor)
        except handoffs.HandoffError as exc:
            raise _input_error(exc) from exc
        return note.id


def _reply_outcome(note_id: int, actor: str, delivery: Delivery) -> None:
    with session_scope() as session:
        note = session.get(handoffs.HandoffNote, note_id)
        handoffs.reply_outcome(session, note, delivery.delivered, delivery.errors, actor=actor,
                               provider_ids=delivery.provider_ids)


def _close(handoff_id: int, actor: str, resolution: str) -> Snapshot:
    with session_scope() as session:
        handoff = _load(session, handoff_id)
        try:
            was_paused = handoffs.close(session, handoff, actor, resolution)
        except handoffs.HandoffError as exc:
            raise _input_error(exc) from exc
        return _snapshot(handoff, was_paused=was_paused)


def _note(handoff_id: int, actor: str, text: str) -> None:
    with session_scope() as session:
        handoff = _load(session, handoff_id)
        try:
            handoffs.staff_note(session, handoff, text, actor=actor)
        except handoffs.HandoffError as exc:
            raise _input_error(exc) from exc


# --- operations --------------------------------------------------------------------------------


async def claim(agent: Agent, handoff_id: int, actor: str, user_id: int | None) -> None:
    """An agent takes the conversation; the bot goes quiet if it was not already."""
    snap = await in_thread(_claim, handoff_id, actor, user_id)
    if snap.must_pause:
        await pause(agent, snap.sender_id)


async def reply(agent: Agent, handoff_id: int, text: str, actor: str,
                user_id: int | None = None) -> Delivery:
    """Send an agent's words to the citizen on their channel, and into the transcript.

    The text is stored before sending, so a failed delivery loses nothing: the note keeps the
    text and the provider's error, and the caller shows both.
    """
    try:
        text = handoffs.clean_text(text, "reply")
    except handoffs.HandoffError as exc:
        raise InputError(str(exc), fields={"text": "invalid"}) from exc
    note_id = await in_thread(_record_reply, handoff_id, actor, text)
    snap = await in_thread(_claim, handoff_id, actor, user_id)
    if snap.must_pause:
        await pause(agent, snap.sender_id)
    delivery = await in_thread(deliver, snap.sender_id, snap.delivery_channel,
                               [{"text": text}], snap.language)
    await in_thread(_reply_outcome, note_id, actor, delivery)
    if delivery.delivered:
        await append_events(agent, snap.sender_id, [BotUttered(text, metadata={"agent": actor})])
    return delivery


async def close(agent: Agent, handoff_id: int, actor: str, resolution: str) -> Delivery:
    """Hand back to the bot or resolve: the bot answers again and the citizen is told so."""
    snap = await in_thread(_close, handoff_id, actor, resolution)
    if not snap.was_paused:
        return Delivery()
    message = await render(agent, BACK_RESPONSES[resolution], snap.language)
    await append_events(agent, snap.sender_id, [
        ConversationResumed(),
        BotUttered(message.get("text"), metadata={"handoff": snap.id, "closed_by": actor}),
        ActionExecuted("action_listen"),
    ])
    return await in_thread(deliver, snap.sender_id, snap.delivery_channel, [message],
                           snap.language)


async def note(handoff_id: int, text: str, actor: str) -> None:
    await in_thread(_note, handoff_id, actor, text)


def _recent_events(sender_id: str) -> list[dict[str, Any]]:
    with session_scope() as session:
        return tracker_events.recent(session, sender_id, TRANSCRIPT_LIMIT)


async def transcript_events(sender_id: str) -> list[dict[str, Any]]:
    """The conversation's latest events across sessions, as dicts (read in a worker thread:
    the console polls this every few seconds)."""
    return await in_thread(_recent_events, sender_id)


# --- staff to bot ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outreach:
    phone: str
    task: str
    language: str
    messages: int
    delivery: Delivery


def _prepare_outreach(phone: str, task: str, language: str | None, actor: str) -> tuple[str, str]:
    fields: dict[str, str] = {}
    e164 = to_e164(phone or "")
    if e164 is None:
        fields["phone"] = "not a phone number (use +countrycode...)"
    if task not in TASKS:
        fields["task"] = f"one of: {', '.join(TASKS)}"
    if language and language not in SUPPORTED:
        fields["language"] = f"one of: {', '.join(SUPPORTED)}"
    if fields:
        raise InputError("; ".join(f"{k}: {v}" for k, v in fields.items()), fields=fields)
    with session_scope() as session:
        try:
            chosen = handoffs.send_to_bot(session, e164, task, language, actor=actor)
        except handoffs.HandoffError as exc:
            raise _input_error(exc) from exc
    return e164, chosen


async def send_to_bot(agent: Agent, phone: str, task: str, language: str | None,
                      actor: str) -> Outreach:
    """Start ``task`` with the bot for the citizen at ``phone``, by SMS, in their language.

    The intent is triggered as Rasa's ``trigger_intent`` endpoint does; its ``language_choice``
    entity makes the language detection action use the chosen language instead of reading the
    placeholder text of an external message.
    """
    e164, chosen = await in_thread(_prepare_outreach, phone, task, language, actor)
    processor = _processor(agent)
    collector = CollectingOutputChannel()
    async with conversation(agent, e164):
        tracker = await processor.fetch_tracker_and_update_session(e164, collector)
        await processor.trigger_external_user_uttered(
            TASKS[task], [{"entity": "language_choice", "value": chosen}], tracker, collector)
    delivery = await in_thread(deliver, e164, "sms", collector.messages, chosen)
    return Outreach(e164, task, chosen, len(collector.messages), delivery)
