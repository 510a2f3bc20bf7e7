"""Guided forms (SPEC §5.4), below the conversation: reading answers, dates, drafts, actions.

The conversations themselves, through the real channels and model, are in
tests/test_forms_conversations.py.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from rasa_sdk.events import FollowupAction, SlotSet

from actions.appointments import ActionAskAppointmentDay, ValidateBookAppointmentForm, spread
from actions.forms import ActionFormChoice, ActionStartForm, media_of
from actions.report_problem import ValidateReportProblemForm
from bot.domain import drafts, forms, people
from bot.domain.dates import format_day, parse_day, parse_time
from bot.language.vocabulary import FIELD_NAMES
from bot.store.db import session_scope
from bot.store.models import FormDraft, ProblemReport, utcnow
from tests.support.trackers import make_tracker, run, slot_events

D = dt.date
SUNDAY = D(2026, 11, 29)


@pytest.mark.parametrize(("text", "kind"), [
    ("there's a huge pothole", "pothole"), ("un bache enorme", "pothole"),
    ("nid-de-poule rue des lilas", "pothole"), ("حفرة كبيرة", "pothole"),
    ("the street light is broken", "street_light"), ("la farola no funciona", "street_light"),
    ("le lampadaire est cassé", "street_light"), ("عمود الإنارة معطل", "street_light"),
    ("the bin is overflowing", "overflowing_bin"), ("la poubelle déborde", "overflowing_bin"),
    ("graffiti on the wall", "graffiti"), ("pintadas en la pared", "graffiti"),
    ("the road is flooded", "flooding"), ("la rue est inondée", "flooding"),
    ("someone dumped a mattress", "fly_tipping"), ("des encombrants", "fly_tipping"),
    ("something else", "other"), ("other", "other"), ("otra cosa", "other"),
    ("hello", None), ("", None),
])
def test_kind_of_problem(text: str, kind: str | None) -> None:
    assert forms.match_kind(text) == kind


@pytest.mark.parametrize(("text", "choice"), [
    ("call me", "phone_call"), ("llámenme", "phone_call"), ("appelez-moi", "phone_call"),
    ("a message here", "this_channel"), ("un mensaje aquí", "this_channel"),
    ("no need", "no_contact"), ("pas besoin", "no_contact"), ("لا داعي", "no_contact"),
    ("banana", None),
])
def test_contact_preference(text: str, choice: str | None) -> None:
    assert forms.match_contact(text) == choice


def test_places_and_skips() -> None:
    assert forms.clean_place("  12   Elm Street ") == "12 Elm Street"
    for bad, reason in (("", "empty"), ("?!", "empty"), ("+1 555 010 0001", "phone"),
                        ("/inform", "empty")):
        with pytest.raises(forms.PlaceError) as error:
            forms.clean_place(bad)
        assert error.value.reason == reason
    assert all(forms.is_skip(t) for t in ("skip", "no", "No thanks", "sin foto", "non", "لا"))
    assert not forms.is_skip("here it is") and not forms.is_skip("")


@pytest.mark.parametrize(("text", "expected"), [
    ("mañana", D(2026, 11, 30)), ("demain", D(2026, 11, 30)), ("غدا", D(2026, 11, 30)),
    ("lundi prochain", D(2026, 11, 30)), ("el próximo lunes", D(2026, 11, 30)),
    ("next friday", D(2026, 12, 4)), ("الاثنين القادم", D(2026, 11, 30)),
    ("pasado mañana", D(2026, 12, 1)), ("après-demain", D(2026, 12, 1)),
    ("17/05", D(2027, 5, 17)), ("٢٠/٥", D(2027, 5, 20)), ("3/12", D(2026, 12, 3)),
    ("12/31", D(2026, 12, 31)), ("2026-12-03", D(2026, 12, 3)), ("3 de diciembre", D(2026, 12, 3)),
    ("le 3 décembre", D(2026, 12, 3)), ("December 3rd", D(2026, 12, 3)),
    ("٣ ديسمبر", D(2026, 12, 3)), ("28/11", D(2026, 11, 28)),  # past: said so, not next year
    ("hello", None), ("10:30", None),
])
def test_parse_day(text: str, expected: dt.date | None) -> None:
    assert parse_day(text, SUNDAY) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("10:30", (10, 30)), ("10h30", (10, 30)), ("10.30", (10, 30)), ("١٠:٣٠", (10, 30)),
    ("3pm", (15, 0)), ("2 pm", (14, 0)), ("15h", (15, 0)), ("a las 10", (10, 0)),
    ("4 de la tarde", (16, 0)), ("9 am", (9, 0)), ("at 3", (15, 0)), ("12pm", (12, 0)),
    ("الساعة 2 بعد الظهر", (14, 0)), ("hello", None), ("25:00", None), ("17/05", None),
])
def test_parse_time(text: str, expected: tuple[int, int] | None) -> None:
    assert parse_time(text) == (dt.time(*expected) if expected else None)


def test_format_day_per_language() -> None:
    day = D(2026, 12, 1)
    assert [format_day(day, code) for code in ("en", "es", "fr", "ar")] == [
        "Tuesday 1 December", "martes 1 de diciembre", "mardi 1 décembre", "الثلاثاء 1 ديسمبر"]


def test_spread_keeps_the_whole_day() -> None:
    assert spread(list(range(16)), 6) == [0, 3, 6, 9, 12, 15]
    assert spread([1, 2], 6) == [1, 2]


def test_drafts_expire(database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with session_scope() as session:
        person = people.get_or_create(session, "+15550177001")
        drafts.save(session, person, forms.REPORT_FORM, {"problem_kind": "pothole",
                                                         "problem_place": None})
        assert drafts.load(session, person, forms.REPORT_FORM).answers == {
            "problem_kind": "pothole"}
        draft = drafts.load(session, person, forms.REPORT_FORM)
        draft.updated_at = utcnow() - dt.timedelta(hours=5)
    monkeypatch.setenv("CIVICLINE_DRAFT_HOURS", "4")
    with session_scope() as session:
        person = people.find(session, "+15550177001")
        assert drafts.load(session, person, forms.REPORT_FORM) is None
        assert session.query(FormDraft).count() == 0


# --- the actions, with trackers as Rasa sends them ------------------------------------------

def validate(action: Any, domain: dict, sender: str, text: str, requested: str,
             slots: dict[str, Any] | None = None, **kwargs: Any) -> tuple[list, dict]:
    """One answer to the requested slot, as Rasa's form would pass it for validation."""
    after = [SlotSet(requested, kwargs.pop("value", text))] if requested != "problem_photo" \
        else []
    tracker = make_tracker(domain, sender, text, slots={"requested_slot": requested,
                                                        "language": "en", **(slots or {})},
                           after=after, active_loop=action.form, **kwargs)
    messages, events = run(action, domain, tracker)
    return [m["response"] for m in messages], slot_events(events)


def test_report_answers_are_checked_and_kept_as_a_draft(database: str, domain: dict) -> None:
    action, sender = ValidateReportProblemForm(), "+15550177002"
    said, slots = validate(action, domain, sender, "hmm", "problem_kind")
    assert said == ["utter_problem_kind_unclear"] and slots["problem_kind"] is None
    said, slots = validate(action, domain, sender, "the bench in the park is broken",
                           "problem_kind")
    assert slots["problem_kind"] == "other" and "bench" in slots["problem_detail"]
    said, slots = validate(action, domain, sender, "+1 555 010 0001", "problem_place",
                           {"problem_kind": "pothole"})
    assert said == ["utter_problem_place_is_phone"] and slots["problem_place"] is None
    said, slots = validate(action, domain, sender, "12 Elm Street", "problem_place",
                           {"problem_kind": "pothole"})
    assert slots["problem_place"] == "12 Elm Street" and slots["requested_slot"] == \
        "problem_photo"
    with session_scope() as session:
        draft = drafts.load(session, people.find(session, sender), forms.REPORT_FORM)
        assert draft.answers == {"problem_kind": "pothole", "problem_place": "12 Elm Street"}


def test_a_photo_comes_as_metadata(database: str, domain: dict) -> None:
    action, sender = ValidateReportProblemForm(), "+15550177003"
    answered = {"problem_kind": "pothole", "problem_place": "Elm Street"}
    media = [{"url": "https://api.twilio.com/Media/ME1", "content_type": "image/jpeg"}]
    tracker = make_tracker(domain, sender, "", slots={"requested_slot": "problem_photo",
                                                      **answered},
                           active_loop=forms.REPORT_FORM)
    tracker.events[-1]["metadata"] = {"media": media}
    assert media_of(tracker) == media
    messages, events = run(action, domain, tracker)
    assert [m["response"] for m in messages] == ["utter_problem_photo_received"]
    assert slot_events(events)["problem_photo"] == media[0]
    said, slots = validate(action, domain, sender, "here", "problem_photo", answered)
    assert said == ["utter_problem_photo_missing"]
    said, slots = validate(action, domain, sender, "no", "problem_photo", answered,
                           intent="deny")
    assert slots["problem_photo"] == forms.NO_PHOTO


def test_a_confirmed_report_becomes_a_case(database: str, domain: dict) -> None:
    action, sender = ValidateReportProblemForm(), "+15550177004"
    answered = {"problem_kind": "flooding", "problem_place": "Oak Road",
                "problem_photo": {"file_id": "AgAD"}, "contact_preference": "phone_call",
                "contact_phone": "+15550177004"}
    _said, slots = validate(action, domain, sender, "/affirm", "problem_confirm", answered,
                            intent="affirm", value="yes")
    assert slots["form_reference"] and slots["problem_confirm"] == "yes"
    with session_scope() as session:
        report = session.query(ProblemReport).one()
        assert (report.kind, report.place, report.media) == ("flooding", "Oak Road",
                                                              [{"file_id": "AgAD"}])
        assert report.case.reference == slots["form_reference"]
        assert report.case.service.slug == "street_problems"
        assert drafts.load(session, people.find(session, sender), forms.REPORT_FORM) is None


def test_no_at_the_read_back_asks_what_to_change(database: str, domain: dict) -> None:
    action, sender = ValidateReportProblemForm(), "+15550177005"
    answered = {"problem_kind": "graffiti", "problem_place": "Elm Street",
                "problem_photo": "none", "contact_preference": "no_contact"}
    _said, slots = validate(action, domain, sender, "no", "problem_confirm", answered,
                            intent="deny", value="no")
    assert slots["requested_slot"] == "form_field"
    _said, slots = validate(action, domain, sender, "2", "form_field",
                            {**answered, "problem_confirm": "no"}, value="problem_place")
    assert slots["problem_place"] is None and slots["requested_slot"] == "problem_place"


def test_a_day_is_refused_with_its_reason(database: str, domain: dict) -> None:
    action, sender = ValidateBookAppointmentForm(), "+15550177006"
    chosen = {"appointment_service": "id_cards", "appointment_office": "city_hall"}
    for text, response in (("someday", "utter_appointment_day_unreadable"),
                           ("01/01/2020", "utter_appointment_day_past")):
        said, slots = validate(action, domain, sender, text, "appointment_day", chosen)
        assert said == [response] and slots["appointment_day"] is None
    now = dt.datetime(2026, 12, 2, 9, 0)  # a Wednesday: the action's today, not the calendar's
    action = ValidateBookAppointmentForm(now=lambda: now)
    for day, response in ((dt.date(2026, 12, 6), "utter_appointment_day_closed"),  # Sunday
                          (dt.date(2026, 12, 25), "utter_appointment_day_holiday"),
                          (dt.date(2026, 12, 1), "utter_appointment_day_past")):  # yesterday
        said, _slots = validate(action, domain, sender, day.isoformat(), "appointment_day",
                                chosen)
        assert said == [response], day


def test_a_day_that_reads_two_ways_is_asked_back_never_guessed(
        database: str, domain: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    """"07/12" is the 7th of December or the 12th of July: when both can be booked (a horizon
    of 400 days here), both are offered (issue 13 §4), the form's own question is not said
    again in that turn, and the one picked is taken."""
    monkeypatch.setenv("CIVICLINE_BOOKING_DAYS", "400")
    now = dt.datetime(2026, 12, 2, 9, 0)
    action, sender = ValidateBookAppointmentForm(now=lambda: now), "+15550177010"
    chosen = {"appointment_service": "id_cards", "appointment_office": "city_hall",
              "requested_slot": "appointment_day", "language": "en"}
    tracker = make_tracker(domain, sender, "07/12", slots=chosen,
                           after=[SlotSet("appointment_day", "07/12")],
                           active_loop=action.form)
    messages, events = run(action, domain, tracker)
    assert [m["response"] for m in messages] == ["utter_appointment_day_which"]
    assert [(b["title"], b["payload"]) for b in messages[0]["buttons"]] == [
        ("Monday 7 December", '/inform{"appointment_day": "2026-12-07"}'),
        ("Monday 12 July", '/inform{"appointment_day": "2027-07-12"}')]
    assert slot_events(events)["appointment_day"] is None
    asked = make_tracker(domain, sender, "07/12", slots=chosen, active_loop=action.form,
                         after=[{"event": "bot", "text": "", "metadata": {
                             "utter_action": "utter_appointment_day_which"}}])
    again, _ = run(ActionAskAppointmentDay(), domain, asked)
    assert again == []  # "Which day do you mean?" asks already
    said, slots = validate(action, domain, sender, '/inform{"appointment_day": "2026-12-07"}',
                           "appointment_day", chosen, value="2026-12-07")
    assert said == [] and slots["appointment_day"] == "2026-12-07"


def test_the_only_office_is_chosen_for_the_person(database: str, domain: dict) -> None:
    # health_clinic is offered by Riverside only; id_cards by two offices.
    _said, slots = validate(ValidateBookAppointmentForm(), domain, "+15550177007",
                            "the clinic", "appointment_service")
    assert slots["appointment_service"] == "health_clinic"
    assert slots["appointment_office"] == "riverside_hub"
    said, slots = validate(ValidateBookAppointmentForm(), domain, "+15550177007",
                           "the buses", "appointment_service")
    assert said == ["utter_appointment_service_unknown"]


def test_starting_offers_the_draft_then_resumes_it(database: str, domain: dict) -> None:
    sender = "+15550177008"
    with session_scope() as session:
        drafts.save(session, people.get_or_create(session, sender), forms.REPORT_FORM,
                    {"problem_kind": "pothole", "problem_place": "12 Elm Street"})
    tracker = make_tracker(domain, sender, "I want to report a problem",
                           intent="report_problem", slots={"language": "en"})
    messages, events = run(ActionStartForm(), domain, tracker)
    assert [m["response"] for m in messages] == ["utter_offer_draft"]
    assert messages[0]["summary"] == "Pothole, 12 Elm Street"
    offer = slot_events(events)["form_offer"]
    tracker = make_tracker(domain, sender, '/inform{"form_choice": "continue"}',
                           entities=[{"entity": "form_choice", "value": "continue"}],
                           slots={"language": "en", "form_offer": offer})
    _messages, events = run(ActionFormChoice(), domain, tracker)
    assert slot_events(events)["problem_place"] == "12 Elm Street"
    assert events[-1] == FollowupAction(forms.REPORT_FORM)


def test_starting_without_a_draft_prefills_what_was_said(database: str, domain: dict) -> None:
    tracker = make_tracker(domain, "+15550177009", "there's a pothole on my road",
                           intent="report_problem", slots={"language": "en"})
    messages, events = run(ActionStartForm(), domain, tracker)
    assert messages == [] and slot_events(events)["problem_kind"] == "pothole"
    assert events[-1] == FollowupAction(forms.REPORT_FORM)


# --- SMS budget with the real data (buttons built from the data are not in the domain) -------

LONGEST_DATE = D(2026, 9, 30)  # "miércoles 30 de septiembre", "الأربعاء 30 سبتمبر"


def _longest(values: list[str]) -> str:
    return max(values, key=len)


@pytest.mark.parametrize("language", ["en", "es", "fr", "ar"])
def test_form_questions_with_real_data_fit_three_sms_segments(session, language: str) -> None:
    from bot.domain import bookings, offices
    from bot.language import texts
    from bot.language.i18n import pick
    from bot.messaging.sms.encoding import MAX_SEGMENTS, segments

    def sms(name: str, titles: list[str] = (), **values: str) -> str:
        return texts.text(name, language, **values) + "".join(
            f"\n{i}. {title}" for i, title in enumerate(titles, 1))

    services_ = bookings.bookable_services(session)
    service_names = [pick(s.names, language) for s in services_]
    all_offices = offices.all_offices(session)
    office = _longest([offices.name(o, language) for o in all_offices])
    days = [format_day(D(2026, 9, 28) + dt.timedelta(days=i), language, short=True)
            for i in range(7)]
    long_date = format_day(LONGEST_DATE, language)
    summary = f"{_longest(service_names)}, {office}"
    messages = [
        sms("utter_ask_appointment_service", service_names),
        sms("utter_ask_appointment_day", sorted(days, key=len)[-5:], office=office),
        sms("utter_ask_appointment_time", ["09:00", "10:30", "12:00", "13:30", "15:00",
                                            "16:30"], date=long_date),
        sms("utter_ask_booking_confirm", ["Yes", "No, change something"],
            service=_longest(service_names), office=office, address="45 Oak Road",
            date=long_date, time="10:30"),
        sms("utter_booked", office=office, address="45 Oak Road", date=long_date,
            time="10:30", reference="4021 7382"),
        sms("utter_offer_bookings", texts.button_titles("utter_offer_bookings", language),
            booking=f"{summary}, {long_date} 10:30"),
        sms("utter_offer_draft", ["Yes, go on", "No, start again"], summary=summary),
        sms("utter_appointment_day_holiday", office=office, date=long_date,
            holiday="Day after Christmas"),
        *[sms("utter_ask_form_field", [forms.name_of(FIELD_NAMES, f, language)
                                       for f in fields])
          for fields in forms.CHANGEABLE.values()],
        sms("utter_ask_problem_confirm", ["Yes", "No, change something"],
            **forms.report_summary({"problem_kind": "other", "problem_detail": "x" * 200,
                                    "problem_place": "y" * 200, "problem_photo": "none",
                                    "contact_preference": "this_channel"}, language)),
    ]
    for service in services_:
        candidates = [offices.name(o, language) for o in offices.offering(session, service)]
        messages.append(sms("utter_ask_appointment_office", candidates,
                            service=pick(service.names, language)))
    over = [(segments(m), m) for m in messages if segments(m) > MAX_SEGMENTS]
    assert not over, over


def test_a_day_that_reads_two_ways_but_can_be_booked_one_way_is_taken(
        database: str, domain: dict) -> None:
    """"07/12" on 2 December, with appointments 30 days ahead: the 12th of July cannot be
    booked, so the 7th of December is meant; nothing is asked back."""
    now = dt.datetime(2026, 12, 2, 9, 0)
    action, sender = ValidateBookAppointmentForm(now=lambda: now), "+15550177011"
    chosen = {"appointment_service": "id_cards", "appointment_office": "city_hall",
              "requested_slot": "appointment_day", "language": "en"}
    said, slots = validate(action, domain, sender, "07/12", "appointment_day", chosen,
                           value="07/12")
    assert "utter_appointment_day_which" not in said
    assert slots["appointment_day"] == "2026-12-07"
