"""What an incoming SMS decides before Rasa sees it (bot/messaging/sms/turn.py ``begin``), one
table: Twilio's real form fields, read as the webhook reads them (channels/sms.py), a real
SQLite database, no model. Keywords first (a bare STOP is a carrier opt-out, never a form
cancel), then the opt-out's silence, media, MENU, a numbered choice, and the text (SPEC §6.1).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session

from bot.domain import people
from bot.domain.forms import PHOTO_PAYLOAD, PHOTO_SLOT, REPORT_FORM
from bot.messaging import inbound
from bot.messaging.media import NOT_WAITING, Waiting
from bot.messaging.messages import BotMessage
from bot.messaging.sms import keywords
from bot.messaging.sms import turn as sms
from bot.store.models import Person
from channels.common import field
from channels.sms import media_of
from tests.support.unique import phone
from tests.support.wire import form_params, twilio_media_url, twilio_sms_form

MENU = (("My application", "/check_application_status"), ("Talk to a person", "/request_human"))
PHOTO_QUESTION = Waiting(REPORT_FORM, PHOTO_SLOT, BotMessage(
    "Do you have a photo? Send it now, or reply NO.", response="utter_ask_problem_photo"))
PLACE_QUESTION = Waiting(REPORT_FORM, "problem_place", BotMessage(
    "Where is it? A street and number, or a place near it.",
    response="utter_ask_problem_place"))

STOPPED = {
    "en": "You will get no more texts from CivicLine. Reply START to get them again.",
    "es": "Ya no le enviaremos mensajes de CivicLine. Responda START para recibirlos de nuevo.",
    "ar": "لن تصلك رسائل من CivicLine بعد الآن. أرسل START لتلقيها مرة أخرى.",
}
WELCOME_BACK = "Welcome back. You will get texts from CivicLine again. Reply STOP to stop them."
WELCOME_BACK_IN = {
    "es": "Bienvenido de nuevo. Le enviaremos mensajes de CivicLine otra vez. Responda STOP para "
          "no recibirlos.",
    "fr": "Bon retour. Vous recevrez de nouveau les SMS de CivicLine. Répondez STOP pour ne plus "
          "les recevoir.",
    "ar": "مرحبا بعودتك. ستصلك رسائل CivicLine مرة أخرى. أرسل STOP لإيقافها.",
}
HELP = {
    "en": "CivicLine, the city help line. To talk to a person, call +15550109999. Reply MENU "
          "for the menu. Reply STOP to stop texts.",
    "fr": "CivicLine, l'aide de la ville. Pour parler à une personne, appelez le +15550109999. "
          "Répondez MENU pour le menu. Répondez STOP pour ne plus recevoir de SMS.",
}
TEXT_ONLY = "Sorry, I can only read text. Please write your message."
NO_PHOTO_HERE = {
    "en": "Thank you. I can only use a photo when I ask for one, in a problem report. Please "
          "tell me in words.",
    "es": "Gracias. Solo puedo usar una foto cuando la pido, en un aviso de problema. Por favor, "
          "escríbalo con palabras.",
}


@dataclass(frozen=True)
class Given:
    """One SMS and who sends it."""

    body: str
    opt_out_type: str | None = None  # Twilio's Advanced Opt-Out field
    photos: int = 0  # MMS attachments
    language: str | None = "en"
    opted_out: bool = False
    offered: tuple[tuple[str, str], ...] = ()  # the numbered options of the last reply
    waiting: Waiting = NOT_WAITING  # what the conversation's form waits for


@dataclass(frozen=True)
class Then:
    """What the person reads now, what Rasa is asked, and the opt-out afterwards."""

    replies: tuple[str, ...] = ()
    ask: str | None = None
    opted_out: bool = False
    with_photos: bool = False  # the attachments go to Rasa with the message
    repeats_question: bool = False  # the form's pending question is asked again


CASES = {
    # STOP and its carrier and local synonyms, in the person's language
    "STOP": (Given("STOP"), Then((STOPPED["en"],), opted_out=True)),
    "Stop! (edge punctuation)": (Given("Stop!"), Then((STOPPED["en"],), opted_out=True)),
    "unsubscribe": (Given("unsubscribe"), Then((STOPPED["en"],), opted_out=True)),
    "CANCEL is a carrier STOP": (Given("CANCEL"), Then((STOPPED["en"],), opted_out=True)),
    "baja (Spanish)": (Given("baja", language="es"), Then((STOPPED["es"],), opted_out=True)),
    "توقف (Arabic)": (Given("توقف", language="ar"), Then((STOPPED["ar"],), opted_out=True)),
    "a new number's STOP, in English": (Given("stop", language=None),
                                        Then((STOPPED["en"],), opted_out=True)),
    "STOP with a photo: the keyword first": (Given("STOP", photos=1),
                                             Then((STOPPED["en"],), opted_out=True)),
    "Twilio answered the STOP": (Given("STOP", opt_out_type="STOP"), Then(opted_out=True)),
    "Twilio's OptOutType decides": (Given("please no more", opt_out_type="STOP"),
                                    Then(opted_out=True)),
    "STOP again: no second confirmation": (Given("stop", opted_out=True), Then(opted_out=True)),
    "stop inside a sentence is text": (Given("stop sending the menu"),
                                       Then(ask="stop sending the menu")),
    # silence until START
    "anything while opted out": (Given("hello?", opted_out=True), Then(opted_out=True)),
    # HELP is answered even while opted out, as carriers require (SPEC §6.1)
    "HELP while opted out": (Given("HELP", opted_out=True), Then((HELP["en"],), opted_out=True)),
    "a photo while opted out": (Given("", photos=1, opted_out=True, waiting=PHOTO_QUESTION),
                                Then(opted_out=True)),
    "START": (Given("START", opted_out=True), Then((WELCOME_BACK,))),
    "yes after STOP opts back in": (Given("yes", opted_out=True), Then((WELCOME_BACK,))),
    "Twilio answered the START": (Given("START", opt_out_type="START", opted_out=True),
                                  Then()),
    "yes otherwise answers a question": (Given("Yes"), Then(ask="Yes")),
    "YES! otherwise too": (Given("YES!"), Then(ask="YES!")),
    "sí answers a question": (Given("sí", language="es"), Then(ask="sí")),
    "oui answers a question": (Given("Oui", language="fr"), Then(ask="Oui")),
    "نعم answers a question": (Given("نعم", language="ar"), Then(ask="نعم")),
    "Twilio's START for a yes that answers": (Given("YES", opt_out_type="START"),
                                              Then(ask="YES")),
    "sí after STOP opts back in": (Given("sí", language="es", opted_out=True),
                                   Then((WELCOME_BACK_IN["es"],))),
    "oui after STOP opts back in": (Given("oui", language="fr", opted_out=True),
                                    Then((WELCOME_BACK_IN["fr"],))),
    "نعم after STOP opts back in": (Given("نعم", language="ar", opted_out=True),
                                    Then((WELCOME_BACK_IN["ar"],))),
    "UNSTOP when not opted out": (Given("unstop"), Then((WELCOME_BACK,))),
    # HELP
    "HELP": (Given("HELP"), Then((HELP["en"],))),
    "info (French)": (Given("info", language="fr"), Then((HELP["fr"],))),
    "Twilio answered the HELP": (Given("help", opt_out_type="HELP"), Then()),
    # MENU, numbered options, text
    "MENU leaves any form": (Given("MENU"), Then(ask=inbound.MENU_PAYLOAD)),
    "menú, accented": (Given("menú", language="es"), Then(ask=inbound.MENU_PAYLOAD)),
    "2 picks the second option": (Given("2", offered=MENU), Then(ask="/request_human")),
    "٢ (Arabic-Indic) too": (Given("٢", language="ar", offered=MENU),
                             Then(ask="/request_human")),
    "2. with a dot": (Given(" 2. ", offered=MENU), Then(ask="/request_human")),
    "7 is no option: text": (Given("7", offered=MENU), Then(ask="7")),
    "2 without options: text": (Given("2"), Then(ask="2")),
    "text": (Given("Is the bus running today?"), Then(ask="Is the bus running today?")),
    "a typed intent is only text": (Given('/request_human{"urgency": "urgent"}'),
                                    Then(ask='request_human{"urgency": "urgent"}')),
    "nothing written": (Given(""), Then((TEXT_ONLY,))),
    "only spaces": (Given("   "), Then((TEXT_ONLY,))),
    # media (MMS)
    "a photo outside a form": (Given("", photos=1), Then((NO_PHOTO_HERE["en"],))),
    "a photo with words outside a form": (Given("the light on Elm St", photos=1),
                                          Then((NO_PHOTO_HERE["en"],),
                                               ask="the light on Elm St")),
    "a photo at the photo question": (Given("", photos=1, waiting=PHOTO_QUESTION),
                                      Then(ask=PHOTO_PAYLOAD, with_photos=True)),
    "two photos and a caption there": (Given("aquí está", photos=2, language="es",
                                             waiting=PHOTO_QUESTION),
                                       Then(ask=PHOTO_PAYLOAD, with_photos=True)),
    "a photo at another question": (Given("", photos=1, waiting=PLACE_QUESTION),
                                    Then((NO_PHOTO_HERE["en"],), repeats_question=True)),
    "a photo there, Spanish": (Given("", photos=1, language="es", waiting=PLACE_QUESTION),
                               Then((NO_PHOTO_HERE["es"],), repeats_question=True)),
}


def person_texting(session: Session, given: Given) -> Person:
    """The person behind a new number, as the given says they are."""
    person = people.get_or_create(session, phone())
    person.language = given.language
    keywords.set_sms_opt_out(person, given.opted_out)
    inbound.remember(session, person, inbound.SMS, given.offered)
    session.flush()
    return person


def incoming(form: dict[str, str]) -> sms.IncomingSms:
    """The SMS as channels/sms.py reads Twilio's form."""
    params = form_params(form)
    return sms.IncomingSms(field(params, "Body"), field(params, "OptOutType") or None,
                           media_of(params))


@pytest.mark.parametrize(("given", "then"), CASES.values(), ids=CASES.keys())
def test_what_an_sms_decides_before_rasa(session: Session, given: Given, then: Then) -> None:
    person = person_texting(session, given)
    photos = [("image/jpeg", twilio_media_url()) for _ in range(given.photos)]
    form = twilio_sms_form(person.phone, given.body, media=photos,
                           opt_out_type=given.opt_out_type)
    step = sms.begin(session, person, incoming(form), given.waiting)
    assert tuple(step.bodies) == then.replies
    assert step.ask == then.ask
    assert step.media == ([{"url": url, "content_type": kind} for kind, url in photos]
                          if then.with_photos else [])
    assert step.repeat == ([given.waiting.question] if then.repeats_question else [])
    assert bool(person.sms_opted_out) is then.opted_out
    assert (person.sms_opted_out_at is not None) is then.opted_out


def test_the_options_a_reply_numbers_are_what_the_next_number_picks(session: Session) -> None:
    person = person_texting(session, Given("hi"))
    bodies = sms.answer(session, person, [BotMessage("How can I help?", MENU)])
    assert bodies == ["How can I help?\n1. My application\n2. Talk to a person"]
    picked = sms.begin(session, person, incoming(twilio_sms_form(person.phone, "2")))
    assert picked.ask == "/request_human"
    sms.answer(session, person, [BotMessage("Thank you.")])  # no options: "2" is text again
    assert sms.begin(session, person, incoming(twilio_sms_form(person.phone, "2"))).ask == "2"


def test_an_opt_out_holds_until_start_across_messages(session: Session) -> None:
    person = person_texting(session, Given("hi"))
    said = [sms.begin(session, person, incoming(twilio_sms_form(person.phone, body))).bodies
            for body in ("STOP", "hello", "STOP", "HELP", "START", "hello")]
    assert said == [[STOPPED["en"]], [], [], [HELP["en"]], [WELCOME_BACK], []]
    assert not person.sms_opted_out and person.sms_opted_out_at is None
