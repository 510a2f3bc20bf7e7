"""The way to a person (SPEC §5.6): open the hand-off, tell the citizen, and let the bot go quiet.

The gate is Rasa's own pause: ``action_human`` returns ``ConversationPaused`` while staff are
on duty, so Rasa keeps logging the citizen's messages for the agent but predicts nothing, on
every channel. The console and the API resume it (server side) when an agent hands back or
resolves.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import (
    ActionExecuted,
    ActiveLoop,
    ConversationPaused,
    SessionStarted,
    SlotSet,
)
from rasa_sdk.executor import CollectingDispatcher

from actions.common import (
    Clocked,
    channel_of,
    entity,
    language_of,
    latest_text,
    person_session,
)
from actions.conversation import FORM_SLOTS
from bot import audit, distress, handoffs, outbound, people, texts
from bot.config import get_settings
from bot.db import session_scope
from bot.offices import day_name

ACTOR = "assistant"
OFFER_RESPONSE = "utter_offer_human"  # two misses in a row offer a person (action_fallback)
VOICE_NO_INPUT = "voice_no_input"  # the voice channel's metadata `handoff_reason` after silence

DAY_WORDS = {
    "en": ("today", "tomorrow", "on {day}"),
    "es": ("hoy", "mañana", "el {day}"),
    "fr": ("aujourd'hui", "demain", "{day}"),
    "ar": ("اليوم", "غدا", "يوم {day}"),
}


def latest_user_event(tracker: Tracker) -> dict[str, Any]:
    return next((e for e in reversed(tracker.events) if e.get("event") == "user"), {})


def offered_before(tracker: Tracker) -> str | None:
    """The response the bot gave just before the latest user message, if any."""
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if seen_user:
                return None
            seen_user = True
        elif event.get("event") == "bot" and seen_user:
            return (event.get("metadata") or {}).get("utter_action")
    return None


def is_urgent(tracker: Tracker) -> bool:
    return entity(tracker, "urgency") == "urgent" or distress.is_distress(latest_text(tracker))


def reason_for(tracker: Tracker, urgent: bool) -> str:
    """Why the person is handed off: distress, voice silence, two misses, or they asked."""
    if urgent:
        return "distress"
    metadata = latest_user_event(tracker).get("metadata") or {}
    if metadata.get("handoff_reason") == VOICE_NO_INPUT:
        return VOICE_NO_INPUT
    if offered_before(tracker) == OFFER_RESPONSE:
        return "fallback"
    return "request_human"


def when_back(back_at: dt.datetime, language: str,
              today: dt.date | None = None) -> tuple[str, str]:
    """("on Monday" / "today" / "tomorrow", "08:00") in the person's language."""
    today = today or dt.date.today()
    same_day, next_day, weekday = DAY_WORDS.get(language, DAY_WORDS["en"])
    if back_at.date() == today:
        day = same_day
    elif back_at.date() == today + dt.timedelta(days=1):
        day = next_day
    else:
        day = weekday.format(day=day_name(back_at.date(), language))
    return day, back_at.strftime("%H:%M")


def utter_urgent(dispatcher: CollectingDispatcher) -> None:
    emergency, crisis_line = distress.emergency_numbers()
    dispatcher.utter_message(response="utter_handoff_urgent", emergency=emergency,
                             crisis_line=crisis_line)


class ActionHuman(Clocked, Action):
    """Hands the conversation to a person: queue place, call transfer, or when staff are back."""

    def name(self) -> str:
        return "action_human"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: dict[str, Any]) -> list[dict[str, Any]]:
        language, channel = language_of(tracker), channel_of(tracker) or None
        urgent = is_urgent(tracker)
        reason = reason_for(tracker, urgent)
        now = self.now()
        with person_session(tracker) as (session, _person):
            outcome = handoffs.request(session, tracker.sender_id, channel=channel,
                                       language=language, reason=reason, urgent=urgent,
                                       local_now=now)
            handoff = outcome.handoff
            audit.record(session, ACTOR, "handoff.open" if outcome.created else "handoff.update",
                         str(handoff.id), reason=handoff.reason, urgent=handoff.urgent,
                         channel=channel, staffed=outcome.staffed)
            paused = handoff.paused
        if urgent:
            utter_urgent(dispatcher)
        if channel == "voice" and outcome.staffed:
            # The voice channel turns `custom.dial` into <Dial>.
            dispatcher.utter_message(response="utter_handoff_transfer",
                                     json_message={"dial": get_settings().call_centre_number})
        elif outcome.staffed:
            dispatcher.utter_message(response="utter_handoff_queued", position=outcome.position,
                                     minutes=outcome.wait_minutes)
        elif outcome.back_at is not None:
            day, time = when_back(outcome.back_at, language, now.date())
            dispatcher.utter_message(response="utter_handoff_after_hours", day=day, time=time)
        else:
            dispatcher.utter_message(response="utter_handoff_after_hours_later")
        events = [ActiveLoop(None)] + [SlotSet(slot, None) for slot in FORM_SLOTS]
        return events + ([ConversationPaused()] if paused else [])


def send_emergency_numbers(sender_id: str, handoff_id: int, language: str,
                           channel: str | None) -> None:
    """Text the emergency numbers now, out of band, and note it for the agent."""
    emergency, crisis_line = distress.emergency_numbers()
    message = outbound.OutboundMessage(
        texts.text("utter_handoff_urgent", language, emergency=emergency,
                   crisis_line=crisis_line), language)
    try:
        with session_scope() as session:
            person = people.get_or_create(session, sender_id)
            outbound.send_to_person(session, person, message, channel=channel)
        note = f"The assistant sent the emergency numbers ({emergency}, {crisis_line})."
    except outbound.DeliveryError as exc:
        note = f"The assistant could not send the emergency numbers: {exc}"
    with session_scope() as session:
        handoffs.add_note(session, handoffs.get(session, handoff_id), ACTOR, note)


class ActionWatchHandoff(Action):
    """The ``urgency`` slot's mapping: distress words while already handed off.

    Rasa runs slot mappings even while a conversation is paused; this one runs only for
    ``request_human`` (which distress words produce). It marks the open hand-off urgent and,
    if nobody has taken it yet, sends the emergency numbers at once. They go out of band
    (``bot.outbound``): Rasa keeps only the slot events of a slot mapping action, not its
    messages.
    """

    def name(self) -> str:
        return "action_watch_handoff"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: dict[str, Any]) -> list[dict[str, Any]]:
        if not tracker.is_paused() or entity(tracker, "urgency") != "urgent":
            return []
        with session_scope() as session:
            handoff = handoffs.open_for(session, tracker.sender_id)
            if handoff is None or not handoffs.mark_urgent(session, handoff):
                return []
            audit.record(session, ACTOR, "handoff.urgent", str(handoff.id))
            waiting, handoff_id = handoff.status == "waiting", handoff.id
            channel = handoffs.delivery_channel(handoff)
        if waiting:
            send_emergency_numbers(tracker.sender_id, handoff_id, language_of(tracker), channel)
        return [SlotSet("urgency", "urgent")]


class ActionSessionStart(Action):
    """Rasa's session start, plus: a handed-off conversation stays paused in the new session.

    A new session (after ``session_expiration_time``) resets Rasa's pause; without this, a
    citizen waiting longer than that would be answered by the bot while staff have it.
    """

    def name(self) -> str:
        return "action_session_start"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: dict[str, Any]) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = [SessionStarted()]
        if (domain.get("session_config") or {}).get("carry_over_slots_to_new_session"):
            events += [SlotSet(name, value) for name, value in tracker.slots.items()
                       if value is not None]
        with session_scope() as session:
            handoff = handoffs.open_for(session, tracker.sender_id)
            if handoff is not None and handoff.paused:
                events.append(ConversationPaused())
        return [*events, ActionExecuted("action_listen")]
