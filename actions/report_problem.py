"""The problem report form (SPEC §5.4): what, where, a photo, how to contact; then a case."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import channel_of, language_of, latest_text, person_session
from actions.form_validation import FormValidation
from actions.forms import intent_of, media_of
from bot.domain import forms, people
from bot.domain.forms import NO_PHOTO, OTHER, REPORT_FORM, YES
from bot.domain.phones import to_e164

# Intents that are never an answer: the form steps aside for their rules.
NOT_ANSWERS = frozenset({"cancel", "request_human", "help", "change_language"})
PLACE_ERRORS = {"empty": "utter_problem_place_empty", "phone": "utter_problem_place_is_phone"}


class ValidateReportProblemForm(FormValidation):
    form = REPORT_FORM

    def needs(self, slot: str, tracker: Tracker) -> bool:
        if slot == "problem_detail":
            return tracker.get_slot("problem_kind") == OTHER
        if slot == "contact_phone":
            return tracker.get_slot("contact_preference") == "phone_call"
        return super().needs(slot, tracker)

    def extract_problem_photo(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                              domain: DomainDict) -> dict[str, Any]:
        """A photo comes as metadata, maybe without text; "no" skips it."""
        if tracker.get_slot("requested_slot") != "problem_photo" \
                or intent_of(tracker) in NOT_ANSWERS:
            return {}
        media = media_of(tracker)
        if media:
            return {"problem_photo": media[0]}
        if intent_of(tracker) == "deny":
            return {"problem_photo": NO_PHOTO}
        return {"problem_photo": latest_text(tracker)}

    def validate_problem_kind(self, value: Any, dispatcher: CollectingDispatcher,
                              tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        if value in forms.PROBLEM_KINDS:
            return {"problem_kind": value}
        text = str(value or "")
        kind = forms.match_kind(text)
        if kind is not None:
            return {"problem_kind": kind}
        if forms.is_description(text):  # a problem of its own kind, described
            return {"problem_kind": OTHER, "problem_detail": text[:forms.MAX_DETAIL]}
        dispatcher.utter_message(response="utter_problem_kind_unclear")
        return {"problem_kind": None}

    def validate_problem_detail(self, value: Any, dispatcher: CollectingDispatcher,
                                tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        text = " ".join(str(value or "").split())
        if forms.is_description(text):
            return {"problem_detail": text[:forms.MAX_DETAIL]}
        dispatcher.utter_message(response="utter_problem_detail_short")
        return {"problem_detail": None}

    def validate_problem_place(self, value: Any, dispatcher: CollectingDispatcher,
                               tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        try:
            return {"problem_place": forms.clean_place(str(value or ""))}
        except forms.PlaceError as error:
            dispatcher.utter_message(response=PLACE_ERRORS[error.reason])
            return {"problem_place": None}

    def validate_problem_photo(self, value: Any, dispatcher: CollectingDispatcher,
                               tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        if isinstance(value, dict):
            content_type = str(value.get("content_type") or "image/")
            if not content_type.startswith("image/"):
                dispatcher.utter_message(response="utter_problem_photo_not_image")
                return {"problem_photo": None}
            if media_of(tracker):  # just sent (not a resumed draft)
                dispatcher.utter_message(response="utter_problem_photo_received")
            return {"problem_photo": value}
        if value == NO_PHOTO or forms.is_skip(str(value or "")):
            return {"problem_photo": NO_PHOTO}
        dispatcher.utter_message(response="utter_problem_photo_missing")
        return {"problem_photo": None}

    def validate_contact_preference(self, value: Any, dispatcher: CollectingDispatcher,
                                    tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        choice = value if value in forms.CONTACT_CHOICES else forms.match_contact(str(value))
        if choice is None:
            dispatcher.utter_message(response="utter_pick_an_option")
            return {"contact_preference": None}
        if choice != "phone_call":
            return {"contact_preference": choice, "contact_phone": None}
        with person_session(tracker) as (_session, person):
            known = people.verified_phone(person)  # then we do not ask for it
        return {"contact_preference": choice, "contact_phone": known}

    def validate_contact_phone(self, value: Any, dispatcher: CollectingDispatcher,
                               tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        phone = to_e164(str(value or ""))
        if phone is None:
            dispatcher.utter_message(response="utter_contact_phone_invalid")
        return {"contact_phone": phone}

    def validate_problem_confirm(self, value: Any, dispatcher: CollectingDispatcher,
                                 tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        return self.confirm(value, dispatcher, tracker)

    def submit(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
        answers = {slot: tracker.get_slot(slot) for slot in forms.REPORT_SLOTS}
        with person_session(tracker) as (session, person):
            case = forms.submit_report(session, person, answers, language_of(tracker),
                                       channel_of(tracker))
            reference = case.reference
        return {"problem_confirm": YES, "form_reference": reference}


class ActionAskProblemConfirm(Action):
    """The read-back of the report before it is sent."""

    def name(self) -> str:
        return "action_ask_problem_confirm"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: dict[str, Any]) -> list[dict[str, Any]]:
        answers = {slot: tracker.get_slot(slot) for slot in forms.REPORT_SLOTS}
        dispatcher.utter_message(response="utter_ask_problem_confirm",
                                 **forms.report_summary(answers, language_of(tracker)))
        return []
