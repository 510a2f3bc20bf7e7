"""Application status (SPEC §5.1): the reference, the ownership check, then the status."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import language_of, person_session, trusts_phone
from bot import cases, references
from bot.cases import Outcome
from bot.dates import parse_date_of_birth
from bot.i18n import pick

SKIPPED = "-"  # fills date_of_birth when it is not needed (phone proven, or locked)
STATUS_SLOTS = ("case_reference", "date_of_birth", "status_outcome")


class ValidateStatusForm(FormValidationAction):
    def name(self) -> str:
        return "validate_status_form"

    def validate_case_reference(self, value: Any, dispatcher: CollectingDispatcher,
                                tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        candidate = references.find_candidate(str(value or ""))
        if candidate is None:
            dispatcher.utter_message(response="utter_reference_missing")
            return {"case_reference": None}
        if not references.is_valid(candidate):
            dispatcher.utter_message(response="utter_reference_invalid",
                                     reference=references.spoken(candidate)
                                     if len(candidate) == 8 else candidate)
            return {"case_reference": None}
        with person_session(tracker) as (session, person):
            lookup = cases.start_lookup(session, person, candidate, trusts_phone(tracker, person))
        if lookup.outcome is Outcome.NEEDS_DOB:
            return {"case_reference": candidate}
        return {"case_reference": candidate, "date_of_birth": SKIPPED,
                "status_outcome": lookup.outcome.value}

    def validate_date_of_birth(self, value: Any, dispatcher: CollectingDispatcher,
                               tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        if value == SKIPPED:
            return {"date_of_birth": SKIPPED}
        candidates = parse_date_of_birth(str(value or ""))
        if not candidates:
            dispatcher.utter_message(response="utter_date_unreadable")
            return {"date_of_birth": None}
        reference = tracker.get_slot("case_reference") or ""
        with person_session(tracker) as (session, person):
            lookup = cases.check_date_of_birth(session, person, reference, candidates)
        if lookup.outcome is Outcome.WRONG_DOB:
            dispatcher.utter_message(response="utter_details_do_not_match",
                                     attempts_left=lookup.attempts_left)
            return {"date_of_birth": None}
        if lookup.outcome is Outcome.ONE_DATE:  # not an attempt: nothing tried or counted
            dispatcher.utter_message(response="utter_date_of_birth_one_date")
            return {"date_of_birth": None}
        return {"date_of_birth": SKIPPED, "status_outcome": lookup.outcome.value}


class ActionShowCaseStatus(Action):
    """After the form: the status in plain words to the owner, or the lock message."""

    def name(self) -> str:
        return "action_show_case_status"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: dict[str, Any]) -> list[dict[str, Any]]:
        outcome = tracker.get_slot("status_outcome")
        reference = tracker.get_slot("case_reference") or ""
        reset = [SlotSet(slot, None) for slot in STATUS_SLOTS]
        if outcome != Outcome.OWNER.value:
            dispatcher.utter_message(response="utter_reference_locked")
            return reset
        with person_session(tracker) as (session, _person):
            case = cases.get_by_reference(session, reference)
            if case is None:  # deleted between the check and now
                dispatcher.utter_message(response="utter_reference_locked")
                return reset
            dispatcher.utter_message(
                response=f"utter_case_{case.status}",
                reference=references.spoken(case.reference),
                service=pick(case.service.names, language_of(tracker)),
            )
        return reset
