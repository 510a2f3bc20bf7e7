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
from bot.callcentre import handoffs
from bot.config import get_settings
from bot.domain import distress
from bot.domain.offices import day_name
from bot.language.vocabulary import DAY_WORDS
from bot.store.db import session_scope

ACTOR = handoffs.ASSISTANT  # who its changes are audited as
OFFER_RESPONSE = "utter_offer_human"  # two misses in a row offer a person (action_fallback)
VOICE_NO_INPUT = "voice_no_input"  # the voice channel's metadata `handoff_reason` after silence



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
                                       local_now=now, actor=ACTOR)
            paused = outcome.handoff.paused
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


EMERGENCY_NOTE = ("The assistant gave the emergency numbers ({emergency}, {crisis_line}) in the "
                  "conversation.")


def marked_urgent_now(tracker: Tracker) -> bool:
    """Whether this message's slot mapping (action_watch_handoff) has just marked the hand-off
    urgent: its ``urgency`` SlotSet follows the latest user message."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "slot" and event.get("name") == "urgency" \
                and event.get("value") == "urgent":
            return True
    return False


class ActionWatchHandoff(Action):
    """The ``urgency`` slot's mapping: distress words while already handed off.

    Rasa runs slot mappings even while a conversation is paused; this one runs only for
    ``request_human`` (which distress words produce). It marks the open hand-off urgent (once:
    a repeated message changes nothing and opens no new queue entry). The emergency numbers are
    then given in the conversation itself by :class:`ActionValidateSlotMappings`, never sent as
    a new SMS: the sender's number is only claimed on some channels (REST), and texting a
    claimed number is free SMS pumping.
    """

    def name(self) -> str:
        return "action_watch_handoff"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: dict[str, Any]) -> list[dict[str, Any]]:
        if not tracker.is_paused() or entity(tracker, "urgency") != "urgent":
            return []
        with session_scope() as session:
            handoff = handoffs.open_for(session, tracker.sender_id)
            if handoff is None or not handoffs.mark_urgent(session, handoff, actor=ACTOR):
                return []
            if handoff.status == "waiting":
                emergency, crisis_line = distress.emergency_numbers()
                handoffs.add_note(session, handoff, ACTOR, EMERGENCY_NOTE.format(
                    emergency=emergency, crisis_line=crisis_line))
        return [SlotSet("urgency", "urgent")]


class ActionValidateSlotMappings(Action):
    """Rasa's slot-mapping validation, run after every message's slot mappings.

    Its messages are the only ones Rasa sends while a conversation is paused (a slot mapping
    action's own messages are dropped), so this is where the emergency numbers reach a citizen
    whose waiting hand-off :class:`ActionWatchHandoff` has just marked urgent: in the reply to
    their own message, on their own channel. It changes no slot.
    """

    def name(self) -> str:
        return "action_validate_slot_mappings"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: dict[str, Any]) -> list[dict[str, Any]]:
        if not tracker.is_paused() or not marked_urgent_now(tracker):
            return []
        with session_scope() as session:
            handoff = handoffs.open_for(session, tracker.sender_id)
            waiting = handoff is not None and handoff.status == "waiting"
        if waiting:  # an agent who has taken it answers themselves
            utter_urgent(dispatcher)
        return []


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
