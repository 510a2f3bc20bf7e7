"""Calling an appointment off (issue 9): which one, then one yes/no, in the person's words.

"Cancel my appointment" with one booking asks "Call off your appointment: ID cards, Riverton
City Hall, Tuesday 8 December 10:00?" (yes / no). With several, it first lists the soonest
(:data:`MAX_BOOKINGS_LISTED`, and "None, keep them") as numbered options; the one picked gets
that same single question. What was offered is kept in the ``form_offer`` slot
(``book_appointment_form:callpick:<ref>,<ref>`` then ``book_appointment_form:calloff:<ref>``),
and actions/forms.py's ``action_form_choice`` hands the answer to :func:`answer`.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import buttons, inform
from bot.domain import bookings, offices, references
from bot.domain.dates import format_day
from bot.domain.forms import BOOKING_FORM
from bot.language.i18n import pick

CALL_OFF, CALL_PICK = "calloff", "callpick"
MAX_BOOKINGS_LISTED = 3  # with "keep them", four options: one text, one voice menu page
KEEP = "keep"
KEEP_ALL = {"en": "None, keep them", "es": "Ninguna, mantenerlas", "fr": "Aucun, les garder",
            "ar": "لا شيء، أبقها"}


def booking_summary(booking: Any, language: str) -> dict[str, str]:
    """Placeholders describing a booking: when, where, what."""
    return {
        "date": format_day(booking.starts_at.date(), language),
        "time": f"{booking.starts_at:%H:%M}",
        "office": offices.name(booking.office, language),
        "address": booking.office.address,
        "service": pick(booking.service.names, language),
        "reference": references.spoken(booking.case.reference),
    }


def offer_call_off(dispatcher: CollectingDispatcher, session: Any, person: Any,
                   language: str, reference: str | None = None) -> list[dict[str, Any]]:
    """"Call off your appointment …?" (yes / no) for the person's booking ``reference``, or
    their only one; with several and none named, "which one?" first (:func:`offer_pick`)."""
    upcoming = bookings.owned(session, person)
    if reference is not None:
        upcoming = [b for b in upcoming if b.case.reference == reference]
    if not upcoming:
        dispatcher.utter_message(response="utter_no_booking_to_call_off")
        return [SlotSet("form_offer", None)]
    if len(upcoming) > 1:
        return offer_pick(dispatcher, upcoming, language)
    summary = booking_summary(upcoming[0], language)
    dispatcher.utter_message(response="utter_confirm_call_off",
                             booking=f"{summary['service']}, {summary['office']}, "
                                     f"{summary['date']} {summary['time']}")
    return [SlotSet("form_offer", f"{BOOKING_FORM}:{CALL_OFF}:{upcoming[0].case.reference}")]


def pick_title(booking: Any, language: str, with_service: bool = True) -> str:
    """"Tuesday 8 December, 10:00 (ID cards)": when first, it tells bookings apart (and a
    call says the time in full: nothing but a space may follow it). The service only when the
    listed bookings are not all for the same one: fewer words to hear."""
    summary = booking_summary(booking, language)
    comma = "،" if language == "ar" else ","
    when = f"{summary['date']}{comma} {summary['time']}"
    return f"{when} ({summary['service']})" if with_service else when


def offer_pick(dispatcher: CollectingDispatcher, upcoming: list[Any],
               language: str) -> list[dict[str, Any]]:
    """"Which one do you want to call off?" with the soonest bookings and "None, keep them"."""
    listed = upcoming[:MAX_BOOKINGS_LISTED]
    several_services = len({b.service_id for b in listed}) > 1
    options = [(pick_title(b, language, several_services), inform("form_choice", b.case.reference))
               for b in listed]
    options.append((pick(KEEP_ALL, language), inform("form_choice", KEEP)))
    dispatcher.utter_message(response="utter_pick_booking_to_call_off",
                             buttons=buttons(options))
    listed_references = ",".join(b.case.reference for b in listed)
    return [SlotSet("form_offer", f"{BOOKING_FORM}:{CALL_PICK}:{listed_references}")]


def answer(dispatcher: CollectingDispatcher, session: Any, person: Any, kind: str,
           choice: str | None, offered: list[str], language: str) -> list[dict[str, Any]] | None:
    """The answer to "which one?" or to "call it off?"; None for any other offer."""
    named = offered[2] if len(offered) > 2 else ""
    if kind == CALL_PICK:
        listed = named.split(",") if named else []
        if choice == KEEP:
            dispatcher.utter_message(response="utter_bookings_kept")
            return [SlotSet("form_offer", None)]
        if choice in listed:
            return offer_call_off(dispatcher, session, person, language, reference=choice)
        dispatcher.utter_message(response="utter_pick_an_option")
        return offer_call_off(dispatcher, session, person, language)
    if kind != CALL_OFF:
        return None
    if choice == KEEP:
        dispatcher.utter_message(response="utter_booking_kept")
        return [SlotSet("form_offer", None)]
    if choice != "calloff":  # the same question again, for the same booking
        dispatcher.utter_message(response="utter_pick_an_option")
        return offer_call_off(dispatcher, session, person, language, reference=named or None)
    try:
        bookings.cancel(session, person, named)
    except bookings.BookingError:  # gone meanwhile (cancelled, or passed)
        dispatcher.utter_message(response="utter_no_booking_to_call_off")
        return [SlotSet("form_offer", None)]
    dispatcher.utter_message(response="utter_booking_cancelled",
                             reference=references.spoken(named))
    return [SlotSet("form_offer", None)]
