"""Application status (SPEC §5.1): the reference, the ownership check, then the status."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import (
    buttons,
    inform,
    language_of,
    latest_text,
    person_session,
    said_this_turn,
    trusts_phone,
)
from bot.domain import case_help, cases, references
from bot.domain.cases import Outcome
from bot.domain.dates import format_date, parse_date_of_birth
from bot.domain.people import verified_phone
from bot.language.i18n import pick
from bot.language.vocabulary import PERSON_BUTTON
from bot.store.models import Case

SKIPPED = "-"  # fills date_of_birth when it is not needed (phone proven, or locked)
STATUS_SLOTS = ("case_reference", "date_of_birth", "status_outcome", "reference_misses")
MISSES_BEFORE_WAY_ON = 2  # after two answers that are no reference, a way on is offered


class ValidateStatusForm(FormValidationAction):
    def name(self) -> str:
        return "validate_status_form"

    def validate_case_reference(self, value: Any, dispatcher: CollectingDispatcher,
                                tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        candidate = references.find_candidate(str(value or ""))
        if candidate is None or not references.is_valid(candidate):
            stuck = way_on_if_stuck(str(value or ""), dispatcher, tracker)
            if stuck is not None:
                return stuck
        if candidate is None:
            dispatcher.utter_message(response="utter_reference_missing")
            return {"case_reference": None, "reference_misses": _misses(tracker) + 1}
        if not references.is_valid(candidate):
            dispatcher.utter_message(response="utter_reference_invalid",
                                     reference=references.spoken(candidate)
                                     if len(candidate) == 8 else candidate)
            return {"case_reference": None, "reference_misses": _misses(tracker) + 1}
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
            # Two readings of one date (03/04/1990) are read back to pick from, the month as
            # a word; a message with more dates only asks for one.
            language = language_of(tracker)
            options = [(format_date(date, language), inform("date_of_birth", date.isoformat()))
                       for date in candidates] if len(candidates) == 2 else []
            dispatcher.utter_message(response="utter_date_of_birth_one_date",
                                     buttons=buttons(options))
            return {"date_of_birth": None}
        return {"date_of_birth": SKIPPED, "status_outcome": lookup.outcome.value}


def _misses(tracker: Tracker) -> int:
    try:
        return int(tracker.get_slot("reference_misses") or 0)
    except (TypeError, ValueError):
        return 0


def way_on_if_stuck(text: str, dispatcher: CollectingDispatcher,
                    tracker: Tracker) -> dict[str, Any] | None:
    """Instead of the same question again: "I don't have it", or a second answer that is no
    reference, gets the open cases of a proven phone to pick from, or else a person or an
    office. None when the person is not stuck (yet)."""
    misses = _misses(tracker) + 1
    if not case_help.says_no_reference(text) and misses < MISSES_BEFORE_WAY_ON:
        return None
    language = language_of(tracker)
    with person_session(tracker) as (session, person):
        proven = verified_phone(person) if trusts_phone(tracker, person) else None
        found = case_help.open_cases(session, proven)
        if found:
            options = [(case_help.case_label(case, language), inform("reference", case.reference))
                       for case in found]
            options.append((pick(PERSON_BUTTON, language), "/request_human"))
            dispatcher.utter_message(response="utter_reference_pick_case",
                                     buttons=buttons(options))
        elif proven:
            dispatcher.utter_message(response="utter_reference_no_open_case")
        else:
            dispatcher.utter_message(response="utter_reference_way_on")
    return {"case_reference": None, "reference_misses": misses}


def tell_status(dispatcher: CollectingDispatcher, case: Case, language: str) -> None:
    """The status in plain words to the verified owner; what the case waits for, when staff
    said it (the case's ``detail``), in their words and with what to do."""
    service = pick(case.service.names, language)
    missing = case_help.missing_papers(case, language)
    if missing:
        dispatcher.utter_message(response="utter_case_needs_papers",
                                 reference=references.spoken(case.reference), service=service,
                                 papers=missing)
        return
    dispatcher.utter_message(response=f"utter_case_{case.status}",
                             reference=references.spoken(case.reference), service=service)


# Responses that already ask for the case number (or say how to go on without it): the form's
# question is not said again after them in the same turn.
ASKS_ALREADY = frozenset({"utter_reference_missing", "utter_reference_invalid",
                          "utter_reference_way_on", "utter_reference_no_open_case"})


class ActionAskCaseReference(Action):
    """The status form's question (Rasa asks a slot with ``action_ask_<slot>`` when the domain
    has one). Never the same question twice in one turn: after the phone's open cases
    "Which one? Reply 1, 2… or type the case number"; after a way on or a wrong number
    (which ask already) nothing more; otherwise "What is your case number?"."""

    def name(self) -> str:
        return "action_ask_case_reference"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: DomainDict) -> list[dict[str, Any]]:
        said = said_this_turn(tracker)
        if "utter_reference_pick_case" in said:
            dispatcher.utter_message(response="utter_ask_case_reference_pick")
        elif not ASKS_ALREADY.intersection(said):
            dispatcher.utter_message(response="utter_ask_case_reference")
        return []


class ActionHelpStatusForm(Action):
    """Help asked during the status check. "I don't have it" ("je ne l'ai pas") often reads as
    a call for help to the NLU: it gets the way on (the phone's open cases, a person or an
    office) instead of the explanation of the question."""

    def name(self) -> str:
        return "action_help_status_form"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: DomainDict) -> list[dict[str, Any]]:
        text = latest_text(tracker)
        stuck = way_on_if_stuck(text, dispatcher, tracker) \
            if case_help.says_no_reference(text) else None
        if stuck is None:
            dispatcher.utter_message(response="utter_help_status_form")
            return []
        return [SlotSet(slot, value) for slot, value in stuck.items()]


class ActionCaseDocuments(Action):
    """"Which papers?" after a status: answered from the verified case's ``detail``; without a
    case checked in this conversation, the status check starts (it shows them)."""

    def name(self) -> str:
        return "action_case_documents"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: dict[str, Any]) -> list[dict[str, Any]]:
        reference = tracker.get_slot("last_case")
        with person_session(tracker) as (session, _person):
            case = cases.get_by_reference(session, reference) if reference else None
            if case is None:
                return [FollowupAction("status_form")]
            missing = case_help.missing_papers(case, language_of(tracker))
            response = "utter_case_papers" if missing else \
                "utter_case_papers_unknown" if case_help.waits_for_papers(case) else \
                "utter_case_papers_none"
            dispatcher.utter_message(response=response,
                                     reference=references.spoken(case.reference),
                                     papers=missing or "")
        return []


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
            tell_status(dispatcher, case, language_of(tracker))
        # Verified: "which papers?" next may be answered from this case.
        return [*reset, SlotSet("last_case", case.reference)]
