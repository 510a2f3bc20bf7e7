"""Guided forms end to end (SPEC §5.4, §5.7): real SMS and Telegram webhooks, the trained
model, the action server and the database; English, Spanish, French and Arabic.

Each test is one citizen (their own phone or Telegram id). Turn counts of the completed forms
are written to results/form-turns.json for the issue's completion figures.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.clients import Sms, Telegram
from tests.support.days import next_weekday, open_weekday
from tests.support.environment import ROOT
from tests.support.oracles import in_language, reference_in
from tests.support.providers import sms_to
from tests.support.stack import Stack
from tests.support.stack_data import (
    book_directly,
    dispatched_round,
    draft_of,
    expire_session,
    json_column,
    query,
    spaced,
)
from tests.support.unique import phone
from tests.support.waiting import eventually
from tests.support.web import http

pytestmark = pytest.mark.stack
TURNS: list[dict[str, Any]] = []


@pytest.fixture(scope="module", autouse=True)
def completion_figures() -> Iterator[None]:
    """Write the turns each completed form took (per form, language and channel)."""
    yield
    if TURNS:
        out = ROOT / "results" / "form-turns.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(TURNS, indent=2, ensure_ascii=False) + "\n")


def record(form: str, language: str, channel: str, turns: int, note: str) -> None:
    TURNS.append({"form": form, "language": language, "channel": channel, "turns": turns,
                  "note": note})


# --- report a problem -------------------------------------------------------------------------

def test_spanish_problem_report_over_sms(stack: Stack) -> None:
    number = phone("+3461100")
    sms = Sms(stack, number)
    asked = sms("Hola, quiero avisar de un bache enorme en mi calle")
    assert "¿Dónde está?" in asked and in_language(asked, "es")  # the kind came with it
    refused = sms("+34 612 345 678")
    assert "número de teléfono" in refused and "¿Dónde está?" in refused
    helped = sms("¿por qué?")
    assert "El equipo necesita encontrar" in helped and "¿Dónde está?" in helped
    assert "¿Tiene una foto?" in sms("Calle Mayor 12, frente a la farmacia")
    contact = sms("no")
    assert "1. Un mensaje aquí" in contact
    readback = sms("1")
    assert "Bache, en Calle Mayor 12, frente a la farmacia" in readback and "1. Sí" in readback
    done = sms("1")
    reference = reference_in(done)
    assert "Gracias" in done
    [(kind, place, contact_row, service)] = query(
        stack, "SELECT r.kind, r.place, r.contact, s.slug FROM problem_reports r JOIN cases c "
               "ON c.id = r.case_id JOIN services s ON s.id = c.service_id "
               "WHERE c.reference = :r", r=reference)
    assert (kind, place, contact_row, service) == ("pothole", "Calle Mayor 12, frente a la "
                                                   "farmacia", "this_channel", "street_problems")
    assert draft_of(stack, number) is None
    record("report_problem", "es", "sms", sms.turns, "with a refused answer and a 'why'")


def test_french_problem_report_over_telegram_changing_an_answer(stack: Stack) -> None:
    tg = Telegram(stack)
    asked = tg("Bonjour, je veux signaler un problème dans ma rue")
    assert "Quel est le problème ?" in asked and any("Lampadaire" in t for t, _ in tg.buttons)
    assert "Où est-ce ?" in tg.press("Lampadaire")
    assert "Avez-vous une photo ?" in tg("devant la mairie")
    assert "Comment voulez-vous être tenu au courant ?" in tg("non")
    readback = tg.press("Pas besoin")
    assert "Lampadaire, à devant la mairie" in readback
    assert "Que voulez-vous changer ?" in tg.press("Non")
    assert "Où est-ce ?" in tg.press("Le lieu")
    readback = tg("12 rue des Lilas")
    assert "Lampadaire, à 12 rue des Lilas" in readback and "pas de contact" in readback
    done = tg.press("Oui")
    assert "Merci" in done and reference_in(done)
    record("report_problem", "fr", "telegram", tg.turns, "with one answer changed")


def test_english_problem_report_with_a_photo_and_other_kind(stack: Stack) -> None:
    """The photo comes as message metadata (the REST channel carries it as the SMS and
    Telegram channels do: {"media": [{"url"|"file_id", "content_type"}]})."""
    sender = phone("+1555044")
    turns = 0

    def say(text: str, metadata: dict | None = None) -> str:
        nonlocal turns
        turns += 1
        body = {"sender": sender, "message": text, **({"metadata": metadata} if metadata else {})}
        status, replies, _ = http("POST", f"{stack.url}/webhooks/rest/webhook", body)
        assert status == 200, replies
        return "\n".join(r.get("text", "") for r in replies)

    assert "What is the problem?" in say("I want to report a problem")
    assert "Where is it?" in say("the bench in the park is broken")
    assert "Do you have a photo" in say("Riverside park, near the gate")
    photo = {"url": "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
             "content_type": "image/jpeg"}
    answer = say("here is the photo", {"media": [photo]})
    assert "I got your photo" in answer and "How should we tell you" in answer
    readback = say("call me please")
    assert "the bench in the park is broken, at Riverside park" in readback
    assert "Photo: yes" in readback and "a phone call" in readback
    done = say("yes")
    reference = reference_in(done)
    [(media, contact_phone)] = query(
        stack, "SELECT r.media, r.contact_phone FROM problem_reports r JOIN cases c ON c.id = "
               "r.case_id WHERE c.reference = :r", r=reference)
    assert json_column(media) == [photo] and contact_phone == sender
    record("report_problem", "en", "rest", turns, "'other' described, a photo, a call")


def report_media(stack: Stack, reference: str) -> list[dict[str, str]]:
    [(media,)] = query(stack, "SELECT r.media FROM problem_reports r JOIN cases c ON c.id = "
                              "r.case_id WHERE c.reference = :r", r=reference)
    return json_column(media)


def test_spanish_problem_report_with_an_mms_photo(stack: Stack) -> None:
    """An MMS with no words answers the photo question; a photo sent to another question is
    declined and that question is asked again."""
    number = phone("+3461255")
    sms = Sms(stack, number)
    url = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM7/Media/ME7"
    assert "¿Qué problema hay?" in sms("quiero avisar de un problema en mi calle")
    assert "¿Dónde está?" in sms("1")
    early = sms("", NumMedia="1", MediaUrl0=url + "x", MediaContentType0="image/jpeg")
    assert "Solo puedo usar una foto cuando la pido" in early and "¿Dónde está?" in early
    assert "¿Tiene una foto?" in sms("Calle Mayor 12")
    answer = sms("", NumMedia="1", MediaUrl0=url, MediaContentType0="image/jpeg")
    assert "Gracias, recibí su foto." in answer and "¿Cómo le contamos" in answer
    readback = sms("1")  # the first contact choice
    assert "Calle Mayor 12" in readback
    done = sms("sí")
    assert report_media(stack, reference_in(done)) == [
        {"url": url, "content_type": "image/jpeg"}]
    assert url not in stack.full_logs()
    record("report_problem", "es", "sms", sms.turns, "MMS photo, one photo declined early")


def test_telegram_photo_with_a_caption_answers_the_photo_question(stack: Stack) -> None:
    tg = Telegram(stack)
    assert "What is the problem?" in tg("I want to report a problem")
    early = tg.photo()  # before the photo question: declined, the kinds offered again
    assert "only use a photo when I ask" in early and "What is the problem?" in early
    assert "Where is it?" in tg.press("Pothole")
    assert "Do you have a photo" in tg("12 Elm Street")
    answer = tg.photo(caption="here it is")  # the caption is not classified (it reads as "help")
    assert "I got your photo" in answer and "How should we tell you" in answer
    tg.press("No need")
    done = tg.press("Yes")
    assert report_media(stack, reference_in(done)) == [
        {"file_id": "photo-800", "content_type": "image/jpeg"}]  # the largest size
    record("report_problem", "en", "telegram", tg.turns,
           "a photo declined early, then one with a caption")


def test_the_main_menu_offers_both_forms(stack: Stack) -> None:
    sms = Sms(stack, phone("+3361101"))
    menu = sms("Bonjour")
    assert "4. Signaler un problème" in menu and "5. Prendre rendez-vous" in menu
    assert "Quel est le problème ?" in sms("4")
    tg = Telegram(stack)
    tg("/start")
    assert "Report a problem" in [title for title, _ in tg.buttons]
    assert "What is the appointment for?" in tg.press("Book an appointment")


def test_menu_leaves_the_form_and_forgets_the_draft(stack: Stack) -> None:
    number = phone("+1555045")
    sms = Sms(stack, number)
    assert "What is the problem?" in sms("I need to report something in my street")
    assert "Where is it?" in sms("1")  # pothole, from the numbered list
    assert draft_of(stack, number) == {"problem_kind": "pothole"}
    left = sms("MENU")
    assert "OK, I stopped that." in left and "What do you need?" in left
    assert draft_of(stack, number) is None
    assert "What is the problem?" in sms("report a problem")  # no offer: nothing to resume


# --- resume -----------------------------------------------------------------------------------

def test_resume_after_the_session_expired(stack: Stack) -> None:
    number = phone("+1555046")
    sms = Sms(stack, number)
    assert "Where is it?" in sms("there is a huge pothole on my road")
    assert "Do you have a photo" in sms("22 Church Road")
    expire_session(stack, number)  # two hours later...
    offer = sms("Hi, I want to report a problem")
    assert "You started this before: Pothole, 22 Church Road" in offer
    assert "1. Yes, go on" in offer
    assert "Do you have a photo" in sms("1")  # where they were
    assert "How should we tell you" in sms("no")
    assert "Pothole, at 22 Church Road" in sms("3")
    done = sms("yes")
    assert reference_in(done)
    sessions = query(stack, "SELECT count(*) FROM events WHERE sender_id = :s AND "
                            "type_name = 'session_started'", s=number)[0][0]
    assert sessions >= 2
    record("report_problem", "en", "sms", sms.turns, "resumed after the session expired")


def test_resume_on_another_channel_in_spanish(stack: Stack) -> None:
    """Started by SMS; the same person on Telegram (linked by sharing their phone) goes on."""
    number = phone("+3461101")
    sms = Sms(stack, number)
    asked = sms("Hola, necesito una cita para renovar el DNI")
    assert "¿Qué oficina?" in asked
    assert "¿Qué fecha en" in sms("1")
    assert draft_of(stack, number) == {"appointment_service": "id_cards",
                                       "appointment_office": "city_hall"}
    tg = Telegram(stack)
    tg.client.share_contact(number)
    offer = tg("Hola, quiero pedir una cita")
    assert "Ya empezó esto antes: Documento de identidad, Ayuntamiento de Riverton" in offer
    assert "¿Qué fecha en Ayuntamiento de Riverton?" in tg.press("Sí, seguir")
    day = open_weekday(stack, "city_hall", 1, dt.date.today())  # a Tuesday: open
    asked = tg(day.strftime("%d/%m"))
    assert "¿A qué hora el martes" in asked
    readback = tg.press(tg.buttons[0][0])
    assert "¿La reservo?" in readback
    done = tg.press("Sí")
    assert "¡Listo!" in done and reference_in(done)
    record("book_appointment", "es", "sms+telegram", sms.turns + tg.turns,
           "started by SMS, finished on Telegram")


# --- book an appointment ----------------------------------------------------------------------

def test_french_newcomer_books_by_sms_and_is_told_of_the_status_change(stack: Stack) -> None:
    number = phone("+3361100")
    sms = Sms(stack, number)
    asked = sms("Bonjour, je voudrais un rendez-vous pour ma carte d'identité")
    assert "Quel bureau ?" in asked and "1. Hôtel de ville de Riverton" in asked
    assert "Quel jour à Hôtel de ville de Riverton ?" in sms("1")
    refused = sms("dimanche")
    assert "est fermé le dimanche" in refused and "Quel jour" in refused
    monday = next_weekday(0)
    asked = sms("lundi prochain")
    assert f"À quelle heure le lundi {monday.day}" in asked
    helped = sms("pourquoi ?")
    assert "dure une demi-heure" in helped and "À quelle heure" in helped
    readback = sms("15h30")
    assert f"le lundi {monday.day}" in readback and "à 15:30" in readback
    done = sms("1")
    assert "C'est fait !" in done
    reference = reference_in(done)
    record("book_appointment", "fr", "sms", sms.turns, "with a closed day and a 'why'")

    status, body = stack.api("PATCH", f"/api/cases/{reference}", {"status": "approved"})
    assert status == 200 and body["notifications"][0]["status"] in ("pending", "sending", "sent")

    def delivered() -> dict | None:
        """The notification once Twilio has it and its answer is recorded."""
        [row] = stack.api("GET", f"/api/cases/{reference}")[1]["notifications"]
        return row if sms_to(stack, number) and row["status"] != "sending" else None

    notification = eventually(delivered, "the SMS of the status change")
    assert (notification["status"], notification["language"]) == ("sent", "fr")
    dispatched_round(stack)  # the dispatcher has polled again since: no second SMS
    [sent] = sms_to(stack, number)
    assert spaced(reference) in sent and "bonne nouvelle" in sent


def test_a_full_slot_is_refused_in_arabic(stack: Stack) -> None:
    thursday = open_weekday(stack, "city_hall", 3, dt.date.today() + dt.timedelta(days=7))
    at = dt.datetime.combine(thursday, dt.time(11, 0))
    for _ in range(2):  # both desks
        book_directly(stack, phone("+1555047"), at)
    sms = Sms(stack, phone("+21261100"))
    asked = sms("أريد حجز موعد لبطاقة الهوية")
    assert "أي مكتب؟" in asked
    sms("1")
    too_far = sms("٢٠/٥/٢٠٩٩")
    assert "بعيد جدا" in too_far  # Arabic-Indic digits read as 20/5/2099
    asked = sms(thursday.strftime("%d/%m"))
    assert "في أي ساعة" in asked and "11:00" not in asked
    refused = sms("١١:٠٠")
    assert "محجوزة بالكامل" in refused and "في أي ساعة" in refused
    readback = sms("11:30")
    assert "هل أحجز؟" in readback
    assert "تم!" in sms("نعم")
    record("book_appointment", "ar", "sms", sms.turns, "with a too-far day and a full slot")


def test_two_people_confirm_the_last_free_slot_at_once(stack: Stack) -> None:
    """Both reach "Shall I book it?" for the same time; one desk is left; both say yes at
    the same moment. Exactly one gets the booking; the other is offered another time."""
    friday = open_weekday(stack, "city_hall", 4, dt.date.today() + dt.timedelta(days=14))
    at = dt.datetime.combine(friday, dt.time(9, 30))
    book_directly(stack, phone("+1555048"), at)  # one of the two desks
    people = [Sms(stack, phone("+1555049")) for _ in range(2)]
    for sms in people:
        assert "Which office?" in sms("I need an appointment to renew my ID card")
        sms("1")
        sms(friday.strftime("%d/%m"))
        assert "Shall I book it?" in sms("9:30")
    answers: list[str] = []
    start = threading.Barrier(2)

    def confirm(sms: Sms) -> None:
        start.wait()
        answers.append(sms("yes"))

    threads = [threading.Thread(target=confirm, args=(sms,)) for sms in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted("Done!" in a for a in answers) == [False, True], answers
    lost = next(a for a in answers if "Done!" not in a)
    assert "someone just took 09:30" in lost and "What time on" in lost
    assert query(stack, "SELECT count(*) FROM bookings WHERE starts_at >= :a AND starts_at < :b "
                        "AND desk IS NOT NULL", a=at, b=at + dt.timedelta(minutes=1))[0][0] == 2


def test_cancel_a_booking_then_book_again(stack: Stack) -> None:
    number = phone("+1555050")
    wednesday = open_weekday(stack, "city_hall", 2, dt.date.today() + dt.timedelta(days=7))
    book_directly(stack, number, dt.datetime.combine(wednesday, dt.time(10, 0)))
    sms = Sms(stack, number)
    asked = sms("I need to cancel my appointment")  # straight to the one confirmation
    assert "Call off your appointment: ID cards, Riverton City Hall" in asked
    assert "1. Yes, call it off" in asked
    assert "is cancelled" in sms("1")
    assert query(stack, "SELECT status FROM bookings b JOIN people p ON p.id = b.person_id "
                        "WHERE p.phone = :p", p=number) == [("cancelled",)]
    assert "What is the appointment for?" in sms("book an appointment")



def test_move_a_booking_to_another_day(stack: Stack) -> None:
    number = phone("+3361101")
    tuesday = open_weekday(stack, "city_hall", 1, dt.date.today() + dt.timedelta(days=7))
    book_directly(stack, number, dt.datetime.combine(tuesday, dt.time(14, 0)))
    sms = Sms(stack, number)
    offer = sms("je dois déplacer mon rendez-vous")
    assert "Vous avez un rendez-vous" in offer and "2. Changer le jour ou l'heure" in offer
    assert "Quel jour à Hôtel de ville de Riverton ?" in sms("2")
    wednesday = tuesday + dt.timedelta(days=1)
    assert "À quelle heure le mercredi" in sms(wednesday.strftime("%d/%m"))
    assert "Je réserve ?" in sms("9h")
    moved = sms("oui")
    assert "maintenant le mercredi" in moved and "à 09:00" in moved
    rows = query(stack, "SELECT b.starts_at, b.status FROM bookings b JOIN people p ON "
                        "p.id = b.person_id WHERE p.phone = :p", p=number)
    # str(): SQLite gives the stored text, PostgreSQL a datetime
    assert [(str(at)[:16], status) for at, status in rows] == [(f"{wednesday} 09:00", "booked")]
    record("book_appointment", "fr", "sms", sms.turns, "moving a booking")
