"""The real custom actions against the real seeded database, with trackers as Rasa sends them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecuted, ActiveLoop, FollowupAction, SlotSet
from sqlalchemy import select

from actions.conversation import ActionCancel, ActionFallback
from actions.digital import ActionDigitalHelp
from actions.language import ActionChangeLanguage, ActionDetectLanguage
from actions.offices import ActionFindOffice
from actions.services import ActionServiceStatus
from actions.status import ActionShowCaseStatus, ValidateStatusForm
from bot.config import get_settings
from bot.domain import cases, forms, people
from bot.domain.dates import find_day
from bot.store.db import session_scope
from bot.store.models import Person, VerificationAttempt
from tests.support.environment import PRODUCTION_SETTINGS
from tests.support.seeded import OWNER_PHONE, STRANGER, UNKNOWN_REFERENCE
from tests.support.trackers import (
    details,
    make_tracker,
    responses,
    run,
    slot_events,
    user_event,
)


def stored_person(sender: str) -> tuple[str | None, bool]:
    with session_scope() as session:
        person = people.find(session, sender)
        assert person is not None
        return person.language, person.language_explicit


# --- action_detect_language -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hola, quiero saber el estado de mi solicitud", "es"),
        ("bonjour je veux un rendez-vous", "fr"),
        ("مرحبا", "ar"),
        ("hello", "en"),
        ("40217382", "en"),  # no evidence: the default
    ],
)
def test_detect_language_from_text(database: str, domain: dict, text: str,
                                   expected: str) -> None:
    messages, events = run(ActionDetectLanguage(), domain,
                           make_tracker(domain, "+15559870001", text))
    assert messages == []
    assert events == [SlotSet("language", expected)]
    assert stored_person("+15559870001") == (expected, False)


def test_an_uncertain_first_message_sets_the_menu_slot_for_one_turn(database: str,
                                                                    domain: dict) -> None:
    sender = "+212600000131"
    tracker = make_tracker(domain, sender, "salam bghit nchouf dossier dyali",
                           intent="check_application_status")
    messages, events = run(ActionDetectLanguage(), domain, tracker)
    assert messages == []
    assert events == [SlotSet("language", "en"), SlotSet("language_menu", True)]
    assert stored_person(sender) == (None, False)  # asked, not guessed
    pick = make_tracker(domain, sender, '/change_language{"language_choice": "ar"}',
                        intent="change_language", slots={"language_menu": True},
                        entities=[{"entity": "language_choice", "value": "ar"}])
    _, events = run(ActionDetectLanguage(), domain, pick)
    assert events == [SlotSet("language", "ar"), SlotSet("language_menu", None)]
    assert stored_person(sender) == ("ar", True)


def test_a_pick_from_the_menu_answers_the_first_message_again(database: str,
                                                              domain: dict) -> None:
    first = user_event("salam bghit nchouf dossier dyali", "check_application_status")
    before = [ActionExecuted("action_listen"), first, ActionExecuted("utter_language_menu")]
    tracker = make_tracker(domain, "+212600000132", '/change_language{"language_choice": "ar"}',
                           intent="change_language", before=before, slots={"language": "ar"},
                           entities=[{"entity": "language_choice", "value": "ar"}])
    messages, events = run(ActionChangeLanguage(), domain, tracker)
    assert messages == []  # the answer to the first message says it, in Arabic
    assert events[0] == ActionExecuted("action_listen")
    assert (events[1]["text"], events[1]["parse_data"]["intent"]["name"],
            events[1]["input_channel"]) == (first["text"], "check_application_status", "sms")


def test_a_pick_after_a_message_not_understood_greets(database: str, domain: dict) -> None:
    first = user_event("wach kayn chi wa7ed", "nlu_fallback")
    before = [ActionExecuted("action_listen"), first, ActionExecuted("utter_language_menu")]
    tracker = make_tracker(domain, "+212600000133", '/change_language{"language_choice": "fr"}',
                           intent="change_language", before=before, slots={"language": "fr"},
                           entities=[{"entity": "language_choice", "value": "fr"}])
    messages, events = run(ActionChangeLanguage(), domain, tracker)
    assert responses(messages) == ["utter_greet"] and events == []


def test_detect_language_from_a_language_choice_entity(database: str, domain: dict) -> None:
    tracker = make_tracker(domain, "tg:880001", '/change_language{"language_choice": "fr"}',
                           intent="change_language", channel="telegram",
                           entities=[{"entity": "language_choice", "value": "fr"}])
    messages, events = run(ActionDetectLanguage(), domain, tracker)
    assert messages == []
    assert events == [SlotSet("language", "fr")]
    assert stored_person("tg:880001") == ("fr", True)


def test_detect_language_ignores_an_unsupported_choice(database: str, domain: dict) -> None:
    tracker = make_tracker(domain, "+15559870002", "hola", intent="change_language",
                           entities=[{"entity": "language_choice", "value": "de"}])
    _, events = run(ActionDetectLanguage(), domain, tracker)
    assert events == [SlotSet("language", "es")]


def test_an_address_in_another_language_does_not_switch_a_form(database: str,
                                                               domain: dict) -> None:
    sender = "+15559870009"
    run(ActionDetectLanguage(), domain, make_tracker(domain, sender, "bonjour, merci beaucoup"))
    address = "the school on Main Street, near the big park please"
    in_form = make_tracker(domain, sender, address, active_loop="report_problem_form",
                           slots={"requested_slot": "problem_place"})
    _, events = run(ActionDetectLanguage(), domain, in_form)
    assert events == [SlotSet("language", "fr")]
    # The same words outside a free-text question do switch (SPEC §3).
    _, events = run(ActionDetectLanguage(), domain, make_tracker(domain, sender, address))
    assert events == [SlotSet("language", "en")]


def test_detect_language_is_sticky_across_channels(database: str, domain: dict) -> None:
    sender = "+15559870003"
    _, events = run(ActionDetectLanguage(), domain,
                    make_tracker(domain, sender, "merci beaucoup", channel="sms"))
    assert events == [SlotSet("language", "fr")]
    # Later, a phone call from the same number: keypad digits and "ok" keep French.
    for text in ("1", "40217382", "ok", "MENU"):
        _, events = run(ActionDetectLanguage(), domain,
                        make_tracker(domain, sender, text, channel="voice"))
        assert events == [SlotSet("language", "fr")]
    # An explicit request switches at once.
    _, events = run(ActionDetectLanguage(), domain,
                    make_tracker(domain, sender, "in English please", channel="voice",
                                 intent="change_language"))
    assert events == [SlotSet("language", "en")]
    assert stored_person(sender) == ("en", True)
    with session_scope() as session:
        assert len(session.scalars(select(Person).where(Person.phone == sender)).all()) == 1


@pytest.mark.parametrize(("text", "entities", "response"), [
    ("español", [], "utter_language_changed"),
    ("/change_language", [{"entity": "language_choice", "value": "ar"}],
     "utter_language_changed"),
    ("/language", [], "utter_choose_language"),
    ("idioma", [], "utter_choose_language"),
])
def test_change_language(database: str, domain: dict, text: str, entities: list,
                         response: str) -> None:
    tracker = make_tracker(domain, "+15559870004", text, intent="change_language",
                           entities=entities)
    messages, events = run(ActionChangeLanguage(), domain, tracker)
    assert responses(messages) == [response]
    assert events == []


# --- The status form --------------------------------------------------------------------------


def validate(domain: dict, sender: str, text: str, candidates: dict[str, Any], *,
             channel: str = "sms", slots: dict[str, Any] | None = None,
             requested: str = "case_reference"):
    """Run validate_status_form as Rasa does after extracting ``candidates`` from ``text``."""
    after = [SlotSet("requested_slot", requested), ActionExecuted("status_form"),
             *(SlotSet(name, value) for name, value in candidates.items())]
    tracker = make_tracker(domain, sender, text, channel=channel, active_loop="status_form",
                           slots={"language": "en", **(slots or {}), "requested_slot": requested,
                                  **candidates},
                           after=after)
    return run(ValidateStatusForm(), domain, tracker)


def show_status(domain: dict, sender: str, slots: dict[str, Any], channel: str = "sms"):
    tracker = make_tracker(domain, sender, "-", channel=channel, slots=slots)
    return run(ActionShowCaseStatus(), domain, tracker)


RESET = {"case_reference": None, "date_of_birth": None, "status_outcome": None,
         "reference_misses": None}


@pytest.mark.parametrize("typed", ["4021 7382", "my case is 4021-7382", "#40217382",
                                   "٤٠٢١٧٣٨٢"])
def test_owner_by_sms_phone(database: str, domain: dict, typed: str) -> None:
    messages, events = validate(domain, OWNER_PHONE, typed, {"case_reference": typed})
    assert messages == []
    assert slot_events(events) == {"case_reference": "40217382", "date_of_birth": "-",
                                   "status_outcome": "owner"}
    messages, events = show_status(domain, OWNER_PHONE, {"language": "en",
                                                         **slot_events(events)})
    assert [details(m) for m in messages] == [
        {"response": "utter_case_in_review", "reference": "4021 7382",
         "service": "housing support"}]
    assert slot_events(events) == {**RESET, "last_case": "40217382"}


@pytest.mark.parametrize(
    ("phone", "reference", "language", "response", "service"),
    [
        ("+34612345678", "12345674", "es", "utter_case_approved", "documento de identidad"),
        ("+33612345678", "55501233", "fr", "utter_case_needs_papers",
         "ligne téléphonique des prestations"),
        ("+212612345678", "90000001", "ar", "utter_case_rejected", "تصاريح الوقوف"),
    ],
)
def test_each_owner_sees_their_status_in_their_language(
    database: str, domain: dict, phone: str, reference: str, language: str, response: str,
    service: str,
) -> None:
    _, events = validate(domain, phone, reference, {"case_reference": reference},
                         channel="voice", slots={"language": language})
    assert slot_events(events)["status_outcome"] == "owner"
    messages, _ = show_status(domain, phone, {"language": language, **slot_events(events)},
                              channel="voice")
    expected = {"response": response, "reference": f"{reference[:4]} {reference[4:]}",
                "service": service}
    if response == "utter_case_needs_papers":  # what the case waits for, as staff wrote it
        expected["papers"] = "Il manque un justificatif de domicile. Envoyez-le sur le portail"
    assert [details(m) for m in messages] == [expected]


@pytest.mark.parametrize("environment", ["development", "production"])
def test_rest_channel_never_proves_the_phone(
    database: str, domain: dict, monkeypatch: pytest.MonkeyPatch, environment: str
) -> None:
    """Anyone can write any sender id over REST: the owner's number proves nothing there
    (SPEC §6), in development as in production."""
    if environment == "production":
        for name, value in PRODUCTION_SETTINGS.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        assert get_settings().is_production
    messages, events = validate(domain, OWNER_PHONE, "40217382",
                                {"case_reference": "40217382"}, channel="rest")
    assert messages == []
    assert slot_events(events) == {"case_reference": "40217382"}  # ask for the date of birth


def test_a_telegram_verified_phone_proves_nothing_on_another_channel(
    database: str, domain: dict
) -> None:
    """The owner linked their Telegram account (shared contact): Telegram proves the phone
    for that Telegram user only, not for a REST caller writing the number or the tg: id."""
    with session_scope() as session:
        telegram = people.get_or_create(session, "tg:880077")
        people.link_telegram_contact(session, telegram, OWNER_PHONE)
    for sender, channel, proven in ((OWNER_PHONE, "rest", False), ("tg:880077", "rest", False),
                                    ("tg:880077", "telegram", True)):
        _, events = validate(domain, sender, "40217382", {"case_reference": "40217382"},
                             channel=channel)
        assert (slot_events(events).get("status_outcome") == "owner") is proven, (sender, channel)


@pytest.mark.parametrize("channel", ["socketio", "telegram", ""])
def test_a_sender_id_that_looks_like_a_phone_proves_nothing_elsewhere(
    database: str, domain: dict, channel: str
) -> None:
    messages, events = validate(domain, OWNER_PHONE, "40217382", {"case_reference": "40217382"},
                                channel=channel)
    assert messages == []
    assert slot_events(events) == {"case_reference": "40217382"}  # ask for the date of birth


@pytest.mark.parametrize("channel", ["sms", "voice", "rest"])
def test_stranger_gets_the_same_answer_for_any_valid_reference(
    database: str, domain: dict, channel: str
) -> None:
    existing = validate(domain, STRANGER, "4021 7382", {"case_reference": "4021 7382"},
                        channel=channel)
    unknown = validate(domain, STRANGER, "1111 1119", {"case_reference": "1111 1119"},
                       channel=channel)
    assert existing[0] == unknown[0] == []
    assert slot_events(existing[1]) == {"case_reference": "40217382"}
    assert slot_events(unknown[1]) == {"case_reference": UNKNOWN_REFERENCE}


@pytest.mark.parametrize(
    ("typed", "response", "shown"),
    [
        ("4021 7385", "utter_reference_invalid", "4021 7385"),
        ("my number is 40217383", "utter_reference_invalid", "4021 7383"),
        ("4021738", "utter_reference_invalid", "4021738"),
        ("", "utter_reference_missing", None),
    ],
)
def test_invalid_or_missing_reference(database: str, domain: dict, typed: str, response: str,
                                      shown: str | None) -> None:
    messages, events = validate(domain, OWNER_PHONE, typed, {"case_reference": typed})
    expected = {"response": response}
    if shown is not None:
        expected["reference"] = shown
    assert [details(m) for m in messages] == [expected]
    assert slot_events(events) == {"case_reference": None, "reference_misses": 1}
    with session_scope() as session:  # caught without touching the database
        assert session.scalars(select(VerificationAttempt)).all() == []


def test_stranger_with_the_right_date_of_birth(database: str, domain: dict) -> None:
    _, events = validate(domain, STRANGER, "40217382", {"case_reference": "40217382"})
    slots = slot_events(events)
    messages, events = validate(domain, STRANGER, "12 March 1985",
                                {"date_of_birth": "12 March 1985"},
                                slots=slots, requested="date_of_birth")
    assert messages == []
    assert slot_events(events) == {"date_of_birth": "-", "status_outcome": "owner"}
    messages, _ = show_status(domain, STRANGER, {"language": "en", **slots,
                                                 **slot_events(events)})
    assert responses(messages) == ["utter_case_in_review"]


@pytest.mark.parametrize("typed", ["12/03/1985",
                                   " ".join(f"{d} jan 1985" for d in range(1, 29))])
def test_several_candidate_dates_ask_for_one_and_do_not_count(database: str, domain: dict,
                                                             typed: str) -> None:
    """"12/03/1985" is two dates, a list of dates is many: neither is tried (the right one is
    among them), the person is asked for one date, and no failure is counted."""
    slots = {"case_reference": "40217382"}
    for _ in range(4):
        messages, events = validate(domain, STRANGER, typed, {"date_of_birth": typed},
                                    slots=slots, requested="date_of_birth")
        assert responses(messages) == ["utter_date_of_birth_one_date"]
        assert slot_events(events) == {"date_of_birth": None}
    with session_scope() as session:
        assert [row.failures for row in session.scalars(select(VerificationAttempt))] == [0]
    messages, events = validate(domain, STRANGER, "12 March 1985",
                                {"date_of_birth": "12 March 1985"}, slots=slots,
                                requested="date_of_birth")
    assert slot_events(events)["status_outcome"] == "owner"


def test_unreadable_date_of_birth_does_not_count(database: str, domain: dict) -> None:
    slots = {"case_reference": "40217382"}
    for _ in range(4):
        messages, events = validate(domain, STRANGER, "I don't remember",
                                    {"date_of_birth": "I don't remember"}, slots=slots,
                                    requested="date_of_birth")
        assert responses(messages) == ["utter_date_unreadable"]
        assert slot_events(events) == {"date_of_birth": None}
    messages, events = validate(domain, STRANGER, "1985-03-12", {"date_of_birth": "1985-03-12"},
                                slots=slots, requested="date_of_birth")
    assert slot_events(events)["status_outcome"] == "owner"


@pytest.mark.parametrize("reference", ["40217382", UNKNOWN_REFERENCE])
def test_three_wrong_dates_of_birth_lock(database: str, domain: dict, reference: str) -> None:
    _, events = validate(domain, STRANGER, reference, {"case_reference": reference})
    slots = slot_events(events)
    assert slots == {"case_reference": reference}
    seen = []
    for typed in ("01/01/1980", "2 February 1981", "1979-05-05"):
        messages, events = validate(domain, STRANGER, typed, {"date_of_birth": typed},
                                    slots=slots, requested="date_of_birth")
        seen.append(([details(m) for m in messages], slot_events(events)))
    assert seen == [
        ([{"response": "utter_details_do_not_match", "attempts_left": 2}],
         {"date_of_birth": None}),
        ([{"response": "utter_details_do_not_match", "attempts_left": 1}],
         {"date_of_birth": None}),
        ([], {"date_of_birth": "-", "status_outcome": "locked"}),
    ]
    messages, events = show_status(domain, STRANGER, {"language": "en", **slots,
                                                      **seen[-1][1]})
    assert [details(m) for m in messages] == [{"response": "utter_reference_locked"}]
    assert slot_events(events) == RESET

    # Starting again at once: locked, even with the right date of birth.
    messages, events = validate(domain, STRANGER, reference, {"case_reference": reference})
    assert messages == []
    assert slot_events(events) == {"case_reference": reference, "date_of_birth": "-",
                                   "status_outcome": "locked"}
    messages, events = validate(domain, STRANGER, "1985-03-12", {"date_of_birth": "1985-03-12"},
                                slots={"case_reference": reference}, requested="date_of_birth")
    assert slot_events(events)["status_outcome"] == "locked"
    with session_scope() as session:
        [row] = session.scalars(select(VerificationAttempt)).all()
        assert (row.reference, row.failures) == (reference, 3)
        assert row.locked_until is not None


@pytest.mark.parametrize("outcome", [None, "locked", "needs_dob", "wrong_dob", "invalid",
                                     "OWNER"])
def test_show_case_status_only_for_the_owner(database: str, domain: dict,
                                             outcome: str | None) -> None:
    messages, events = show_status(domain, OWNER_PHONE, {"language": "en",
                                                         "case_reference": "40217382",
                                                         "status_outcome": outcome})
    assert [details(m) for m in messages] == [{"response": "utter_reference_locked"}]
    assert slot_events(events) == RESET


@pytest.mark.parametrize("status", ["received", "in_review", "needs_information", "approved",
                                    "rejected", "completed"])
def test_show_case_status_for_each_status(database: str, domain: dict, status: str) -> None:
    with session_scope() as session:
        case = cases.get_by_reference(session, "40217382")
        case.detail = None  # the generic text per status (a detail: tests/test_ways_on.py)
        cases.change_status(session, case, status, "test", "test")
    messages, _ = show_status(domain, OWNER_PHONE, {"language": "es",
                                                    "case_reference": "40217382",
                                                    "status_outcome": "owner"})
    assert [details(m) for m in messages] == [
        {"response": f"utter_case_{status}", "reference": "4021 7382",
         "service": "ayuda para la vivienda"}]


# --- Service status ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("is the bin collection running", "en",
         {"response": "utter_service_disrupted", "name": "Bin collection",
          "message": "Collections are one day late this week because of the holiday."}),
        ("¿funciona la recogida de basura?", "es",
         {"response": "utter_service_disrupted", "name": "Recogida de basura",
          "message": "Esta semana la recogida llega un día tarde por el día festivo."}),
        ("la ligne des allocations marche ?", "fr",
         {"response": "utter_service_down", "name": "Ligne téléphonique des prestations",
          "message": "La ligne téléphonique ne marche pas. Utilisez le site web ou allez dans "
                     "un bureau."}),
        ("هل الحافلات تعمل", "ar",
         {"response": "utter_service_operational", "name": "الحافلات", "message": ""}),
        ("is the website down", "en",
         {"response": "utter_service_operational", "name": "Online portal", "message": ""}),
    ],
)
def test_service_status_from_text(database: str, domain: dict, text: str, language: str,
                                  expected: dict) -> None:
    tracker = make_tracker(domain, STRANGER, text, intent="check_service_status",
                           slots={"language": language})
    messages, events = run(ActionServiceStatus(), domain, tracker)
    assert [details(m) for m in messages] == [expected]
    assert slot_events(events) == {"service": None, "awaiting": None}


@pytest.mark.parametrize(("slug", "response"), [("housing_support", "utter_service_maintenance"),
                                                ("benefits_line", "utter_service_down"),
                                                ("id_cards", "utter_service_operational")])
def test_service_status_from_the_slot(database: str, domain: dict, slug: str,
                                      response: str) -> None:
    tracker = make_tracker(domain, STRANGER, f'/check_service_status{{"service": "{slug}"}}',
                           intent="check_service_status", slots={"service": slug,
                                                                 "language": "en"},
                           entities=[{"entity": "service", "value": slug}])
    messages, _ = run(ActionServiceStatus(), domain, tracker)
    assert responses(messages) == [response]


def test_service_status_follows_a_change(database: str, domain: dict) -> None:
    from bot.domain import services

    with session_scope() as session:
        services.set_status(session, services.get(session, "buses"), "down",
                            {"en": "No buses today: a strike."}, actor="test")
    tracker = make_tracker(domain, STRANGER, "are the buses running",
                           intent="check_service_status", slots={"language": "en"})
    messages, _ = run(ActionServiceStatus(), domain, tracker)
    assert [details(m) for m in messages] == [
        {"response": "utter_service_down", "name": "Buses",
         "message": "No buses today: a strike."}]


@pytest.mark.parametrize("text", ["is it working?", "hello", "/check_service_status"])
def test_service_status_asks_which_with_buttons(database: str, domain: dict, text: str) -> None:
    tracker = make_tracker(domain, STRANGER, text, intent="check_service_status",
                           slots={"language": "fr"})
    messages, events = run(ActionServiceStatus(), domain, tracker)
    assert responses(messages) == ["utter_ask_which_service"]
    buttons = messages[0]["buttons"]
    assert [b["payload"] for b in buttons] == [
        f'/check_service_status{{"service": "{slug}"}}'
        for slug in ("online_portal", "bin_collection", "health_clinic", "buses",
                     "benefits_line", "id_cards", "housing_support", "parking_permits",
                     "street_problems")]
    assert buttons[1]["title"] == "collecte des poubelles"  # in the person's language
    assert slot_events(events) == {"service": None, "awaiting": "service"}


# --- Offices ----------------------------------------------------------------------------------

# The demo data, written out independently of the code under test.
OFFICE_NAMES = {"city_hall": "Riverton City Hall",
                "north_centre": "North Community Service Centre",
                "riverside_hub": "Riverside Service Hub"}
OFFICE_ADDRESSES = {"city_hall": "1 Main Square", "north_centre": "45 Oak Road",
                    "riverside_hub": "12 River Street"}
OFFICE_HOURS = {
    "city_hall": {0: "08:30-16:30", 1: "08:30-16:30", 2: "08:30-16:30", 3: "08:30-16:30",
                  4: "08:30-16:30", 5: "09:00-12:00"},
    "north_centre": {0: "09:00-17:00", 1: "09:00-17:00", 2: "09:00-17:00", 3: "09:00-17:00",
                     4: "09:00-13:00"},
    "riverside_hub": {1: "10:00-18:00", 2: "10:00-18:00", 3: "10:00-18:00", 4: "10:00-18:00",
                      5: "10:00-13:00, 14:00-18:00"},
}
HOLIDAYS = {
    "city_hall": {dt.date(2026, 12, 25), dt.date(2027, 1, 1)},
    "north_centre": {dt.date(2026, 12, 25), dt.date(2027, 1, 1)},
    "riverside_hub": {dt.date(2026, 12, 25), dt.date(2026, 12, 26), dt.date(2027, 1, 1)},
}
# The action's "today": a Thursday before the 25 Dec holidays, so "tomorrow" and "saturday"
# meet them; fixed, so the expected answer never depends on the calendar.
NOW = dt.datetime(2026, 12, 24, 10, 0)
ENGLISH_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def open_on(slug: str, day: dt.date) -> str | None:
    if day in HOLIDAYS[slug]:
        return None
    return OFFICE_HOURS[slug].get(day.weekday())


def find_office(domain: dict, text: str, language: str = "en", slots: dict | None = None):
    tracker = make_tracker(domain, STRANGER, text, intent="find_office",
                           slots={"language": language, **(slots or {})})
    return run(ActionFindOffice(now=lambda: NOW), domain, tracker)


@pytest.mark.parametrize("text", ["are you open on saturday", "are you open on sunday",
                                  "what's open tomorrow", "is anything open today"])
def test_which_offices_are_open_on_a_day(database: str, domain: dict, text: str) -> None:
    day = find_day(text, NOW.date())
    assert day is not None
    messages, events = find_office(domain, text)
    open_ones = [f"{OFFICE_NAMES[slug]} {open_on(slug, day)}" for slug in OFFICE_NAMES
                 if open_on(slug, day)]
    if open_ones:
        expected = {"response": "utter_offices_open_on_day", "day": ENGLISH_DAYS[day.weekday()],
                    "offices": "; ".join(open_ones)}
    else:
        expected = {"response": "utter_no_office_open_on_day",
                    "day": ENGLISH_DAYS[day.weekday()]}
    assert [details(m) for m in messages] == [expected]
    # Several offices: none remembered; a follow-up ("and tomorrow?") is still heard.
    assert slot_events(events) == {"office": None, "awaiting": "office"}


def test_nothing_is_open_on_sunday(database: str, domain: dict) -> None:
    messages, _ = find_office(domain, "¿abren el domingo?", language="es")
    assert [details(m) for m in messages] == [
        {"response": "utter_no_office_open_on_day", "day": "domingo"}]


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("where is city hall", "en",
         {"name": "Riverton City Hall", "address": "1 Main Square",
          "hours": "Mon-Fri 08:30-16:30, Sat 09:00-12:00"}),
        ("¿dónde está el ayuntamiento?", "es",
         {"name": "Ayuntamiento de Riverton", "address": "1 Main Square",
          "hours": "lun-vie 08:30-16:30, sáb 09:00-12:00"}),
        ("où est l'hôtel de ville ?", "fr",
         {"name": "Hôtel de ville de Riverton", "address": "1 Main Square",
          "hours": "lun-ven 08:30-16:30, sam 09:00-12:00"}),
        ("أين مكتب ريفرسايد", "ar",
         {"name": "مركز خدمات ريفرسايد", "address": "12 River Street",
          "hours": "الثلاثاء-الجمعة 10:00-18:00، السبت 10:00-13:00, 14:00-18:00"}),
    ],
)
def test_a_named_office(database: str, domain: dict, text: str, language: str,
                        expected: dict) -> None:
    messages, events = find_office(domain, text, language)
    assert [details(m) for m in messages] == [{"response": "utter_office_details", **expected}]
    remembered = slot_events(events)
    assert remembered["awaiting"] == "office"  # for a follow-up: "and on Saturday?"
    assert OFFICE_ADDRESSES[remembered["office"]] == expected["address"]


def test_an_office_from_the_slot(database: str, domain: dict) -> None:
    messages, _ = find_office(domain, '/find_office{"office": "north_centre"}',
                              slots={"office": "north_centre"})
    assert [details(m) for m in messages] == [
        {"response": "utter_office_details", "name": "North Community Service Centre",
         "address": "45 Oak Road", "hours": "Mon-Thu 09:00-17:00, Fri 09:00-13:00"}]


@pytest.mark.parametrize(("text", "slug"), [("is city hall open on saturday", "city_hall"),
                                            ("is city hall open on sunday", "city_hall"),
                                            ("is riverside open tomorrow", "riverside_hub"),
                                            ("north centre today", "north_centre")])
def test_a_named_office_on_a_day(database: str, domain: dict, text: str, slug: str) -> None:
    day = find_day(text, NOW.date())
    messages, _ = find_office(domain, text)
    [message] = messages
    base = {"name": OFFICE_NAMES[slug], "day": ENGLISH_DAYS[day.weekday()]}
    if day in HOLIDAYS[slug]:
        assert message["response"] == "utter_office_holiday"
    elif open_on(slug, day):
        assert details(message) == {"response": "utter_office_open_on_day", **base,
                                    "hours": open_on(slug, day),
                                    "address": OFFICE_ADDRESSES[slug]}
    else:
        assert details(message)["response"] == "utter_office_closed_on_day"
        assert {k: message[k] for k in base} == base


def test_offices_for_a_service(database: str, domain: dict) -> None:
    messages, events = find_office(domain, "where can I renew my ID card")
    assert [details(m) for m in messages] == [
        {"response": "utter_offices_for_service",
         "offices": "Riverton City Hall, North Community Service Centre"}]
    assert messages[0]["buttons"] == [
        {"title": "Riverton City Hall", "payload": '/find_office{"office": "city_hall"}'},
        {"title": "North Community Service Centre",
         "payload": '/find_office{"office": "north_centre"}'}]
    assert slot_events(events) == {"office": None, "awaiting": "office"}


def test_the_only_office_for_a_service(database: str, domain: dict) -> None:
    messages, _ = find_office(domain, "where is the health clinic")
    assert [details(m) for m in messages] == [
        {"response": "utter_office_details", "name": "Riverside Service Hub",
         "address": "12 River Street",
         "hours": "Tue-Fri 10:00-18:00, Sat 10:00-13:00, 14:00-18:00"}]


def test_which_office_when_nothing_matches(database: str, domain: dict) -> None:
    messages, events = find_office(domain, "where is your office", language="es")
    assert responses(messages) == ["utter_ask_which_office"]
    assert [b["title"] for b in messages[0]["buttons"]] == [
        "Ayuntamiento de Riverton", "Centro de Servicios Comunitarios Norte",
        "Centro de Servicios Riverside"]
    assert slot_events(events) == {"office": None, "awaiting": "office"}


# Follow-ups and the nearest office (issue 9).

def follow_up(domain: dict, text: str, language: str, slots: dict[str, Any],
              before: list[dict] | None = None):
    tracker = make_tracker(domain, STRANGER, text, intent="inform", before=before,
                           slots={"language": language, **slots})
    return run(ActionFindOffice(), domain, tracker)


@pytest.mark.parametrize(("text", "language", "day"), [
    ("y el sábado?", "es", "sábado"), ("et samedi ?", "fr", "samedi"),
    ("what about saturday?", "en", "Saturday"), ("وماذا عن السبت؟", "ar", "السبت")])
def test_a_day_after_an_office_answer_is_about_that_office(
        database: str, domain: dict, text: str, language: str, day: str) -> None:
    # Saturdays are never holidays in the data: City Hall opens 09:00-12:00 on every one.
    messages, events = follow_up(domain, text, language,
                                 {"office": "city_hall", "awaiting": "office"})
    [message] = messages
    assert message["response"] == "utter_office_open_on_day"
    assert (message["day"], message["hours"]) == (day, "09:00-12:00")
    assert slot_events(events) == {"office": "city_hall", "awaiting": "office"}


def test_a_day_after_an_answer_about_every_office_is_about_every_office(
        database: str, domain: dict) -> None:
    messages, _ = follow_up(domain, "and on sunday?", "en", {"awaiting": "office"})
    assert [details(m) for m in messages] == [
        {"response": "utter_no_office_open_on_day", "day": "Sunday"}]


def test_a_named_office_wins_over_the_remembered_one(database: str, domain: dict) -> None:
    messages, events = follow_up(domain, "and riverside on saturday?", "en",
                                 {"office": "city_hall", "awaiting": "office"})
    assert messages[0]["name"] == "Riverside Service Hub"
    assert slot_events(events)["office"] == "riverside_hub"


@pytest.mark.parametrize(("text", "language"), [
    ("where is the nearest office", "en"), ("donde esta la oficina mas cercana", "es"),
    ("le bureau le plus proche", "fr"), ("أين أقرب مكتب", "ar")])
def test_the_nearest_office_asks_where_the_person_is(database: str, domain: dict, text: str,
                                                      language: str) -> None:
    messages, events = find_office(domain, text, language)
    assert responses(messages) == ["utter_ask_where_you_are"]
    titles = [b["title"] for b in messages[0]["buttons"]]
    assert [t.rsplit(" (", 1)[1] for t in titles] == [
        "1 Main Square)", "45 Oak Road)", "12 River Street)"]
    assert slot_events(events) == {"office": None, "awaiting": "office"}


ASKED_WHERE = [ActionExecuted("action_find_office"),
               {"event": "bot", "text": "Which street or area are you in?", "timestamp": None,
                "metadata": {"utter_action": "utter_ask_where_you_are"}}]


@pytest.mark.parametrize(("text", "language", "slug"), [
    ("i'm on oak road", "en", "north_centre"), ("vivo en el centro de la ciudad", "es",
                                                "city_hall"),
    ("j'habite près de river street", "fr", "riverside_hub"),
    ("أنا في وسط المدينة", "ar", "city_hall")])
def test_where_the_person_is_finds_the_office(database: str, domain: dict, text: str,
                                              language: str, slug: str) -> None:
    messages, _ = follow_up(domain, text, language, {"awaiting": "office"}, before=ASKED_WHERE)
    assert responses(messages) == ["utter_office_details"]
    assert messages[0]["address"] == OFFICE_ADDRESSES[slug]


def test_an_unknown_place_lists_every_office_with_its_address(database: str,
                                                              domain: dict) -> None:
    messages, _ = follow_up(domain, "near the bus station", "en", {"awaiting": "office"},
                            before=ASKED_WHERE)
    assert responses(messages) == ["utter_ask_which_office"]  # not "where are you?" again
    assert messages[0]["buttons"][1]["title"] == "North Community Service Centre (45 Oak Road)"


# --- Digital help -----------------------------------------------------------------------------


def digital_help(domain: dict, text: str, language: str = "en", topic: str | None = None):
    tracker = make_tracker(domain, STRANGER, text, intent="digital_help",
                           slots={"language": language, "digital_topic": topic})
    return run(ActionDigitalHelp(), domain, tracker)


@pytest.mark.parametrize(("text", "language", "title", "first_step"), [
    ("I forgot my password", "en", "Reset your password", "1) Go to riverton.gov/portal."),
    ("olvidé mi contraseña", "es", "Cambiar su contraseña olvidada",
     "1) Entre en riverton.gov/portal."),
    ("j'ai oublié mon mot de passe", "fr", "Changer un mot de passe oublié",
     "1) Allez sur riverton.gov/portal."),
    ("نسيت كلمة المرور", "ar", "استعادة كلمة المرور", "1) ادخل إلى riverton.gov/portal."),
])
def test_digital_guide(database: str, domain: dict, text: str, language: str, title: str,
                       first_step: str) -> None:
    messages, events = digital_help(domain, text, language)
    [message] = messages
    assert message["response"] == "utter_digital_guide"
    assert message["title"] == title
    assert message["steps"].startswith(first_step)
    assert " 5) " in message["steps"] and " 6) " not in message["steps"]
    assert slot_events(events) == {"digital_topic": None, "awaiting": None}


def test_digital_guide_from_a_button(database: str, domain: dict) -> None:
    messages, _ = digital_help(domain, '/digital_help{"digital_topic": "guide:create_account"}',
                               language="fr", topic="guide:create_account")
    assert messages[0]["response"] == "utter_digital_guide"
    assert messages[0]["title"] == "Créer un compte sur le site de la ville"


@pytest.mark.parametrize(("text", "topic", "response", "first_place"), [
    ("free wifi", None, "utter_digital_access",
     "Central Library, 3 Library Lane (Mon-Sat 9am-7pm)"),
    ("where can I use a computer", None, "utter_digital_access", "Central Library"),
    ("computer classes", None, "utter_digital_classes",
     "Computer basics for beginners, 3 Library Lane (Tue and Thu 10am-12pm)"),
    ("/digital_help", "class", "utter_digital_classes", "Computer basics for beginners"),
    ("/digital_help", "access", "utter_digital_access", "Central Library"),
])
def test_digital_places(database: str, domain: dict, text: str, topic: str | None,
                        response: str, first_place: str) -> None:
    messages, events = digital_help(domain, text, topic=topic)
    [message] = messages
    assert message["response"] == response
    places = message["places"].split("; ")
    assert len(places) == 2
    assert places[0].startswith(first_place)
    assert slot_events(events) == {"digital_topic": None, "awaiting": None}


def test_digital_classes_in_spanish(database: str, domain: dict) -> None:
    messages, _ = digital_help(domain, "clases de computación", language="es")
    assert messages[0]["response"] == "utter_digital_classes"
    assert messages[0]["places"].startswith("Informática básica para principiantes")


def test_digital_portal_menu(database: str, domain: dict) -> None:
    messages, events = digital_help(domain, "/digital_help", topic="portal")
    assert responses(messages) == ["utter_ask_portal_task"]
    assert [b["payload"] for b in messages[0]["buttons"]] == [
        f'/digital_help{{"digital_topic": "guide:{slug}"}}'
        for slug in ("reset_password", "create_account", "upload_document",
                     "check_application_online")]
    assert messages[0]["buttons"][0]["title"] == "Reset your password"
    assert slot_events(events) == {"digital_topic": None, "awaiting": "digital"}


@pytest.mark.parametrize("text", ["I need help with digital stuff", "hello"])
def test_digital_topic_menu(database: str, domain: dict, text: str) -> None:
    messages, events = digital_help(domain, text)
    assert responses(messages) == ["utter_ask_digital_topic"]
    assert slot_events(events) == {"digital_topic": None, "awaiting": "digital"}


# --- Fallback, cancel, a person ---------------------------------------------------------------


def fallback_tracker(domain: dict, intents_before: list[str]) -> Tracker:
    before: list[dict] = []
    for index, intent in enumerate(intents_before):
        before += [ActionExecuted("action_listen"), user_event(f"message {index}", intent),
                   ActionExecuted("action_fallback" if intent == "nlu_fallback"
                                  else "utter_greet")]
    return make_tracker(domain, STRANGER, "blorp", intent="nlu_fallback", before=before,
                        slots={"language": "en"})


@pytest.mark.parametrize(("before", "response"), [
    ([], "utter_rephrase"),
    (["greet"], "utter_rephrase"),
    (["nlu_fallback"], "utter_offer_human"),
    (["greet", "nlu_fallback"], "utter_offer_human"),
    (["nlu_fallback", "nlu_fallback"], "utter_offer_human"),
    (["nlu_fallback", "greet"], "utter_rephrase"),  # not in a row
])
def test_fallback(database: str, domain: dict, before: list[str], response: str) -> None:
    messages, events = run(ActionFallback(), domain, fallback_tracker(domain, before))
    assert responses(messages) == [response]
    # The turn always ends: Rasa listens next (never the fallback again, issue 9).
    assert events[-1] == FollowupAction("action_listen")
    assert slot_events(events) == ({"awaiting": "human"} if response == "utter_offer_human"
                                   else {})


def missed_turn(text: str, intent: str) -> list[dict]:
    """A turn the assistant did not get (whatever fell back: NLU or the policies)."""
    return [ActionExecuted("action_listen"), user_event(text, intent),
            ActionExecuted("action_fallback"),
            {"event": "bot", "text": "Sorry, I did not get that.", "timestamp": None,
             "metadata": {"utter_action": "utter_rephrase"}}]


def test_misses_the_policies_fell_back_on_count_too(database: str, domain: dict) -> None:
    # "ok", then "yes": NLU understood both (affirm), the policies had nothing to do with them.
    tracker = make_tracker(domain, STRANGER, "yes", intent="affirm",
                           before=missed_turn("ok", "affirm"), slots={"language": "en"})
    messages, events = run(ActionFallback(), domain, tracker)
    assert responses(messages) == ["utter_offer_human"]
    assert events == [SlotSet("awaiting", "human"), FollowupAction("action_listen")]


def test_a_turn_already_answered_just_ends(database: str, domain: dict) -> None:
    # "y el sábado?" was answered; the policies then did not know what comes next.
    answered = [ActionExecuted("action_find_office"),
                {"event": "bot", "text": "Open on Saturday.", "timestamp": None,
                 "metadata": {"utter_action": "utter_offices_open_on_day"}}]
    tracker = make_tracker(domain, STRANGER, "y el sábado?", intent="inform",
                           before=missed_turn("blorp", "nlu_fallback"), after=answered,
                           slots={"language": "es"})
    messages, events = run(ActionFallback(), domain, tracker)
    assert messages == []
    assert events == [FollowupAction("action_listen")]


def test_an_answered_turn_is_not_a_miss(database: str, domain: dict) -> None:
    answered = [ActionExecuted("action_listen"), user_event("y el sábado?", "inform"),
                ActionExecuted("action_find_office"),
                {"event": "bot", "text": "Open on Saturday.", "timestamp": None},
                ActionExecuted("action_fallback")]
    tracker = make_tracker(domain, STRANGER, "blorp", intent="nlu_fallback", before=answered,
                           slots={"language": "es"})
    messages, _ = run(ActionFallback(), domain, tracker)
    assert responses(messages) == ["utter_rephrase"]


def test_cancel_clears_the_form(database: str, domain: dict) -> None:
    tracker = make_tracker(domain, STRANGER, "cancel", intent="cancel",
                           active_loop="status_form",
                           slots={"language": "en", "case_reference": "40217382",
                                  "requested_slot": "date_of_birth", "awaiting": "office"})
    messages, events = run(ActionCancel(), domain, tracker)
    assert responses(messages) == ["utter_cancelled", "utter_menu"]
    assert events[0] == ActiveLoop(None)
    assert slot_events(events) == {"case_reference": None, "date_of_birth": None,
                                   "status_outcome": None, "awaiting": None,
                                   "requested_slot": None,
                                   **dict.fromkeys(forms.ALL_SLOTS)}  # the guided forms


def test_cancel_outside_a_form_shows_the_menu(database: str, domain: dict) -> None:
    tracker = make_tracker(domain, STRANGER, "MENU", intent="cancel", slots={"language": "en"})
    messages, events = run(ActionCancel(), domain, tracker)
    assert responses(messages) == ["utter_menu"]
    assert ActiveLoop(None) in events
