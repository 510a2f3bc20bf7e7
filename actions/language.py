"""The language of the conversation (SPEC §3), decided by `bot.language.detect` on every user
turn."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import entity, latest_text, person_session
from bot.domain import people
from bot.language.detect import SUPPORTED, answers_keep_language, explicit_request

SWITCHED_KEY = "language_switched"

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
        with person_session(tracker) as (session, person):
            if choice in SUPPORTED:
                people.set_language(session, person, choice)
            else:
                answer = answers_keep_language(tracker.active_loop_name,
                                               bool(tracker.get_slot("form_offer")))
                people.apply_language(session, person, latest_text(tracker), keep=answer)
            language = person.language
        return [SlotSet("language", language)]

class ActionChangeLanguage(Action):
    """Confirms an explicit switch in the new language, or shows the language menu."""

    def name(self) -> str:
        return "action_change_language"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: dict[str, Any]) -> list[dict[str, Any]]:

        named = entity(tracker, "language_choice") or explicit_request(latest_text(tracker))
        if named in SUPPORTED:
            dispatcher.utter_message(response="utter_language_changed")
        else:
            dispatcher.utter_message(response="utter_choose_language")
        return []
