"""Language when it is uncertain (issue 13), end to end: signed SMS and Telegram updates
against the trained model, the action server and the database.

Someone new whose first message is weak evidence of a language (a word or two, Moroccan
Arabic in Latin letters, a mix) gets the numbered menu in the four languages, or an answer in
the language they wrote, never one in another language. Their pick is remembered, and what
they first asked is then answered in it.

The fast half (the decision alone): tests/test_language.py.
"""

from __future__ import annotations

import json

import pytest

from tests.support.clients import Sms, Telegram
from tests.support.oracles import in_language
from tests.support.stack import Stack
from tests.support.stack_data import query
from tests.support.unique import phone
from tests.support.weak_messages import WEAK_FIRST_MESSAGES

pytestmark = pytest.mark.stack

# What the menu looks like on SMS: a line naming the choice in each language, then the options
# numbered, each in its own language.
MENU_QUESTION = "Language? ¿Idioma? Langue ? اللغة؟"
SMS_OPTIONS = ("1. English", "2. Español", "3. Français", "4. العربية")
TELEGRAM_TITLES = ["English", "Español", "Français", "العربية"]
# Darija in Latin letters asks (Arabic or French, their pick), always.
ARABIZI = WEAK_FIRST_MESSAGES["ar"][:30]
# The queue notice: in English while someone's language is unknown, in Arabic for Darija.
# A request for a person gets the queue notice in staffed hours, the after-hours one outside
# them (domain/handoff.yml): either says the person was put through.
PUT_THROUGH = {"en": ("I am getting a person for you", "Our staff are away now"),
               "ar": ("سأحولك إلى موظف", "موظفونا غير متاحين الآن")}


def put_through_in(reply: str, language: str) -> bool:
    return any(notice in reply for notice in PUT_THROUGH[language])


def sms_language(stack: Stack, number: str) -> str | None:
    [(language,)] = query(stack, "SELECT language FROM people WHERE phone = :p", p=number)
    return language


def telegram_language(stack: Stack, user_id: int) -> str | None:
    [(language,)] = query(stack, "SELECT language FROM people WHERE telegram_user_id = :u",
                          u=user_id)
    return language


def reads_as(reply: str, code: str) -> bool:
    """The reply reads as ``code`` (whole, or its first line when a list of places follows)."""
    return in_language(reply, code) or in_language(reply.splitlines()[0], code)


def is_sms_menu(reply: str) -> bool:
    return reply.startswith(MENU_QUESTION) and all(option in reply for option in SMS_OPTIONS)


@pytest.mark.parametrize("code", ["en", "es", "fr", "ar"])
def test_weak_first_messages_get_the_menu_or_their_own_language(stack: Stack, code: str) -> None:
    """Every other one by SMS, the rest on Telegram (an app without a supported language)."""
    wrong: dict[str, str] = {}
    menus = put_through = 0
    for index, text in enumerate(WEAK_FIRST_MESSAGES[code]):
        if index % 2 == 0:
            number = phone()
            reply = Sms(stack, number)(text)
            menu, language = is_sms_menu(reply), sms_language(stack, number)
        else:
            person = Telegram(stack)
            reply = person(text)
            menu = reply.startswith(MENU_QUESTION) and [
                title for title, _ in person.buttons] == TELEGRAM_TITLES
            language = telegram_language(stack, person.client.user_id)
        if put_through_in(reply, "en") or put_through_in(reply, "ar"):
            # Asking for a person (or distress) is never held up by the menu: the queue notice,
            # in Arabic for Darija in Latin letters, else in the default language while theirs
            # is unknown.
            put_through += 1
            if text in ARABIZI and (not put_through_in(reply, "ar") or language != "ar"):
                wrong[text] = f"Darija put through in {language}: {reply[:60]!r}"
        elif menu:
            menus += 1
            if language is not None:  # asked, so nothing was decided for them
                wrong[text] = f"menu, but the language was set to {language}"
        elif language != code or not reads_as(reply, code):
            wrong[text] = f"answered in {language}: {reply[:60]!r}"
        elif text in ARABIZI:
            wrong[text] = "Darija in Latin letters answered without asking"
    answered = len(WEAK_FIRST_MESSAGES[code]) - menus - put_through - len(wrong)
    print(f"\n{code}: {len(WEAK_FIRST_MESSAGES[code])} weak first messages, {menus} menus, "
          f"{put_through} put through to a person, {answered} answered in {code}")
    assert wrong == {}


CHOICES = [
    # (first message, option picked, the language, a word of the answer to the first message)
    ("salam bghit nchouf dossier dyali", "4", "ar", "ما رقم ملفك"),
    ("salam bghit nchouf dossier dyali", "3", "fr", "numéro de dossier"),
    ("bonjour 3afak un rdv", "3", "fr", "rendez-vous"),
    ("necesito una appointment", "2", "es", "cita"),
    ("salam khoya", "4", "ar", "CivicLine"),
]


@pytest.mark.parametrize(("first", "pick", "code", "answer"), CHOICES,
                         ids=[f"{c[2]}-{c[0][:12]}" for c in CHOICES])
def test_the_pick_answers_the_first_message_in_that_language(
        stack: Stack, first: str, pick: str, code: str, answer: str) -> None:
    number = phone()
    sms = Sms(stack, number)
    assert is_sms_menu(sms(first))
    reply = sms(pick)
    assert answer in reply and in_language(reply, code), reply
    assert sms_language(stack, number) == code
    # Remembered: more Darija, a word of English, and the same person calling later.
    assert not is_sms_menu(sms("wach kayn chi wa7ed"))
    assert sms_language(stack, number) == code
    assert in_language(sms("help"), code)


@pytest.mark.parametrize("text", ["bghit nhder m3a chi wa7ed", "3tini bnadem 3afak",
                                  "bghit nhder m3a bnadem"])
def test_darija_asking_for_a_person_is_put_through_in_arabic(stack: Stack, text: str) -> None:
    """Someone new asking for a person in Darija (Latin letters) is not held up by the menu,
    and the queue notice is in Arabic, the language they wrote, not the default English."""
    number = phone()
    reply = Sms(stack, number)(text)
    assert put_through_in(reply, "ar") and in_language(reply, "ar"), reply
    assert not put_through_in(reply, "en")
    assert sms_language(stack, number) == "ar"


def test_telegram_buttons_pick_the_language(stack: Stack) -> None:
    person = Telegram(stack)
    assert person("salam").startswith(MENU_QUESTION)
    reply = person.press("Français")
    assert "CivicLine" in reply and in_language(reply, "fr"), reply
    assert telegram_language(stack, person.client.user_id) == "fr"
    reply = person("bghit rendez-vous")
    assert not reply.startswith(MENU_QUESTION) and in_language(reply, "fr"), reply


def test_a_clear_first_message_is_answered_without_a_menu(stack: Stack) -> None:
    number = phone()
    reply = Sms(stack, number)("hola, quiero saber el estado de mi solicitud")
    assert not is_sms_menu(reply) and "número de caso" in reply
    assert sms_language(stack, number) == "es"


def test_the_first_message_is_in_the_transcript_once_after_the_pick(stack: Stack) -> None:
    """The first message, answered again after the pick, is one message of the person's: the
    staff transcript (GET /api/handoffs/{id}, what the console shows) has it once, then the
    pick, then what they wrote next."""
    number = phone()
    sms = Sms(stack, number)
    first = "salam bghit nchouf dossier dyali"
    assert is_sms_menu(sms(first))
    assert "numéro de dossier" in sms("3")
    sms("je veux parler à une personne")
    [(handoff,)] = query(stack, "SELECT id FROM handoffs WHERE sender_id = :s", s=number)
    status, found = stack.api("GET", f"/api/handoffs/{handoff}")
    assert status == 200, found
    said = [line["text"] for line in found["transcript"] if line["kind"] == "citizen"]
    assert said[0] == first and said.count(first) == 1, said
    assert len(said) == 3 and said[-1] == "je veux parler à une personne", said  # the pick
    # The tracker keeps the replay (the policies answered it), marked as one.
    rows = query(stack, "SELECT data FROM events WHERE sender_id = :s AND type_name = 'user'",
                 s=number)
    assert [json.loads(data)["text"] for (data,) in rows].count(first) == 2
