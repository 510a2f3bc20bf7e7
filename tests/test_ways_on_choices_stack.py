"""Issue 9's last ways on, end to end: signed SMS, Telegram updates, signed calls and the API
against the trained model, the action server and the database, in all four languages.

* After the list of the phone's open cases the question is "Which one? Reply 1, 2… or type the
  case number", never "What is your case number?" again; on a call the list is read as options
  and one key picks a case; two wrong numbers offer a person.
* "Cancel my appointment" with two bookings: which one (a numbered list), then one yes/no; the
  other booking stays.
* What a case waits for is told in the conversation's language (``detail`` per language, a
  plain string still accepted), or the generic text where staff wrote none in it.

The fast half (the actions alone): tests/test_ways_on_choices.py.
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from bot.devtools.clients import CallClient
from bot.language import texts
from bot.messaging.voice.speech import spoken_digits, spoken_time
from tests.support.clients import Sms, Telegram, channel_hooks
from tests.support.days import open_weekday
from tests.support.oracles import MAX_WORDS, heard, in_language, words
from tests.support.stack import Stack
from tests.support.stack_data import book_directly, query, spaced
from tests.support.unique import phone

pytestmark = pytest.mark.stack

LANGUAGE_KEYS = {"en": "1", "es": "2", "fr": "3", "ar": "4"}


def open_case(stack: Stack, number: str, language: str, status: str = "in_review",
              detail: object = None) -> str:
    body = {"service": "housing_support", "status": status, "phone": number,
            "language": language, **({"detail": detail} if detail is not None else {})}
    status_code, created = stack.api("POST", "/api/cases", body)
    assert status_code == 201, created
    return created["reference"]


# --- after the list of open cases: "which one?", not the question again -------------------------

PICK = [
    ("en", "+1555083", "I want to check my application", "I don't have it",
     "1. Housing support - in review", "2. Talk to a person",
     "Which one? Reply 1, 2... or type the case number.", "What is your case number?",
     "Case "),
    ("es", "+3461183", "quiero saber cómo va mi solicitud", "no sé cuál es",
     "1. Ayuda para la vivienda - en revisión", "2. Hablar con una persona",
     "¿Cuál es? Responda 1, 2... o escriba el número de caso.",
     "¿Cuál es su número de caso?", "Caso "),
    ("fr", "+3361183", "je veux savoir où en est mon dossier", "je ne l'ai pas",
     "1. Aide au logement - en cours d'examen", "2. Parler à une personne",
     "Lequel ? Répondez 1, 2... ou tapez le numéro de dossier.",
     "Quel est votre numéro de dossier ?", "Dossier "),
    ("ar", "+21261283", "أريد معرفة حالة طلبي", "ما عندي الرقم",
     "1. دعم السكن - قيد المراجعة", "2. التحدث مع موظف", "أيها؟ أرسل 1 أو 2... أو اكتب رقم الملف.",
     "ما رقم ملفك؟", "الملف "),
]


@pytest.mark.parametrize(("language", "prefix", "ask", "dont_have", "listed", "person",
                          "which", "question", "status"), PICK, ids=[c[0] for c in PICK])
def test_after_the_list_the_question_is_which_one(
        stack: Stack, language: str, prefix: str, ask: str, dont_have: str, listed: str,
        person: str, which: str, question: str, status: str) -> None:
    number = phone(prefix)
    reference = open_case(stack, number, language)
    sms = Sms(stack, number)
    assert question in sms(ask)
    cases = sms(dont_have)
    assert listed in cases and person in cases and which in cases, cases
    assert question not in cases, cases  # never the same question verbatim after the list
    assert cases.index(listed) < cases.index(which)
    assert in_language(cases, language), cases
    shown = sms("1")
    assert shown.startswith(status) and spaced(reference) in shown, shown


@pytest.mark.parametrize(("language", "prefix", "ask", "dont_have", "listed", "person",
                          "which", "question", "status"), PICK, ids=[c[0] for c in PICK])
def test_two_wrong_numbers_list_the_cases_with_a_person(
        stack: Stack, language: str, prefix: str, ask: str, dont_have: str, listed: str,
        person: str, which: str, question: str, status: str) -> None:
    number = phone(prefix)
    open_case(stack, number, language)
    sms = Sms(stack, number)
    sms(ask)
    first = sms("1234 5678")  # not a valid case number (its check digit)
    assert "1234 5678" in first and question not in first, first  # it asks in its own words
    second = sms("8765 4321")
    assert listed in second and person in second and which in second, second


def test_without_a_proven_phone_two_wrong_numbers_offer_a_person(stack: Stack) -> None:
    tg = Telegram(stack)
    tg("¿cómo va mi solicitud?")
    tg("1234 5678")
    way = tg("8765 4321")
    assert "Una persona puede buscar su caso" in way and "¿Cuál es su número" not in way, way
    assert [title for title, _ in tg.buttons] == ["Hablar con una persona", "Buscar una oficina"]


@pytest.mark.parametrize("language", ["en", "ar"])
def test_a_caller_picks_their_case_with_one_key(stack: Stack, language: str) -> None:
    number = phone("+1555084")
    reference = open_case(stack, number, language)
    first = CallClient(channel_hooks(stack), number)
    first.start()
    first.press(LANGUAGE_KEYS[language])
    call = CallClient(channel_hooks(stack), number)
    call.start()
    question = call.press("1")
    assert texts.text("utter_ask_case_reference__voice", language) in question.text
    listed = call.say({"en": "I don't have it", "ar": "ما عندي الرقم"}[language])
    assert listed.gather is not None and "stage=reference" in listed.gather["action"]
    assert texts.text("utter_ask_case_reference_pick__voice", language) in listed.text
    assert texts.text("utter_ask_case_reference__voice", language) not in listed.text
    label = {"en": "Housing support — in review", "ar": "دعم السكن — قيد المراجعة"}[language]
    assert texts.text("utter_voice_option_first", language, digit=1, option=label) \
        in listed.text, listed.text
    assert not heard(listed.text) and len(words(listed.text)) <= MAX_WORDS, listed.text
    status = call.press("1")  # one key picks the case ("1#")
    assert spoken_digits(reference) in status.text, status.text


# --- calling off one of two bookings ------------------------------------------------------------

_slots = itertools.count(0)


def two_bookings(stack: Stack, number: str, language: str) -> tuple[str, str]:
    """Two of the person's bookings: a Monday morning and the next Tuesday afternoon, three
    weeks ahead (the other suites book the next two weeks), at times of their own (two desks a
    slot: each test takes the next half hour)."""
    after = dt.date.today() + dt.timedelta(days=21)
    monday = open_weekday(stack, "city_hall", 0, after)
    tuesday = open_weekday(stack, "city_hall", 1, monday)
    minutes = 30 * next(_slots)
    morning = dt.datetime.combine(monday, dt.time(8, 30)) + dt.timedelta(minutes=minutes)
    afternoon = dt.datetime.combine(tuesday, dt.time(13, 0)) + dt.timedelta(minutes=minutes)
    return (book_directly(stack, number, morning, language),
            book_directly(stack, number, afternoon, language))


def times(stack: Stack, *references: str) -> list[str]:
    """The bookings' times as an SMS shows them ("09:30")."""
    found = []
    for reference in references:
        [(starts_at,)] = query(stack, "SELECT b.starts_at FROM bookings b JOIN cases c ON "
                                      "c.id = b.case_id WHERE c.reference = :r", r=reference)
        found.append(str(starts_at)[11:16])
    return found


def booking_status(stack: Stack, reference: str) -> str:
    [(status,)] = query(stack, "SELECT b.status FROM bookings b JOIN cases c ON c.id = b.case_id"
                               " WHERE c.reference = :r", r=reference)
    return status


CALL_OFF = [
    ("en", "+1555085", "I need to cancel my appointment",
     "Which one do you want to call off?", "3. None, keep them", "Call off your appointment: ",
     "yes", "is cancelled"),
    ("es", "+3461185", "quiero anular la cita", "¿Cuál quiere anular?",
     "3. Ninguna, mantenerlas", "¿Anular su cita: ", "sí", "está anulada"),
    ("fr", "+3361185", "je veux annuler le rendez-vous", "Lequel voulez-vous annuler ?",
     "3. Aucun, les garder", "Annuler votre rendez-vous : ", "oui", "est annulé"),
    ("ar", "+21261285", "ألغِ الموعد من فضلك", "أيها تريد إلغاءه؟", "3. لا شيء، أبقها",
     "هل تريد إلغاء موعدك: ", "نعم", "تم إلغاء موعدك"),
]


@pytest.mark.parametrize(("language", "prefix", "typed", "which", "keep", "asked", "yes", "done"),
                         CALL_OFF, ids=[c[0] for c in CALL_OFF])
def test_with_two_bookings_the_person_picks_which_then_says_yes_once(
        stack: Stack, language: str, prefix: str, typed: str, which: str, keep: str,
        asked: str, yes: str, done: str) -> None:
    number = phone(prefix)
    first, second = two_bookings(stack, number, language)
    morning, afternoon = times(stack, first, second)
    sms = Sms(stack, number)
    listed = sms(typed)
    assert which in listed and keep in listed, listed
    assert "1. " in listed and morning in listed and "2. " in listed and afternoon in listed
    assert listed.index(morning) < listed.index(afternoon)  # soonest first
    assert booking_status(stack, first) == booking_status(stack, second) == "booked"
    question = sms("2")
    assert asked in question and afternoon in question and morning not in question, question
    assert booking_status(stack, second) == "booked"  # still nothing before the yes
    answer = sms(yes)
    assert done in answer and spaced(second) in answer, answer
    assert (booking_status(stack, first), booking_status(stack, second)) == (
        "booked", "cancelled")


def test_none_keeps_both_bookings(stack: Stack) -> None:
    number = phone("+1555086")
    first, second = two_bookings(stack, number, "en")
    sms = Sms(stack, number)
    sms("cancel my appointment please")
    assert "OK, your appointments stay as they are." in sms("3")
    assert booking_status(stack, first) == booking_status(stack, second) == "booked"


def test_a_caller_picks_the_booking_to_call_off_with_a_key(stack: Stack) -> None:
    number = phone("+1555087")
    first, second = two_bookings(stack, number, "en")
    known = CallClient(channel_hooks(stack), number)
    known.start()
    known.press("1")
    call = CallClient(channel_hooks(stack), number)
    call.start()
    morning, afternoon = times(stack, first, second)
    listed = call.say("I want to cancel my appointment")
    assert "Call off which one?" in listed.text, listed.text
    spoken_morning = spoken_time(int(morning[:2]), int(morning[3:]), "en")
    spoken_afternoon = spoken_time(int(afternoon[:2]), int(afternoon[3:]), "en")
    # One booking a page (a day and a time in full are long), "9: more" to the next.
    pages = [listed]
    while len(pages) < 4:
        page = call.press("9")
        if spoken_morning in page.text:  # from the last page back to the first
            break
        pages.append(page)
    assert spoken_morning in page.text and len(pages) > 1, [p.text for p in pages]
    for page in pages:
        assert len(words(page.text)) <= MAX_WORDS and not heard(page.text), page.text
    assert spoken_afternoon not in pages[0].text and "9: more." in pages[0].text
    assert spoken_afternoon in " ".join(p.text for p in pages[1:])
    assert "None, keep them." in " ".join(p.text for p in pages[1:])
    question = call.press("1")
    assert "Call off your appointment" in question.text and spoken_morning in question.text
    done = call.press("1")
    assert "is cancelled" in done.text and spoken_digits(first) in done.text, done.text
    assert (booking_status(stack, first), booking_status(stack, second)) == (
        "cancelled", "booked")


# --- what a case waits for, in the conversation's language ------------------------------------

PER_LANGUAGE = {"en": "proof of address", "es": "comprobante de domicilio",
                "fr": "justificatif de domicile"}  # none in Arabic: the generic text there
PAPERS = [
    ("en", "+1555088", "what is the status of my application", "which papers?",
     "Our note: proof of address.", "our note: proof of address."),
    ("es", "+3461188", "cómo va mi solicitud", "¿qué papeles?",
     "Nuestra nota: comprobante de domicilio.", "nuestra nota: comprobante de domicilio."),
    ("fr", "+3361188", "où en est mon dossier", "quels papiers ?",
     "Notre note : justificatif de domicile.", "notre note : justificatif de domicile."),
    ("ar", "+21261288", "ما حالة طلبي", "أي أوراق؟", "نحتاج", "يمكن لموظف أن يخبرك بها"),
]


@pytest.mark.parametrize(("language", "prefix", "ask", "which", "status", "papers"), PAPERS,
                         ids=[c[0] for c in PAPERS])
def test_the_papers_are_told_in_the_conversations_language(
        stack: Stack, language: str, prefix: str, ask: str, which: str, status: str,
        papers: str) -> None:
    number = phone(prefix)
    reference = open_case(stack, number, "en", status="needs_information", detail=PER_LANGUAGE)
    sms = Sms(stack, number)
    sms(ask)
    shown = sms(reference)
    assert status in shown and spaced(reference) in shown, shown
    again = sms(which)
    assert papers in again and spaced(reference) in again, again
    for other in set(PER_LANGUAGE.values()) - {PER_LANGUAGE.get(language)}:
        assert other not in shown + again  # never another language's words
    assert in_language(shown, language) and in_language(again, language), (shown, again)


def test_a_plain_detail_is_still_accepted_and_is_the_cases_language(stack: Stack) -> None:
    number = phone("+3361189")
    reference = open_case(stack, number, "fr", status="needs_information",
                          detail="justificatif de domicile")
    status_code, body = stack.api("GET", f"/api/cases/{reference}")
    assert status_code == 200 and body["detail"] == {"fr": "justificatif de domicile"}
    french = Sms(stack, number)
    french("où en est mon dossier")
    assert "justificatif de domicile" in french(reference)
    english = Sms(stack, number)  # the same phone, now writing in English: no French words
    english("hello, what is the status of my application")
    shown = english(reference)
    assert "we need more papers from you" in shown and "justificatif" not in shown, shown
    assert "A person can tell you which ones." in english("which papers?")


def test_staff_set_the_detail_per_language_when_they_ask_for_papers(stack: Stack) -> None:
    number = phone("+3461190")
    reference = open_case(stack, number, "es")
    status_code, body = stack.api("PATCH", f"/api/cases/{reference}", {
        "status": "needs_information",
        "detail": {"es": "nómina de mayo", "en": "May payslip"}})
    assert status_code == 200 and body["detail"] == {"en": "May payslip", "es": "nómina de mayo"}
    sms = Sms(stack, number)
    sms("cómo va mi solicitud")
    assert "Nuestra nota: nómina de mayo." in sms(reference)
    status_code, body = stack.api("PATCH", f"/api/cases/{reference}", {
        "status": "needs_information", "detail": {"de": "Gehaltsabrechnung"}})
    assert status_code == 422 and body["fields"] == {"detail": "invalid"}, body
    status_code, body = stack.api("PATCH", f"/api/cases/{reference}",
                                  {"status": "in_review", "detail": None})
    assert status_code == 200 and body["detail"] is None
