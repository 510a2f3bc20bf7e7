"""Digital help (SPEC §5.5): free access points, classes and portal how-tos, from data."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import buttons, language_of, latest_text
from bot.domain import digital
from bot.language.i18n import pick
from bot.store.db import session_scope

GUIDE_PREFIX = "guide:"


class ActionDigitalHelp(Action):
    def name(self) -> str:
        return "action_digital_help"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: dict[str, Any]) -> list[dict[str, Any]]:
        language = language_of(tracker)
        text = latest_text(tracker)
        topic = tracker.get_slot("digital_topic") or ""
        done = [SlotSet("digital_topic", None), SlotSet("awaiting", None)]
        with session_scope() as session:
            guide = (digital.get_guide(session, topic[len(GUIDE_PREFIX):])
                     if topic.startswith(GUIDE_PREFIX) else None)
            if guide is None and not topic:
                guide = digital.match_guide(session, text)
            if guide is not None:
                steps = pick(guide.steps, language)
                numbered = " ".join(f"{i}) {step}" for i, step in enumerate(steps, 1))
                dispatcher.utter_message(response="utter_digital_guide",
                                         title=pick(guide.titles, language), steps=numbered)
                return done
            topic = topic or digital.match_topic(text) or ""
            if topic in (digital.TOPIC_ACCESS, digital.TOPIC_CLASS):
                places = "; ".join(
                    f"{pick(p.names, language)}, {p.address} ({pick(p.when, language)})"
                    for p in digital.places(session, topic))
                response = ("utter_digital_access" if topic == digital.TOPIC_ACCESS
                            else "utter_digital_classes")
                dispatcher.utter_message(response=response, places=places)
                return done
            if topic == digital.TOPIC_PORTAL:
                options = [(pick(g.titles, language),
                            f'/digital_help{{"digital_topic": "{GUIDE_PREFIX}{g.slug}"}}')
                           for g in digital.guides(session)]
                dispatcher.utter_message(response="utter_ask_portal_task",
                                         buttons=buttons(options))
                return [SlotSet("digital_topic", None), SlotSet("awaiting", "digital")]
        dispatcher.utter_message(response="utter_ask_digital_topic")
        return [SlotSet("digital_topic", None), SlotSet("awaiting", "digital")]
