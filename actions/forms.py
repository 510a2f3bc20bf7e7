"""Guided forms, the conversation around them (SPEC §5.4): start, resume, help, finish.

* ``action_start_form`` (intents report_problem, book_appointment): offers the person's draft
  ("go on or start again?") or, for appointments, their upcoming booking ("new, move or
  cancel?"); otherwise starts the form itself, pre-filled from the first message.
* ``action_form_choice``: the answer to that offer.
* the forms while they run (drafts, yes/no, changing an answer): actions/form_validation.py.
* ``action_form_help``: "help" / "why" explains the current question; the form asks it again.
* ``action_form_done``: tells the reference and clears the form's slots.

Media contract with the channels: a photo (Telegram, MMS) comes as message metadata
``{"media": [{"url": ..., "content_type": ...}, ...]}`` (Telegram: ``{"file_id": ...}``),
maybe with no text; :func:`media_of` reads it.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import call_off
from actions.call_off import CALL_OFF, CALL_PICK
from actions.common import entity, language_of, latest_text, person_session
from actions.conversation import FORM_SLOTS
from bot.domain import bookings, drafts, forms, offices, references, services
from bot.domain.forms import BOOKING_FORM, CONFIRM_SLOTS, REPORT_FORM, YES
from bot.language.i18n import capitalised, pick
from bot.language.vocabulary import KIND_NAMES

START_INTENTS = {"report_problem": REPORT_FORM, "book_appointment": BOOKING_FORM}
ANSWER_SLOTS = {REPORT_FORM: forms.REPORT_SLOTS, BOOKING_FORM: forms.BOOKING_SLOTS}
CLEAR = [SlotSet(slot, None) for slot in forms.ALL_SLOTS] + [SlotSet("requested_slot", None)]
DRAFT, BOOKINGS = "draft", "bookings"
# Yes/no questions before something is thrown away (a typed "cancel" may mean something else).
LEAVE = "leave"
# What each offer's answers are; "yes" picks the first, "no" the second.
CHOICES = {DRAFT: ["continue", "restart"], BOOKINGS: ["new", "move", "cancel"],
           LEAVE: ["leave", "resume"], CALL_OFF: ["calloff", "keep"], CALL_PICK: ["", "keep"]}
# A typed cancellation at each offer: of the booking (after a yes), of the form (ditto); at
# the list of bookings, the list again (the person still has to say which).
CANCEL_MEANS = {BOOKINGS: "cancel", CALL_OFF: "calloff", LEAVE: "leave", CALL_PICK: ""}


def message_metadata(tracker: Tracker) -> dict[str, Any]:
    """The metadata the channel sent with the latest message (on its ``user`` event)."""
    metadata = tracker.latest_message.get("metadata")
    if metadata:
        return metadata
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return event.get("metadata") or {}
    return {}


def media_of(tracker: Tracker) -> list[dict[str, Any]]:
    """Media attached to the latest message: [{"url"|"file_id": ..., "content_type": ...}]."""
    media = message_metadata(tracker).get("media") or []
    return [item for item in media if isinstance(item, dict)
            and (item.get("url") or item.get("file_id"))]


def intent_of(tracker: Tracker) -> str:
    return (tracker.latest_message.get("intent") or {}).get("name") or ""


def answers_of(tracker: Tracker, form: str) -> dict[str, Any]:
    return {slot: tracker.get_slot(slot) for slot in ANSWER_SLOTS[form]
            if slot not in CONFIRM_SLOTS.values()}


def draft_summary(session: Any, form: str, answers: dict[str, Any], language: str) -> str:
    """What the draft says so far, in a few words ("Pothole, 12 Elm Street")."""
    if form == REPORT_FORM:
        parts = [forms.name_of(KIND_NAMES, answers.get("problem_kind"), language)
                 if answers.get("problem_kind") else "",
                 forms.short(answers.get("problem_place") or "", 40)]
    else:
        service = services.get(session, answers.get("appointment_service") or "")
        office = offices.get(session, answers.get("appointment_office") or "")
        parts = [pick(service.names, language) if service else "",
                 offices.name(office, language) if office else ""]
    summary = ", ".join(part for part in parts if part) or "-"
    return capitalised(summary)


def start(form: str, **prefilled: Any) -> list[dict[str, Any]]:
    """Events that start ``form`` now, with some answers already given."""
    return [*CLEAR, *(SlotSet(k, v) for k, v in prefilled.items() if v is not None),
            FollowupAction(form)]


def offer(dispatcher: CollectingDispatcher, session: Any, person: Any, form: str,
          language: str) -> list[dict[str, Any]] | None:
    """Offer the person's draft of ``form`` (go on / start again) or, for appointments, their
    next booking (new / move / cancel); None when there is nothing to offer."""
    draft = drafts.load(session, person, form)
    if draft is not None:
        dispatcher.utter_message(response="utter_offer_draft",
                                 summary=draft_summary(session, form, draft.answers, language))
        return [SlotSet("form_offer", f"{form}:{DRAFT}")]
    upcoming = bookings.owned(session, person) if form == BOOKING_FORM else []
    if upcoming:
        summary = call_off.booking_summary(upcoming[0], language)
        dispatcher.utter_message(response="utter_offer_bookings",
                                 booking=f"{summary['service']}, {summary['office']}, "
                                         f"{summary['date']} {summary['time']}")
        return [SlotSet("form_offer", f"{form}:{BOOKINGS}:{upcoming[0].case.reference}")]
    return None


def typed(tracker: Tracker) -> bool:
    """The latest message was typed (or said), not a button or MENU (which send "/intent")."""
    return not latest_text(tracker).startswith("/")


def to_the_menu(dispatcher: CollectingDispatcher) -> list[dict[str, Any]]:
    """The menu, with every form slot cleared (what action_cancel does). Said here, not by a
    FollowupAction: no rule follows such a follow-up, and the turn must end with a listen."""
    dispatcher.utter_message(response="utter_menu")
    return [ActiveLoop(None), *(SlotSet(slot, None) for slot in FORM_SLOTS),
            SlotSet("form_offer", None)]


def leave_form(dispatcher: CollectingDispatcher, session: Any, person: Any,
               form: str) -> list[dict[str, Any]]:
    """Leave ``form`` for good: its draft is forgotten, and the menu comes."""
    drafts.discard(session, person, form)
    dispatcher.utter_message(response="utter_cancelled")
    return to_the_menu(dispatcher)


class ActionConfirmLeaveForm(Action):
    """`cancel` inside a guided form. MENU (or a Menu button) leaves at once; a typed "cancel"
    asks first, since the answers are lost. The form pauses meanwhile; "no" goes on."""

    def name(self) -> str:
        return "action_confirm_leave_form"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: dict[str, Any]) -> list[dict[str, Any]]:
        form = tracker.active_loop_name or ""
        if form not in forms.FORMS:
            return to_the_menu(dispatcher)
        if not typed(tracker):
            with person_session(tracker) as (session, person):
                return leave_form(dispatcher, session, person, form)
        dispatcher.utter_message(response="utter_confirm_leave_form")
        return [ActiveLoop(None), SlotSet("requested_slot", None),
                SlotSet("form_offer", f"{form}:{LEAVE}")]


class ActionStartForm(Action):
    """Starts a guided form, unless there is something to resume or a booking to manage."""

    def name(self) -> str:
        return "action_start_form"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: dict[str, Any]) -> list[dict[str, Any]]:
        form = START_INTENTS.get(intent_of(tracker), REPORT_FORM)
        text = tracker.latest_message.get("text") or ""
        with person_session(tracker) as (session, person):
            if form == BOOKING_FORM and bookings.wants_call_off(text):
                return call_off.offer_call_off(dispatcher, session, person, language_of(tracker))
            offered = offer(dispatcher, session, person, form, language_of(tracker))
            if offered is not None:
                return offered
            if form == BOOKING_FORM:  # pre-filled with the service the message names
                bookable = {s.slug for s in bookings.bookable_services(session)}
                matched = [s.slug for s in services.match(session, text) if s.slug in bookable]
                return start(form, appointment_service=matched[0] if matched else None)
        kind = forms.match_kind(text)  # pre-filled with the kind of problem it names
        return start(form, problem_kind=kind if kind != forms.OTHER else None)


class ActionFormChoice(Action):
    """The answer to action_start_form's offer: go on / start again, or new / move / cancel."""

    def name(self) -> str:
        return "action_form_choice"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: dict[str, Any]) -> list[dict[str, Any]]:
        offered = (tracker.get_slot("form_offer") or "").split(":")
        if len(offered) < 2 or offered[0] not in forms.FORMS:
            dispatcher.utter_message(response="utter_menu")
            return [SlotSet("form_offer", None)]
        form, kind = offered[0], offered[1]
        options = CHOICES.get(kind, CHOICES[BOOKINGS])
        choice = entity(tracker, "form_choice")
        if choice is None and intent_of(tracker) in ("affirm", "deny"):
            choice = options[0] if intent_of(tracker) == "affirm" else options[1]
        if choice is None and (intent_of(tracker) == "cancel"
                               or bookings.wants_call_off(latest_text(tracker))):
            if not typed(tracker) or kind not in CANCEL_MEANS:  # MENU: the menu, nothing lost
                return to_the_menu(dispatcher)
            choice = CANCEL_MEANS[kind]
        with person_session(tracker) as (session, person):
            answered = self.answer_confirmation(dispatcher, session, person, form, kind, choice,
                                                offered, language_of(tracker))
            if answered is not None:
                return answered
            if choice not in options:  # the offer again (or the form, if it is gone)
                dispatcher.utter_message(response="utter_pick_an_option")
                return offer(dispatcher, session, person, form, language_of(tracker)) \
                    or start(form)
            if choice == "continue":
                draft = drafts.load(session, person, form)
                return start(form, **(draft.answers if draft else {}))
            if choice == "restart":
                drafts.discard(session, person, form)
                return start(form)
            if choice == "new":
                return start(form)
            reference = offered[2] if len(offered) > 2 else ""
            booking = bookings.find(session, reference)
            if booking is None:
                dispatcher.utter_message(response="utter_menu")
                return [SlotSet("form_offer", None)]
            if choice == "move":
                return start(form, appointment_service=booking.service.slug,
                             appointment_office=booking.office.slug, booking_move=reference)
            return call_off.offer_call_off(dispatcher, session, person, language_of(tracker))

    @staticmethod
    def answer_confirmation(dispatcher: CollectingDispatcher, session: Any, person: Any,
                            form: str, kind: str, choice: str | None, offered: list[str],
                            language: str) -> list[dict[str, Any]] | None:
        """The yes/no before something is thrown away: leave the form, call a booking off.
        None when the offer was not such a question."""
        if kind == LEAVE:
            if choice == "leave":
                return leave_form(dispatcher, session, person, form)
            if choice == "resume":
                return [SlotSet("form_offer", None), FollowupAction(form)]
            dispatcher.utter_message(response="utter_pick_an_option")
            dispatcher.utter_message(response="utter_confirm_leave_form")
            return []
        return call_off.answer(dispatcher, session, person, kind, choice, offered, language)


HELP_RESPONSES = {slot: f"utter_help_{slot}" for slot in (
    "problem_kind", "problem_detail", "problem_place", "problem_photo", "contact_preference",
    "contact_phone", "form_field", "appointment_service", "appointment_office",
    "appointment_day", "appointment_time")}
HELP_RESPONSES.update({slot: "utter_help_confirm" for slot in CONFIRM_SLOTS.values()})


class ActionFormHelp(Action):
    """'help' / 'why' in a form: why this question and how to answer (then it comes again)."""

    def name(self) -> str:
        return "action_form_help"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: dict[str, Any]) -> list[dict[str, Any]]:
        response = HELP_RESPONSES.get(tracker.get_slot("requested_slot") or "", "utter_help")
        dispatcher.utter_message(response=response)
        return []


class ActionFormDone(Action):
    """After a confirmed form: the reference, in words that fit an SMS; then a clean slate."""

    def name(self) -> str:
        return "action_form_done"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: dict[str, Any]) -> list[dict[str, Any]]:
        reference = tracker.get_slot("form_reference")
        language = language_of(tracker)
        if not reference:
            return CLEAR
        if tracker.get_slot("booking_confirm") == YES:
            with person_session(tracker) as (session, _person):
                booking = bookings.find(session, reference)
                if booking is not None:
                    moved = bool(tracker.get_slot("booking_move"))
                    dispatcher.utter_message(
                        response="utter_booking_moved" if moved else "utter_booked",
                        **call_off.booking_summary(booking, language))
        else:
            dispatcher.utter_message(response="utter_problem_reported",
                                     reference=references.spoken(reference))
        return CLEAR
