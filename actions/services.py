"""Is a public service running? (SPEC §5.2)"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import buttons, language_of, latest_text
from bot.domain import services
from bot.language.i18n import capitalised, pick
from bot.store.db import session_scope


class ActionServiceStatus(Action):
    def name(self) -> str:
        return "action_service_status"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: dict[str, Any]) -> list[dict[str, Any]]:
        language = language_of(tracker)
        slug = tracker.get_slot("service")
        with session_scope() as session:
            found = services.get(session, slug) if slug else None
            if found is None:
                matches = services.match(session, latest_text(tracker))
                found = matches[0] if matches else None
            if found is None:
                options = [(pick(s.names, language),
                            f'/check_service_status{{"service": "{s.slug}"}}')
                           for s in services.all_services(session)]
                dispatcher.utter_message(response="utter_ask_which_service",
                                         buttons=buttons(options))
                return [SlotSet("service", None), SlotSet("awaiting", "service")]
            dispatcher.utter_message(
                response=f"utter_service_{found.status}",
                name=capitalised(pick(found.names, language)),
                message=services.message_in(found, language),
            )
        return [SlotSet("service", None), SlotSet("awaiting", None)]
