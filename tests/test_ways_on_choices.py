"""Issue 9's last ways on, the fast half: the real actions against the real seeded database
(no model). The same through the trained model and the webhooks:
tests/test_ways_on_choices_stack.py.

* The case-number question is never asked twice in a turn: after the phone's open cases
  "Which one? Reply 1, 2… or type the case number", after a way on or a wrong number nothing
  more (they ask already), otherwise the question itself (``action_ask_case_reference``).
* "Cancel my appointment" with several bookings: which one (a numbered list), then one yes/no.
* The papers a case waits for, in the conversation's language: a ``detail`` per language, a
  plain string in the case's language, and the generic text where staff wrote none.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk.events import ActionExecuted, BotUttered

from actions import call_off
from actions.forms import ActionFormChoice, ActionStartForm
from actions.status import ActionAskCaseReference, ActionCaseDocuments, ActionShowCaseStatus
from bot.domain import bookings, case_detail, case_help, cases, offices
from bot.store.db import session_scope
from tests.support.seeded import OWNER_PHONE
from tests.support.trackers import details, make_tracker, run, slot_events

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("en", "es", "fr", "ar")


# --- the case-number question, never twice in a turn ---------------------------------------------

def asked_after(domain: dict, *said: str) -> list[str]:
    """What action_ask_case_reference says after the bot said ``said`` in this turn."""
    after = [ActionExecuted("status_form"),
             *(BotUttered("…", metadata={"utter_action": name}) for name in said)]
    tracker = make_tracker(domain, OWNER_PHONE, "I don't have it", active_loop="status_form",
                           slots={"language": "en", "requested_slot": "case_reference"},
                           after=after)
    messages, events = run(ActionAskCaseReference(), domain, tracker)
    assert events == []
    return [m["response"] for m in messages]


@pytest.mark.parametrize(("said", "asked"), [
    ((), ["utter_ask_case_reference"]),
    (("utter_help_status_form",), ["utter_ask_case_reference"]),
    (("utter_reference_pick_case",), ["utter_ask_case_reference_pick"]),
    (("utter_reference_way_on",), []),
    (("utter_reference_no_open_case",), []),
    (("utter_reference_invalid",), []),
    (("utter_reference_missing",), []),
])
def test_the_question_follows_what_was_just_said(database: str, domain: dict,
                                                 said: tuple[str, ...], asked: list[str]) -> None:
    assert asked_after(domain, *said) == asked


def test_a_list_shown_in_an_earlier_turn_does_not_count(database: str, domain: dict) -> None:
    before = [BotUttered("…", metadata={"utter_action": "utter_reference_pick_case"})]
    tracker = make_tracker(domain, OWNER_PHONE, "help", before=before, active_loop="status_form",
                           slots={"language": "en", "requested_slot": "case_reference"})
    messages, _ = run(ActionAskCaseReference(), domain, tracker)
    assert [m["response"] for m in messages] == ["utter_ask_case_reference"]


def test_the_pick_question_is_not_the_case_number_question_in_any_language(
        domain: dict) -> None:
    for language in LANGUAGES:
        pick = [v for v in domain["responses"]["utter_ask_case_reference_pick"]
                if (v.get("condition") or [{"value": "en"}])[0]["value"] == language]
        plain = [v for v in domain["responses"]["utter_ask_case_reference"]
                 if (v.get("condition") or [{"value": "en"}])[0]["value"] == language]
        assert pick[0]["text"] != plain[0]["text"]
        assert "1" in pick[0]["text"] and "2" in pick[0]["text"]


# --- calling off one of several bookings ----------------------------------------------------------

SENDER = "+15550107777"


def two_bookings() -> list[str]:
    """Two bookings of SENDER's on the next two free days at City Hall; their references."""
    with session_scope() as session:
        office = offices.get(session, "city_hall")
        days = bookings.free_days(session, office, dt.datetime.now() + dt.timedelta(days=2))
    made = []
    for day, hour in ((days[0], 10), (days[1], 14)):
        made.append(bookings.book(SENDER, "id_cards", "city_hall",
                                  dt.datetime.combine(day, dt.time(hour)), "en").reference)
    return made


def status_of(reference: str) -> str:
    with session_scope() as session:
        booking = bookings.find(session, reference)
        assert booking is not None
        return booking.status


def choose(domain: dict, offer: str, text: str, intent: str = "inform",
           choice: str | None = None, language: str = "en"):
    entities = [{"entity": "form_choice", "value": choice}] if choice else []
    tracker = make_tracker(domain, SENDER, text, intent=intent, entities=entities,
                           slots={"language": language, "form_offer": offer})
    return run(ActionFormChoice(), domain, tracker)


def test_with_two_bookings_cancel_asks_which_then_one_yes(database: str, domain: dict) -> None:
    first, second = two_bookings()
    tracker = make_tracker(domain, SENDER, "I need to cancel my appointment",
                           intent="book_appointment", slots={"language": "en"})
    messages, events = run(ActionStartForm(), domain, tracker)
    [listed] = messages
    assert listed["response"] == "utter_pick_booking_to_call_off"
    titles = [b["title"] for b in listed["buttons"]]
    assert len(titles) == 3 and titles[-1] == "None, keep them"
    # both for ID cards: the day and time tell them apart, the service is not said twice
    assert titles[0].endswith(", 10:00") and titles[1].endswith(", 14:00"), titles
    assert [b["payload"] for b in listed["buttons"]] == [
        f'/inform{{"form_choice": "{first}"}}', f'/inform{{"form_choice": "{second}"}}',
        '/inform{"form_choice": "keep"}']
    offer = slot_events(events)["form_offer"]
    assert offer == f"book_appointment_form:callpick:{first},{second}"
    assert status_of(first) == status_of(second) == "booked"  # nothing happens yet

    messages, events = choose(domain, offer, "2", choice=second)  # the second, then one yes/no
    assert [details(m)["response"] for m in messages] == ["utter_confirm_call_off"]
    assert "14:00" in messages[0]["booking"]
    confirm = slot_events(events)["form_offer"]
    assert confirm == f"book_appointment_form:calloff:{second}"
    assert status_of(second) == "booked"

    messages, _ = choose(domain, confirm, "yes", intent="affirm")
    assert [m["response"] for m in messages] == ["utter_booking_cancelled"]
    assert (status_of(first), status_of(second)) == ("booked", "cancelled")


@pytest.mark.parametrize(("text", "intent", "choice", "said"), [
    ("none", "inform", "keep", ["utter_bookings_kept"]),
    ("no", "deny", None, ["utter_bookings_kept"]),
    ("yes", "affirm", None, ["utter_pick_an_option", "utter_pick_booking_to_call_off"]),
    ("cancel it", "cancel", None, ["utter_pick_an_option", "utter_pick_booking_to_call_off"]),
])
def test_at_the_list_no_keeps_them_and_an_unclear_answer_lists_again(
        database: str, domain: dict, text: str, intent: str, choice: str | None,
        said: list[str]) -> None:
    first, second = two_bookings()
    messages, _ = choose(domain, f"book_appointment_form:callpick:{first},{second}", text,
                         intent=intent, choice=choice)
    assert [m["response"] for m in messages] == said
    assert status_of(first) == status_of(second) == "booked"


def test_a_booking_not_on_the_list_is_not_called_off(database: str, domain: dict) -> None:
    first, second = two_bookings()
    messages, _ = choose(domain, f"book_appointment_form:callpick:{first}", "x", choice=second)
    assert [m["response"] for m in messages] == ["utter_pick_an_option",
                                                 "utter_pick_booking_to_call_off"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_list_is_in_the_persons_language(database: str, domain: dict,
                                             language: str) -> None:
    two_bookings()
    tracker = make_tracker(domain, SENDER, "cancel", intent="book_appointment",
                           slots={"language": language})
    messages, _ = run(ActionStartForm(), domain, tracker)
    titles = [b["title"] for b in messages[0]["buttons"]]
    assert titles[-1] == call_off.KEEP_ALL[language]
    assert all(re.search(r"\d+ (de )?\w+[,،] \d\d:\d\d$", title) for title in titles[:-1]), \
        titles  # "miércoles 16 de diciembre, 10:00": when, in the person's language


def test_bookings_for_different_services_say_which(database: str, domain: dict) -> None:
    two_bookings()
    with session_scope() as session:
        day = bookings.free_days(session, offices.get(session, "city_hall"),
                                 dt.datetime.now() + dt.timedelta(days=2))[2]
    bookings.book(SENDER, "parking_permits", "city_hall",
                  dt.datetime.combine(day, dt.time(11)), "en")
    tracker = make_tracker(domain, SENDER, "cancel my appointment", intent="book_appointment",
                           slots={"language": "en"})
    messages, _ = run(ActionStartForm(), domain, tracker)
    titles = [b["title"] for b in messages[0]["buttons"]]
    assert [t.split("(")[-1] for t in titles[:3]] == ["ID cards)", "ID cards)",
                                                      "parking permits)"], titles


# --- the papers, in the conversation's language -------------------------------------------------

def test_a_detail_is_a_string_or_per_language() -> None:
    assert case_detail.clean(" proof of address ") == "proof of address"
    assert case_detail.clean({"es": "comprobante", "en": "proof", "fr": " "}) == {
        "en": "proof", "es": "comprobante"}
    stored = case_detail.encode({"es": "comprobante", "en": "proof"}, "fr")
    assert stored == {"en": "proof", "es": "comprobante"}
    assert case_detail.texts(stored, "fr") == {"en": "proof", "es": "comprobante"}
    assert case_detail.encode("justificatif de domicile", "fr") == {
        "fr": "justificatif de domicile"}  # a plain string: the case's language
    assert case_detail.encode(None, "fr") is None
    assert case_detail.texts(None, "en") == {}


@pytest.mark.parametrize("bad", ["", "  ", {"de": "Nachweis"}, {"en": 3}, {}, {"en": " "}, 3,
                                 ["proof"], "x" * 2001])
def test_a_bad_detail_is_refused_with_a_reason(bad: Any) -> None:
    with pytest.raises(case_detail.DetailError):
        case_detail.clean(bad)


PER_LANGUAGE = {"en": "proof of address", "es": "comprobante de domicilio",
                "fr": "justificatif de domicile"}


def _case(session: Any, detail: Any, language: str = "en",
          status: str = "needs_information") -> cases.Case:
    return cases.create_case(session, service_slug="housing_support", status=status,
                             phone="+15550109999", language=language, detail=detail)


def test_missing_papers_are_said_in_the_conversations_language(database: str) -> None:
    with session_scope() as session:
        case = _case(session, PER_LANGUAGE)
        assert {code: case_help.missing_papers(case, code) for code in LANGUAGES} == {
            **PER_LANGUAGE, "ar": None}
        plain = _case(session, "Justificatif de domicile.", language="fr")
        assert case_help.missing_papers(plain, "fr") == "Justificatif de domicile"
        assert case_help.missing_papers(plain, "en") is None  # never another language's words
        assert case_help.waits_for_papers(plain)
        assert case_help.missing_papers(_case(session, PER_LANGUAGE, status="in_review"),
                                        "en") is None
        assert cases.to_json(case)["detail"] == PER_LANGUAGE
        assert cases.to_json(plain)["detail"] == {"fr": "Justificatif de domicile."}


@pytest.mark.parametrize(("language", "status_response", "papers", "documents_response"), [
    ("es", "utter_case_needs_papers", "comprobante de domicilio", "utter_case_papers"),
    ("fr", "utter_case_needs_papers", "justificatif de domicile", "utter_case_papers"),
    ("en", "utter_case_needs_papers", "proof of address", "utter_case_papers"),
    ("ar", "utter_case_needs_information", None, "utter_case_papers_unknown"),
])
def test_the_owner_hears_the_papers_in_their_language_or_the_generic_text(
        database: str, domain: dict, language: str, status_response: str,
        papers: str | None, documents_response: str) -> None:
    with session_scope() as session:
        reference = _case(session, PER_LANGUAGE).reference
    tracker = make_tracker(domain, "+15550109999", "-", slots={
        "language": language, "case_reference": reference, "status_outcome": "owner"})
    messages, _ = run(ActionShowCaseStatus(), domain, tracker)
    [said] = [details(m) for m in messages]
    assert said["response"] == status_response and said.get("papers") == papers
    tracker = make_tracker(domain, "+15550109999", "?", intent="ask_documents",
                           slots={"language": language, "last_case": reference})
    messages, _ = run(ActionCaseDocuments(), domain, tracker)
    assert [m["response"] for m in messages] == [documents_response]
    assert (messages[0]["papers"] or None) == papers
