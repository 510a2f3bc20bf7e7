"""A guided form while it runs (SPEC §5.4): what both forms' validation actions share.

:class:`FormValidation` saves the draft after every answer (so a person can resume in a new
session or on another channel), handles yes/no at the read-back, and after a "no" asks "what do
you want to change?" (``action_ask_form_field``), clearing that answer and the ones that depend
on it. Starting, resuming and finishing a form are actions/forms.py.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import channel_of, inform, language_of, person_session
from actions.forms import answers_of
from bot.domain import drafts, forms
from bot.domain.forms import CONFIRM_SLOTS, NO, REPORT_FORM, YES
from bot.language.vocabulary import FIELD_NAMES


class FormValidation(FormValidationAction):
    """What both forms' validation actions share: drafts, yes/no, changing an answer.

    Subclasses set ``form`` and add ``validate_<slot>`` methods; ``needs`` drops the optional
    slots that are not wanted now (the domain lists every slot a form may ask).
    """

    form = ""

    def name(self) -> str:
        return f"validate_{self.form}"

    def needs(self, slot: str, tracker: Tracker) -> bool:
        if slot == "form_field":
            return tracker.get_slot(CONFIRM_SLOTS[self.form]) == NO
        return True

    async def required_slots(self, domain_slots: list[str], dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: DomainDict) -> list[str]:
        return [slot for slot in domain_slots if self.needs(slot, tracker)]

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[dict[str, Any]]:
        events = await super().run(dispatcher, tracker, domain)
        with person_session(tracker) as (session, person):
            if tracker.get_slot("form_reference"):  # submitted: nothing left to resume
                drafts.discard(session, person, self.form)
            else:
                drafts.save(session, person, self.form, answers_of(tracker, self.form),
                            channel_of(tracker))
        return events

    @abstractmethod
    def submit(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
        """Create what the form was for; return the slots to set (with ``form_reference``)."""

    def confirm(self, value: Any, dispatcher: CollectingDispatcher,
                tracker: Tracker) -> dict[str, Any]:
        slot = CONFIRM_SLOTS[self.form]
        if value == YES:
            return self.submit(dispatcher, tracker)
        if value == NO:
            return {slot: NO, "form_field": None}
        dispatcher.utter_message(response="utter_confirm_unclear")
        return {slot: None}

    def validate_form_field(self, value: Any, dispatcher: CollectingDispatcher,
                            tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        """The answer to change: it is cleared (with the ones depending on it) and asked again.
        A button sends the field; a typed name ("place", "la hora") is matched to one."""
        if value not in forms.CHANGEABLE[self.form]:
            value = forms.match_field(self.form, str(value or ""))
        if value is None:
            dispatcher.utter_message(response="utter_pick_an_option")
            return {"form_field": None}
        cleared = {value: None, **dict.fromkeys(forms.DEPENDENTS.get(value, ()))}
        return {**cleared, CONFIRM_SLOTS[self.form]: None, "form_field": None}


class ActionAskFormField(Action):
    """'What do you want to change?' with one button per answer of the running form."""

    def name(self) -> str:
        return "action_ask_form_field"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: dict[str, Any]) -> list[dict[str, Any]]:
        language = language_of(tracker)
        form = tracker.active_loop_name or REPORT_FORM
        fields = forms.CHANGEABLE.get(form, ())
        dispatcher.utter_message(
            response="utter_ask_form_field",
            buttons=[{"title": forms.name_of(FIELD_NAMES, f, language),
                      "payload": inform("form_field", f)} for f in fields])
        return []
