"""Conversation repair: fallback and stopping (SPEC §1, §4).

The way to a person (``action_human``) is in actions/handoff.py.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import person_session
from bot import drafts, forms

FALLBACK_INTENT = "nlu_fallback"
# Cleared when a form is left (cancel, a person): the status check's and the guided forms'.
FORM_SLOTS = ("case_reference", "date_of_birth", "status_outcome", "awaiting", "requested_slot",
              *forms.ALL_SLOTS)


def consecutive_fallbacks(tracker: Tracker) -> int:
    """How many user messages in a row, ending with the latest, the assistant did not get."""
    count = 0
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        intent = (event.get("parse_data") or {}).get("intent", {}).get("name")
        if intent != FALLBACK_INTENT:
            break
        count += 1
    return count


class ActionFallback(Action):
    """First miss: ask to rephrase, with the menu. Second miss in a row: offer a person."""

    def name(self) -> str:
        return "action_fallback"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: dict[str, Any]) -> list[dict[str, Any]]:
        if consecutive_fallbacks(tracker) >= 2:
            dispatcher.utter_message(response="utter_offer_human")
        else:
            dispatcher.utter_message(response="utter_rephrase")
        return []


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
