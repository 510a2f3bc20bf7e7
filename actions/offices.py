"""Where and when offices are open (SPEC §5.3), answered from the data."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import Clocked, buttons, entity, language_of, latest_text
from actions.handoff import offered_before
from bot.domain import offices, services
from bot.domain.dates import find_day
from bot.language.detect import words
from bot.language.i18n import pick
from bot.store.db import session_scope
from bot.store.models import Office

# Words that ask for the office nearest to the person (folded, as bot.language.detect.words gives).
NEAREST_WORDS = frozenset({
    "nearest", "closest", "nearby", "near", "close", "cercana", "cercano", "cerca",
    "proche", "pres", "voisin", "اقرب", "قريب", "القريب",
})


ASK_WHERE = "utter_ask_where_you_are"


def _asked(slug: str | None) -> list[dict[str, Any]]:
    """After an answer: remember the office it was about (None: several) and keep listening
    for a follow-up ("and on Saturday?"), which the rule for "which office?" sends back here."""
    return [SlotSet("office", slug), SlotSet("awaiting", "office")]


class ActionFindOffice(Clocked, Action):
    """Where an office is and when it is open, by name, by service, by day or by area.

    A follow-up that names only a day ("y el sábado?") is about the office of the previous
    answer (the ``office`` slot), or about every office if that answer covered several. "The
    nearest office" first asks where the person is; the answer (a street, an area) is matched
    against the offices' names, keywords and addresses.
    """

    def name(self) -> str:
        return "action_find_office"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: dict[str, Any]) -> list[dict[str, Any]]:
        language = language_of(tracker)
        text = latest_text(tracker)
        day = find_day(text, self.today())
        follow_up = tracker.get_slot("awaiting") == "office"
        asked_where = offered_before(tracker) == ASK_WHERE
        with session_scope() as session:
            slug = entity(tracker, "office")
            office = offices.get(session, slug) if slug else offices.match_by_name(session, text)
            if office is None and follow_up and day is not None and tracker.get_slot("office"):
                office = offices.get(session, tracker.get_slot("office"))
            if office is not None:
                _one_office(dispatcher, office, day, language)
                return _asked(office.slug)
            if wants_nearest(text) and not asked_where:
                dispatcher.utter_message(
                    response=ASK_WHERE,
                    buttons=_office_buttons(offices.all_offices(session), language, True))
                return _asked(None)
            matched = services.match(session, text)
            candidates = offices.offering(session, matched[0]) if matched else []
            if day is not None and not matched:
                _open_on(dispatcher, offices.all_offices(session), day, language)
                return _asked(None)
            if len(candidates) == 1:
                _one_office(dispatcher, candidates[0], day, language)
                return _asked(candidates[0].slug)
            if candidates:
                names = ", ".join(offices.name(o, language) for o in candidates)
                dispatcher.utter_message(response="utter_offices_for_service", offices=names,
                                         buttons=_office_buttons(candidates, language))
                return _asked(None)
            # Nothing matched (after "where are you?": a place no office is known by): every
            # office, with its address when the person was asked where they are.
            dispatcher.utter_message(
                response="utter_ask_which_office",
                buttons=_office_buttons(offices.all_offices(session), language, asked_where))
        return _asked(None)


def wants_nearest(text: str) -> bool:
    """Whether the message asks for the office nearest to the person ("la más cercana")."""
    return not NEAREST_WORDS.isdisjoint(words(text))


def _office_buttons(candidates: list[Office], language: str, with_address: bool = False
                    ) -> list[dict[str, str]]:
    """One button per office (with its address when the person is asked where they are)."""
    return buttons([(f"{offices.name(o, language)} ({o.address})" if with_address
                     else offices.name(o, language), f'/find_office{{"office": "{o.slug}"}}')
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
