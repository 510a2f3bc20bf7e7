"""Nobody is ever stuck (issue 9, SPEC §4, §5.1, §5.2, §6.1), the fast half: pure logic, and
the real actions against the real seeded database (no model).

* No response invites a carrier opt-out word that a person might send back alone.
* "I don't have it" / two answers without a reference: the open cases of a proven phone, or a
  person or an office.
* The papers a case waits for (its ``detail``) reach the verified owner, and "which papers?".
* A service status change never leaves an old message behind.
* Answers and choices inside a form never switch the language; a typed field name at the
  read-back picks that field; the read-back keeps the whole address.

The same behaviour through the real webhooks and the trained model: tests/test_ways_on_stack.py.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk.events import ActionExecuted, SlotSet

from actions.forms import ActionConfirmLeaveForm, ActionFormChoice
from actions.services import ActionServiceStatus
from actions.status import ActionCaseDocuments, ActionShowCaseStatus, ValidateStatusForm
from bot.domain import bookings, case_help, cases, forms, people, services
from bot.language import detect as lang
from bot.messaging.sms.keywords import KEYWORDS, STOP
from bot.store.db import session_scope
from tests.support.seeded import OWNER_PHONE, STRANGER
from tests.support.trackers import details, make_tracker, run, slot_events

ROOT = Path(__file__).resolve().parent.parent
# Responses whose job is to say how to opt out or back in (SPEC §6.1: HELP must say how to stop).
OPT_OUT_INSTRUCTIONS = {"utter_sms_help", "utter_sms_opted_in", "utter_sms_opted_out"}
# Said only on a call (domain/voice.yml twins), where no carrier reads keywords: "To stop, say
# stop" is the spoken way out of a form there (bot/messaging/voice/turn.py).
VOICE_ONLY_SUFFIX = "__voice"


# --- no response invites an opt-out word (SPEC §6.1) ------------------------------------------


def _texts_of_every_response() -> list[tuple[str, str]]:
    found = []
    for path in sorted((ROOT / "domain").glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for name, variations in (data.get("responses") or {}).items():
            for variation in variations or []:
                found.append((name, variation.get("text") or ""))
                found += [(name, b.get("title") or "") for b in variation.get("buttons") or []]
    return found


def test_no_option_prompt_or_help_invites_an_opt_out_keyword() -> None:
    """A person replies with the word an option or prompt uses ("3. Cancel it" -> "cancel");
    if that word is a carrier opt-out keyword, they are unsubscribed from every text."""
    texts = _texts_of_every_response()
    assert len(texts) > 500
    offending = [(name, text) for name, text in texts if name not in OPT_OUT_INSTRUCTIONS
                 and not name.endswith(VOICE_ONLY_SUFFIX)
                 and set(re.findall(r"[^\W\d_]+", lang.fold(text))) & KEYWORDS[STOP]]
    assert offending == []


def test_the_scan_would_catch_the_old_cancel_option() -> None:
    words = set(re.findall(r"[^\W\d_]+", lang.fold("Cancel it"))) | {lang.fold("ARRÊT")}
    assert words & KEYWORDS[STOP] == {"cancel", "arret"}


# --- pure logic -------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "I don't have it", "i dont know it", "I lost it", "no idea", "no sé cuál es",
    "No lo tengo", "je ne l'ai pas", "je sais pas", "ما عندي الرقم", "لا أعرف", "نسيت الرقم",
    # issue 9: read as a wrong number before
    "no la tengo", "No la tengo.", "ما عنديش الرقم", "ليس عندي الرقم",
    # close variants
    "I haven't got it", "I don’t have the number", "I never got it", "can't find it", "dunno",
    "no lo tengo aquí", "no me lo sé", "la perdí", "se me olvidó", "no la encuentro",
    "no tengo el número", "je l’ai pas", "j'ai pas", "je ne le trouve pas", "je l'ai perdu",
    "je ne l'ai plus", "aucune idée", "ماعنديش", "ليس لدي رقم", "ضاع مني", "ما كاينش",
    "مش معايا", "لا أعرف الرقم",
])
def test_says_no_reference(text: str) -> None:
    assert case_help.says_no_reference(text)


@pytest.mark.parametrize("text", ["4021 7382", "hello", "my case", "sí", "oui", "نعم", "",
                                  "ya lo tengo", "je l'ai", "I have it", "عندي الرقم", "no",
                                  "non", "لا", "tengo el número 40217382", "un momento"])
def test_other_answers_are_not_a_missing_reference(text: str) -> None:
    assert not case_help.says_no_reference(text)


@pytest.mark.parametrize(("text", "expected"), [
    ("cancel it", True), ("Call it off", True), ("anularla", True), ("cancelar la cita", True),
    ("annuler le rendez-vous", True), ("L'annuler", True), ("ألغِ الموعد", True),
    ("إلغاء الموعد", True), ("book an appointment", False), ("change the day", False),
    ("pedir cita", False), ("اللغة", False),
])
def test_wants_call_off(text: str, expected: bool) -> None:
    assert bookings.wants_call_off(text) is expected


REPORT, BOOKING = forms.REPORT_FORM, forms.BOOKING_FORM


@pytest.mark.parametrize(("form", "text", "field"), [
    (REPORT, "place", "problem_place"), (REPORT, "the address", "problem_place"),
    (REPORT, "El lugar", "problem_place"), (REPORT, "le lieu", "problem_place"),
    (REPORT, "المكان", "problem_place"), (REPORT, "photo", "problem_photo"),
    (BOOKING, "la hora", "appointment_time"), (BOOKING, "le jour", "appointment_day"),
    (BOOKING, "the office", "appointment_office"), (BOOKING, "place", None),
    (REPORT, "blah", None),
])
def test_a_typed_field_name_at_the_read_back(form: str, text: str, field: str | None) -> None:
    assert forms.match_field(form, text) == field


def test_answers_inside_a_form_keep_the_language() -> None:
    assert lang.detect("place").language == "fr"  # what switched the English speaker before
    assert lang.answers_keep_language("report_problem_form", False)
    assert lang.answers_keep_language(None, True)  # a choice offered: go on? call it off?
    assert not lang.answers_keep_language(None, False)
    kept = lang.decide("en", "place", chosen=lang.answers_keep_language("report_problem_form",
                                                                        False))
    assert kept.language == "en" and not kept.changed
    asked = lang.decide("en", "en français s'il vous plaît", chosen=True)
    assert asked.language == "fr"  # an explicit request still switches


def test_the_read_back_keeps_the_whole_address() -> None:
    place = "Corner of Elm Street and 5th Avenue, in front of the green pharmacy, Riverton"
    summary = forms.report_summary({"problem_kind": "pothole", "problem_place": place}, "en")
    assert summary["place"] == place


# --- service status: no old message contradicts the new status (SPEC §5.2) ---------------------


def _bus_status(domain: dict, language: str) -> dict[str, Any]:
    tracker = make_tracker(domain, STRANGER, "are the buses running",
                           intent="check_service_status", slots={"language": language})
    messages, _ = run(ActionServiceStatus(), domain, tracker)
    return details(messages[0])


def test_a_status_change_replaces_the_message_in_every_language(database: str,
                                                                domain: dict) -> None:
    with session_scope() as session:
        buses = services.get(session, "buses")
        services.set_status(session, buses, "down",
                            {"en": "No buses today because of the storm."}, actor="test")
    assert _bus_status(domain, "es") == {"response": "utter_service_down", "name": "Autobuses",
                                 "message": ""}
    assert _bus_status(domain, "en")["message"] == "No buses today because of the storm."
    with session_scope() as session:  # back to normal, without a message
        services.set_status(session, services.get(session, "buses"), "operational", None,
                            actor="test")
    assert _bus_status(domain, "en") == {"response": "utter_service_operational", "name": "Buses",
                                 "message": ""}
    with session_scope() as session:  # the same status again keeps its message
        buses = services.get(session, "buses")
        services.set_status(session, buses, "disrupted", {"fr": "Ligne 5 déviée."}, actor="test")
        services.set_status(session, buses, "disrupted", None, actor="test")
        assert buses.message == {"fr": "Ligne 5 déviée."}
        assert services.message_in(buses, "fr") == "Ligne 5 déviée."
        assert services.message_in(buses, "en") == ""


def test_an_operational_service_says_it_once(database: str, domain: dict) -> None:
    assert _bus_status(domain, "fr") == {"response": "utter_service_operational", "name": "Bus",
                                 "message": ""}  # not "… normalement. Fonctionnent normalement."


# --- no reference: a way on (SPEC §5.1) ---------------------------------------------------------


def ask_reference(domain: dict, sender: str, text: str, *, channel: str = "sms",
                  misses: int | None = None, language: str = "en"):
    after = [SlotSet("requested_slot", "case_reference"), ActionExecuted("status_form"),
             SlotSet("case_reference", text)]
    tracker = make_tracker(domain, sender, text, channel=channel, active_loop="status_form",
                           slots={"language": language, "requested_slot": "case_reference",
                                  "case_reference": text, "reference_misses": misses},
                           after=after)
    return run(ValidateStatusForm(), domain, tracker)


def test_a_proven_phone_without_the_number_gets_its_open_cases(database: str,
                                                                domain: dict) -> None:
    messages, events = ask_reference(domain, OWNER_PHONE, "I don't have it")
    [message] = messages
    assert message["response"] == "utter_reference_pick_case"
    assert [(b["title"], b["payload"]) for b in message["buttons"]] == [
        ("Housing support — in review", '/inform{"reference": "40217382"}'),
        ("Talk to a person", "/request_human")]
    assert slot_events(events) == {"case_reference": None, "reference_misses": 1}


def test_open_cases_are_listed_in_the_persons_language(database: str, domain: dict) -> None:
    messages, _ = ask_reference(domain, "+33612345678", "je ne l'ai pas", language="fr")
    assert [b["title"] for b in messages[0]["buttons"]] == [
        "Ligne téléphonique des prestations — il manque des papiers", "Parler à une personne"]


@pytest.mark.parametrize("channel", ["telegram", "socketio"])
def test_without_a_proven_phone_a_person_or_an_office(database: str, domain: dict,
                                                      channel: str) -> None:
    messages, _ = ask_reference(domain, OWNER_PHONE, "no sé cuál es", channel=channel,
                                language="es")
    assert [m["response"] for m in messages] == ["utter_reference_way_on"]
    assert messages[0]["buttons"] == []  # the response's own buttons: person, office


def test_a_proven_phone_with_no_open_case(database: str, domain: dict) -> None:
    messages, _ = ask_reference(domain, STRANGER, "I lost it")
    assert [m["response"] for m in messages] == ["utter_reference_no_open_case"]


def test_the_second_answer_without_a_reference_offers_the_way_on(database: str,
                                                                 domain: dict) -> None:
    first, events = ask_reference(domain, "+15559990001", "12345678")
    assert [m["response"] for m in first] == ["utter_reference_invalid"]
    misses = slot_events(events)["reference_misses"]
    second, events = ask_reference(domain, "+15559990001", "87654321", misses=misses)
    assert [m["response"] for m in second] == ["utter_reference_no_open_case"]
    assert slot_events(events)["reference_misses"] == 2


def test_closed_cases_are_not_listed(database: str) -> None:
    with session_scope() as session:
        assert case_help.open_cases(session, "+34612345678") == []  # approved
        assert case_help.open_cases(session, None) == []
        [case] = case_help.open_cases(session, "+15550100002")
        assert case_help.case_label(case, "ar").endswith("— تم الاستلام")


# --- the papers a case waits for ----------------------------------------------------------------


def _case(session: Any, status: str, detail: str | None) -> cases.Case:
    return cases.create_case(session, service_slug="housing_support", status=status,
                             phone="+15550109999", detail=detail)


def test_missing_papers_come_from_the_detail(database: str) -> None:
    with session_scope() as session:
        assert case_help.missing_papers(_case(session, "needs_information",
                                              "Proof of address."), "en") == "Proof of address"
        assert case_help.missing_papers(_case(session, "needs_information", None), "en") is None
        assert case_help.missing_papers(_case(session, "in_review", "proof of address"),
                                        "en") is None
        long = case_help.missing_papers(_case(session, "needs_information", "x " * 100), "en")
        assert len(long) <= case_help.MAX_DETAIL_SHOWN and long.endswith("...")


def test_the_owner_reads_the_papers_and_which_papers_repeats_them(database: str,
                                                                  domain: dict) -> None:
    with session_scope() as session:
        person = people.get_or_create(session, "+15550109999")
        case = _case(session, "needs_information", "proof of address")
        reference, _ = case.reference, person
    tracker = make_tracker(domain, "+15550109999", "-", slots={
        "language": "en", "case_reference": reference, "status_outcome": "owner"})
    messages, events = run(ActionShowCaseStatus(), domain, tracker)
    spaced = f"{reference[:4]} {reference[4:]}"
    assert [details(m) for m in messages] == [
        {"response": "utter_case_needs_papers", "reference": spaced,
         "service": "housing support", "papers": "proof of address"}]
    assert slot_events(events)["last_case"] == reference

    tracker = make_tracker(domain, "+15550109999", "which papers?", intent="ask_documents",
                           slots={"language": "en", "last_case": reference})
    messages, events = run(ActionCaseDocuments(), domain, tracker)
    assert [details(m) for m in messages] == [
        {"response": "utter_case_papers", "reference": spaced, "papers": "proof of address"}]


def test_which_papers_without_a_checked_case_starts_the_status_check(database: str,
                                                                     domain: dict) -> None:
    tracker = make_tracker(domain, STRANGER, "¿qué papeles?", intent="ask_documents",
                           slots={"language": "es"})
    messages, events = run(ActionCaseDocuments(), domain, tracker)
    assert messages == []
    assert events == [{"event": "followup", "timestamp": None, "name": "status_form"}]


# --- cancelling: one confirmation -----------------------------------------------------------------


def test_menu_leaves_a_form_at_once_and_typed_cancel_asks(database: str, domain: dict) -> None:
    typed = make_tracker(domain, STRANGER, "cancel this form", intent="cancel",
                         active_loop=forms.REPORT_FORM,
                         slots={"language": "en", "problem_kind": "pothole"})
    messages, events = run(ActionConfirmLeaveForm(), domain, typed)
    assert [m["response"] for m in messages] == ["utter_confirm_leave_form"]
    assert slot_events(events) == {"requested_slot": None,
                                   "form_offer": "report_problem_form:leave"}
    menu = make_tracker(domain, STRANGER, "/cancel", intent="cancel",
                        active_loop=forms.REPORT_FORM, slots={"language": "en"})
    messages, events = run(ActionConfirmLeaveForm(), domain, menu)
    assert [m["response"] for m in messages] == ["utter_cancelled", "utter_menu"]
    assert {"event": "active_loop", "timestamp": None, "name": None} in events
    assert not [e for e in events if e["event"] == "followup"]  # the turn ends with a listen


def test_no_goes_on_with_the_form_and_yes_leaves_it(database: str, domain: dict) -> None:
    slots = {"language": "en", "form_offer": "report_problem_form:leave"}
    tracker = make_tracker(domain, STRANGER, "no", intent="deny", slots=slots)
    messages, events = run(ActionFormChoice(), domain, tracker)
    assert messages == [] and events[-1]["name"] == "report_problem_form"
    tracker = make_tracker(domain, STRANGER, "yes", intent="affirm", slots=slots)
    messages, events = run(ActionFormChoice(), domain, tracker)
    assert [m["response"] for m in messages] == ["utter_cancelled", "utter_menu"]
    assert slot_events(events)["form_offer"] is None
