"""The language of the conversation (SPEC §3), decided by `bot.language.detect` on every user
turn."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, SlotSet, UserUttered
from rasa_sdk.executor import CollectingDispatcher

from actions.common import entity, latest_text, person_session
from bot.domain import people
from bot.language.detect import (
    DEFAULT,
    SUPPORTED,
    answers_keep_language,
    explicit_request,
    is_arabizi,
    put_through_language,
)
from bot.store.tracker_events import REPLAYED

SWITCHED_KEY = "language_switched"
# The numbered menu in all four languages, for someone new whose first message is uncertain
# (Darija in Latin letters, a mix, a word or two): set here, answered by the rules of
# data/rules_language.yml.
MENU_SLOT = "language_menu"
MENU_RESPONSE = "utter_language_menu"
# What the person first wrote is answered after their pick, unless it asked for nothing.
_NOT_REPLAYED = frozenset({"change_language", "nlu_fallback"})


# The confidence server/nlu_unknown_words.py gives `nlu_fallback` (words no training example
# uses); the FallbackClassifier's own is its threshold, below 1.
NONSENSE_CONFIDENCE = 1.0


def asks_language(intent: str | None, text: str, confidence: float | None = None) -> bool:
    """Whether an uncertain first message gets the menu, given what NLU made of it. Someone
    asking for a person, or in distress (the distress detector makes it `request_human`), is
    put through at once whatever their language. A message NLU did not understand gets the
    menu when it is Darija in Latin letters, or when it is made of known words with no clear
    intent ("hello, gracias": greeting or thanks, in which language?); nonsense (words no
    training example uses, ``confidence`` 1.0) is asked to rephrase."""
    if intent == "request_human":
        return False
    if intent != "nlu_fallback" or is_arabizi(text):
        return True
    return confidence is not None and confidence < NONSENSE_CONFIDENCE


class ActionDetectLanguage(Action):
    """The `language` slot's custom mapping: runs before every prediction.

    It is an action and not an NLU component because stickiness needs the person (who is
    writing, across channels and sessions) and the database, which only the sender id reaches.
    """

    def name(self) -> str:
        return "action_detect_language"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: dict[str, Any]) -> list[dict[str, Any]]:
        choice = entity(tracker, "language_choice")
        menu = None
        with person_session(tracker) as (session, person):
            if choice in SUPPORTED:
                people.set_language(session, person, choice)
            else:
                answer = answers_keep_language(tracker.active_loop_name,
                                               bool(tracker.get_slot("form_offer")))
                decision = people.apply_language(session, person, latest_text(tracker),
                                                 keep=answer)
                parsed = tracker.latest_message.get("intent") or {}
                intent = parsed.get("name")
                text = latest_text(tracker)
                if decision.show_menu and person.language is None:
                    if asks_language(intent, text, parsed.get("confidence")):
                        menu = True  # nobody knows their language yet: ask, never guess
                    elif intent == "request_human" and (hint := put_through_language(text)):
                        # Put through at once, in the language the message shows (Darija).
                        people.first_language_hint(session, person, hint)
            language = person.language or DEFAULT
        events = [SlotSet("language", language)]
        if menu or tracker.get_slot(MENU_SLOT):  # set for the one turn that shows the menu
            events.append(SlotSet(MENU_SLOT, menu))
        return events

class ActionChangeLanguage(Action):
    """Confirms an explicit switch in the new language, or shows the language menu."""

    def name(self) -> str:
        return "action_change_language"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: dict[str, Any]) -> list[dict[str, Any]]:

        named = entity(tracker, "language_choice") or explicit_request(latest_text(tracker))
        if named not in SUPPORTED:
            dispatcher.utter_message(response="utter_choose_language")
            return []
        first = _answered_by_menu(tracker.events)
        asked = (first or {}).get("parse_data", {}).get("intent", {}).get("name")
        if first is None or asked == "change_language":  # the menu was what they asked for
            dispatcher.utter_message(response="utter_language_changed")
            return []
        if asked in _NOT_REPLAYED:
            dispatcher.utter_message(response="utter_greet")
            return []
        # The first message again, now understood in the chosen language: the policies answer
        # it as if it had just been written (same words, intent, entities and channel). It is
        # marked, so the transcript shows the person's message once.
        replay = UserUttered(first.get("text"), first.get("parse_data"),
                             input_channel=first.get("input_channel"))
        replay["metadata"] = {**(first.get("metadata") or {}), REPLAYED: True}
        return [ActionExecuted("action_listen"), replay]


def _answered_by_menu(events: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The person's previous message, when the language menu answered it instead."""
    said = [index for index, event in enumerate(events) if event.get("event") == "user"]
    if len(said) < 2:
        return None
    previous, current = said[-2], said[-1]
    shown = any(event.get("event") == "action" and event.get("name") == MENU_RESPONSE
                for event in events[previous:current])
    return events[previous] if shown else None
