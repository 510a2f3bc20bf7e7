"""The appointment form (SPEC §5.4): service, office, day and time from real availability.

Every question offers what is really free (bot.domain.bookings); typed answers ("mañana", "lundi
prochain", "17/05", "10h30") are read by bot.domain.dates and refused with their reason when the day
or time cannot be booked. The booking itself happens on "yes" (bot.domain.bookings.book), where the
database decides a race for the last desk: the loser is told and asked for another time.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import Clocked, buttons, inform, language_of, said_this_turn
from actions.form_validation import FormValidation
from actions.forms import CLEAR
from bot.domain import bookings, offices, services
from bot.domain.bookings import DayState, TimeState
from bot.domain.dates import day_readings, format_day, parse_time
from bot.domain.forms import BOOKING_FORM, YES
from bot.language.i18n import capitalised, pick
from bot.store.db import session_scope
from bot.store.models import Office, Service

MAX_DAY_BUTTONS = 5
MAX_TIME_BUTTONS = 6
DAY_RESPONSES = {
    DayState.PAST: "utter_appointment_day_past",
    DayState.TOO_FAR: "utter_appointment_day_too_far",
    DayState.HOLIDAY: "utter_appointment_day_holiday",
    DayState.CLOSED: "utter_appointment_day_closed",
    DayState.FULL: "utter_appointment_day_full",
}


def _chosen(session: Any, tracker: Tracker) -> tuple[Service | None, Office | None,
                                                     dt.date | None]:
    """The service, office and day chosen so far (None for those not chosen yet)."""
    service = services.get(session, tracker.get_slot("appointment_service") or "")
    office = offices.get(session, tracker.get_slot("appointment_office") or "")
    try:  # validated days are ISO dates; the one being validated is still what was typed
        day = dt.date.fromisoformat(tracker.get_slot("appointment_day") or "")
    except ValueError:
        day = None
    return service, office, day


def spread(items: list, count: int) -> list:
    """At most ``count`` items spread over the whole list (morning to evening)."""
    if len(items) <= count:
        return items
    picked = [items[round(i * (len(items) - 1) / (count - 1))] for i in range(count)]
    return list(dict.fromkeys(picked))


class ValidateBookAppointmentForm(Clocked, FormValidation):
    form = BOOKING_FORM

    def validate_appointment_service(self, value: Any, dispatcher: CollectingDispatcher,
                                     tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        with session_scope() as session:
            bookable = {s.slug: s for s in bookings.bookable_services(session)}
            service = bookable.get(str(value)) or next(
                (s for s in services.match(session, str(value or "")) if s.slug in bookable),
                None)
            if service is None:
                dispatcher.utter_message(response="utter_appointment_service_unknown")
                return {"appointment_service": None}
            candidates = [o.slug for o in offices.offering(session, service)]
        result: dict[str, Any] = {"appointment_service": service.slug}
        office = tracker.get_slot("appointment_office")
        if office not in candidates:
            # One office only: it is chosen. Otherwise (or if the one chosen does not offer
            # this service) the question comes.
            result.update(appointment_office=candidates[0] if len(candidates) == 1 else None,
                          appointment_day=None, appointment_time=None)
        return result

    def validate_appointment_office(self, value: Any, dispatcher: CollectingDispatcher,
                                    tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        language = language_of(tracker)
        with session_scope() as session:
            service, _office, _day = _chosen(session, tracker)
            candidates = offices.offering(session, service) if service else []
            office = offices.get(session, str(value)) or offices.match_by_name(
                session, str(value or ""))
            if office is None or office not in candidates:
                dispatcher.utter_message(response="utter_appointment_office_unknown",
                                         service=pick(service.names, language)
                                         if service else "")
                return {"appointment_office": None}
            return {"appointment_office": office.slug}

    def validate_appointment_day(self, value: Any, dispatcher: CollectingDispatcher,
                                 tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        language = language_of(tracker)
        now = self.now()
        readings = day_readings(str(value or ""), now.date())
        bookable = [day for day in readings
                    if 0 <= (day - now.date()).days <= bookings.horizon_days()]
        if len(readings) > 1 and len(bookable) == 1:  # "10/12": 10 December, not next October
            readings = bookable
        if not readings:
            dispatcher.utter_message(response="utter_appointment_day_unreadable")
            return {"appointment_day": None}
        if len(readings) > 1:  # 03/04: read back both, never guessed
            dispatcher.utter_message(response="utter_appointment_day_which", buttons=buttons(
                [(format_day(day, language), inform("appointment_day", day.isoformat()))
                 for day in readings]))
            return {"appointment_day": None}
        day = readings[0]
        with session_scope() as session:
            _service, office, _day = _chosen(session, tracker)
            if office is None:
                return {"appointment_day": None}
            state = bookings.day_state(session, office, day, now)
            if state is DayState.OPEN:
                return {"appointment_day": day.isoformat()}
            holiday = offices.holiday_on(office, day)
            dispatcher.utter_message(
                response=DAY_RESPONSES[state], date=format_day(day, language),
                office=offices.name(office, language), days=bookings.horizon_days(),
                holiday=pick(holiday.names, language) if holiday else "")
        return {"appointment_day": None}

    def validate_appointment_time(self, value: Any, dispatcher: CollectingDispatcher,
                                  tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        language = language_of(tracker)
        time = parse_time(str(value or ""))
        if time is None:
            dispatcher.utter_message(response="utter_appointment_time_unreadable")
            return {"appointment_time": None}
        with session_scope() as session:
            _service, office, day = _chosen(session, tracker)
            if office is None or day is None:
                return {"appointment_time": None}
            state = bookings.time_state(session, office, day, time)
            if state is TimeState.FREE:
                return {"appointment_time": f"{time:%H:%M}"}
            if state is TimeState.CLOSED:
                dispatcher.utter_message(response="utter_appointment_time_closed",
                                         date=format_day(day, language),
                                         office=offices.name(office, language),
                                         hours=offices.hours_on(office, day))
            elif state is TimeState.PAST:
                dispatcher.utter_message(response="utter_appointment_time_past")
            else:
                dispatcher.utter_message(response="utter_appointment_time_taken",
                                         time=f"{time:%H:%M}")
            day_full = not bookings.free_times(session, office, day)
        return {"appointment_time": None, **({"appointment_day": None} if day_full else {})}

    def validate_booking_confirm(self, value: Any, dispatcher: CollectingDispatcher,
                                 tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        return self.confirm(value, dispatcher, tracker)

    def submit(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
        """Book (or move) now; a slot lost to someone else sends the person back to the time."""
        day = dt.date.fromisoformat(tracker.get_slot("appointment_day"))
        time = dt.time.fromisoformat(tracker.get_slot("appointment_time"))
        starts_at = dt.datetime.combine(day, time)
        moving = tracker.get_slot("booking_move")
        try:
            if moving:
                booked = bookings.move(tracker.sender_id, moving, starts_at)
            else:
                booked = bookings.book(tracker.sender_id, tracker.get_slot("appointment_service"),
                                       tracker.get_slot("appointment_office"), starts_at,
                                       language_of(tracker))
        except bookings.SlotTaken:
            dispatcher.utter_message(response="utter_booking_slot_lost", time=f"{time:%H:%M}")
            with session_scope() as session:
                office = offices.get(session, tracker.get_slot("appointment_office"))
                day_full = not bookings.free_times(session, office, day)
            return {"booking_confirm": None, "appointment_time": None,
                    **({"appointment_day": None} if day_full else {})}
        except bookings.BookingError:  # the booking to move is gone (cancelled meanwhile)
            dispatcher.utter_message(response="utter_pick_an_option")
            return {"booking_confirm": None, "booking_move": None}
        return {"booking_confirm": YES, "form_reference": booked.reference}


class AskAction(Action, ABC):
    """Asks one question of the appointment form with buttons built from the data."""

    slot = ""

    def name(self) -> str:
        return f"action_ask_{self.slot}"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: dict[str, Any]) -> list[dict[str, Any]]:
        with session_scope() as session:
            return self.ask(dispatcher, tracker, session, language_of(tracker))

    @abstractmethod
    def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker, session: Any,
            language: str) -> list[dict[str, Any]]:
        """Utter the question (with its buttons); return any events."""


class ActionAskAppointmentService(AskAction):
    slot = "appointment_service"

    def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker, session: Any,
            language: str) -> list[dict[str, Any]]:
        options = [(capitalised(pick(s.names, language)), inform("appointment_service", s.slug))
                   for s in bookings.bookable_services(session)]
        dispatcher.utter_message(response="utter_ask_appointment_service",
                                 buttons=buttons(options))
        return []


class ActionAskAppointmentOffice(AskAction):
    slot = "appointment_office"

    def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker, session: Any,
            language: str) -> list[dict[str, Any]]:
        service, _office, _day = _chosen(session, tracker)
        candidates = offices.offering(session, service) if service else []
        options = [(offices.name(o, language), inform("appointment_office", o.slug))
                   for o in candidates]
        dispatcher.utter_message(response="utter_ask_appointment_office",
                                 service=pick(service.names, language) if service else "",
                                 buttons=buttons(options))
        return []


class ActionAskAppointmentDay(AskAction):
    slot = "appointment_day"

    def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker, session: Any,
            language: str) -> list[dict[str, Any]]:
        if "utter_appointment_day_which" in said_this_turn(tracker):
            return []  # "Which day do you mean?" with the two readings asks already
        _service, office, _day = _chosen(session, tracker)
        days = bookings.free_days(session, office, limit=MAX_DAY_BUTTONS) if office else []
        name = offices.name(office, language) if office else ""
        if not days:  # nothing free in the whole booking horizon: say so, leave the form
            dispatcher.utter_message(response="utter_appointment_no_days", office=name)
            return [ActiveLoop(None), *CLEAR]
        options = [(format_day(day, language, short=True),
                    inform("appointment_day", str(day)))
                   for day in days]
        dispatcher.utter_message(response="utter_ask_appointment_day", office=name,
                                 buttons=buttons(options))
        return []


class ActionAskAppointmentTime(AskAction):
    slot = "appointment_time"

    def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker, session: Any,
            language: str) -> list[dict[str, Any]]:
        _service, office, day = _chosen(session, tracker)
        free = bookings.free_times(session, office, day) if office and day else []
        options = [(f"{t:%H:%M}", inform("appointment_time", f"{t:%H:%M}"))
                   for t in spread(free, MAX_TIME_BUTTONS)]
        dispatcher.utter_message(response="utter_ask_appointment_time",
                                 date=format_day(day, language) if day else "",
                                 buttons=buttons(options))
        return []


class ActionAskBookingConfirm(AskAction):
    slot = "booking_confirm"

    def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker, session: Any,
            language: str) -> list[dict[str, Any]]:
        service, office, day = _chosen(session, tracker)
        dispatcher.utter_message(
            response="utter_ask_booking_confirm",
            service=pick(service.names, language) if service else "",
            office=offices.name(office, language) if office else "",
            address=office.address if office else "",
            date=format_day(day, language) if day else "",
            time=tracker.get_slot("appointment_time") or "")
        return []
