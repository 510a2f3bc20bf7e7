"""Conversation repair: fallback and stopping (SPEC §1, §4).

The way to a person (``action_human``) is in actions/handoff.py.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import person_session
from bot.domain import drafts, forms

FALLBACK_ACTION = "action_fallback"
LISTEN = "action_listen"
# Cleared when a form is left (cancel, a person): the status check's and the guided forms'.
FORM_SLOTS = ("case_reference", "date_of_birth", "status_outcome", "awaiting", "requested_slot",
              *forms.ALL_SLOTS)
# How many misses in a row before a person is offered (SPEC §4).
MISSES_BEFORE_A_PERSON = 2


def _turns(events: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The events after each user message, oldest turn first (a session start ends them)."""
    turns: list[list[dict[str, Any]]] = []
    for event in events:
        kind = event.get("event")
        if kind == "user":
            turns.append([])
        elif kind == "session_started":
            turns = []
        elif turns:
            turns[-1].append(event)
    return turns


def _missed(turn: list[dict[str, Any]]) -> bool:
    """Whether the assistant had nothing to say to this turn but the fallback: the fallback
    ran before any other answer (a fallback after an answer only ended the turn)."""
    for event in turn:
        if event.get("event") == "bot":
            return False
        if event.get("event") == "action" and event.get("name") == FALLBACK_ACTION:
            return True
    return False


def answered_this_turn(tracker: Tracker) -> bool:
    """Whether something was already said to the latest user message."""
    turns = _turns(tracker.events)
    return bool(turns) and any(e.get("event") == "bot" for e in turns[-1])


def consecutive_misses(tracker: Tracker) -> int:
    """How many user messages in a row, ending with the latest (the one being answered), the
    assistant did not get -- whether NLU fell back (``nlu_fallback``) or the policies did."""
    turns = _turns(tracker.events)
    if not turns:
        return 0
    count = 1
    for turn in reversed(turns[:-1]):
        if not _missed(turn):
            break
        count += 1
    return count


class ActionFallback(Action):
    """The one fallback, for NLU (``nlu_fallback``) and for the policies (RulePolicy's
    ``core_fallback_action_name``).

    It always ends the turn (``FollowupAction(action_listen)``): without that, the policies
    predict it again and again until Rasa's circuit breaker trips, and the tracker, left
    without an ``action_listen``, trips it again on every later message (silence until the
    session expires). When the turn was already answered (the policies only did not know
    what comes next), it says nothing more. Otherwise it is a miss: first "say it in other
    words" with the menu, then, from the second miss in a row, the offer of a person.
    """

    def name(self) -> str:
        return FALLBACK_ACTION

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: dict[str, Any]) -> list[dict[str, Any]]:
        end_turn = [FollowupAction(LISTEN)]
        if answered_this_turn(tracker):
            return end_turn
        if consecutive_misses(tracker) >= MISSES_BEFORE_A_PERSON:
            dispatcher.utter_message(response="utter_offer_human")
            return [SlotSet("awaiting", "human"), *end_turn]
        dispatcher.utter_message(response="utter_rephrase")
        return end_turn


class ActionCancel(Action):
    """Leaves whatever form is running and shows the menu (also the answer to a bare MENU).

    Cancelling a guided form also forgets its draft: the person said they do not want it
    (a hand-off or silence keeps the draft, to resume later).
    """

    def name(self) -> str:
        return "action_cancel"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: dict[str, Any]) -> list[dict[str, Any]]:
        if tracker.active_loop_name:
            dispatcher.utter_message(response="utter_cancelled")
        if tracker.active_loop_name in forms.FORMS:
            with person_session(tracker) as (session, person):
                drafts.discard(session, person, tracker.active_loop_name)
        dispatcher.utter_message(response="utter_menu")
        return [ActiveLoop(None)] + [SlotSet(slot, None) for slot in FORM_SLOTS]
