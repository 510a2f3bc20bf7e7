"""Where and when offices are open (SPEC §5.3), answered from the data."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import Clocked, buttons, language_of, latest_text
from bot import offices, services
from bot.dates import find_day
from bot.db import session_scope
from bot.i18n import pick
from bot.models import Office

DONE = [SlotSet("office", None), SlotSet("awaiting", None)]


class ActionFindOffice(Clocked, Action):
    def name(self) -> str:
        return "action_find_office"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: dict[str, Any]) -> list[dict[str, Any]]:
        language = language_of(tracker)
        text = latest_text(tracker)
        day = find_day(text, self.today())
        slug = tracker.get_slot("office")
        with session_scope() as session:
            office = offices.get(session, slug) if slug else offices.match_by_name(session, text)
            if office is not None:
                _one_office(dispatcher, office, day, language)
                return DONE
            matched = services.match(session, text)
            candidates = offices.offering(session, matched[0]) if matched else []
            if day is not None and not matched:
                _open_on(dispatcher, offices.all_offices(session), day, language)
                return DONE
            if len(candidates) == 1:
                _one_office(dispatcher, candidates[0], day, language)
                return DONE
            if candidates:
                names = ", ".join(offices.name(o, language) for o in candidates)
                dispatcher.utter_message(response="utter_offices_for_service", offices=names,
                                         buttons=_office_buttons(candidates, language))
                return [SlotSet("awaiting", "office")]
            dispatcher.utter_message(
                response="utter_ask_which_office",
                buttons=_office_buttons(offices.all_offices(session), language))
        return [SlotSet("awaiting", "office")]


def _office_buttons(candidates: list[Office], language: str) -> list[dict[str, str]]:
    return buttons([(offices.name(o, language), f'/find_office{{"office": "{o.slug}"}}')
                    for o in candidates])


def _one_office(dispatcher: CollectingDispatcher, office: Office, day: dt.date | None,
                language: str) -> None:
    name = offices.name(office, language)
    if day is None:
        dispatcher.utter_message(response="utter_office_details", name=name,
                                 address=office.address,
                                 hours=offices.weekly_hours(office, language))
        return
    holiday = offices.holiday_on(office, day)
    day_name = offices.day_name(day, language)
    if holiday is not None:
        dispatcher.utter_message(response="utter_office_holiday", name=name, day=day_name,
                                 holiday=pick(holiday.names, language))
    elif offices.ranges_on(office, day):
        dispatcher.utter_message(response="utter_office_open_on_day", name=name, day=day_name,
                                 hours=offices.hours_on(office, day), address=office.address)
    else:
        dispatcher.utter_message(response="utter_office_closed_on_day", name=name, day=day_name,
                                 hours=offices.weekly_hours(office, language))


def _open_on(dispatcher: CollectingDispatcher, candidates: list[Office], day: dt.date,
             language: str) -> None:
    day_name = offices.day_name(day, language)
    open_ones = [f"{offices.name(o, language)} {offices.hours_on(o, day)}"
                 for o in candidates if offices.ranges_on(o, day)]
    if open_ones:
        dispatcher.utter_message(response="utter_offices_open_on_day", day=day_name,
                                 offices="; ".join(open_ones))
    else:
        dispatcher.utter_message(response="utter_no_office_open_on_day", day=day_name)
