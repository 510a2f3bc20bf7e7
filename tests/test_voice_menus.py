"""A phone line made for the ear (SPEC §6.3, issue 9): every menu a caller hears is one prompt
of at most 25 words, four options at most, "9: more", "star to repeat, zero for a person".

A prompt is everything one TwiML answer says before the caller presses or speaks (its text,
its options, "9: more", "Type the number, then press hash.", the keys). Words are what the
voice says: "Press 1: your application." is four; a reference read digit by digit is eight.

* The fast half renders every response with options or a keypad question, in every language
  and on every page, with each value an action fills in ({booking}, {reference}) counted as
  one word: the menu's own words, whatever the data.
* The stack half calls the real voice webhook (signed, the trained model, the actions) as a
  new caller in each language and walks the language menu, the main menu and its pages, help,
  a word it does not understand, leaving a form, the problem kinds, internet help and the
  status check (case number, read-back, date of birth, date read-back), counting what is said.
  Run with ``-s`` for the table.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk.events import ActionExecuted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import call_off
from actions.status import ActionAskCaseReference, ValidateStatusForm
from bot.devtools.clients import CallClient, CallTurn
from bot.domain import bookings, cases, offices, people, services
from bot.language import texts
from bot.language.i18n import pick
from bot.messaging.messages import BotMessage
from bot.messaging.voice.render import (
    INTROS,
    KEYPAD_INTROS,
    PAGE_SIZE,
    layout_for,
    on_page,
    page_count,
    render_choice,
    render_language_menu,
    render_read_back,
    render_voice,
)
from bot.messaging.voice.speech import speakable
from bot.messaging.voice.turn import reprompted
from bot.store.db import session_scope
from bot.store.models import Service
from tests.support.clients import channel_hooks
from tests.support.oracles import MAX_WORDS, heard, words
from tests.support.stack import Stack
from tests.support.stack_data import book_directly, new_case
from tests.support.trackers import make_tracker, run

DOMAIN = Path(__file__).resolve().parent.parent / "domain"
LANGUAGES = ("en", "es", "fr", "ar")
ACTION = "https://civicline.example/webhooks/voice/webhook?step=1&stage=main&silence=0"
# Responses never said on a call as a prompt: SMS and Telegram texts, and the voice's own parts.
NOT_A_CALL_PROMPT = re.compile(r"__voice$|^utter_voice_|^utter_(sms|tg)_")
DATUM = "Datum"  # one word for whatever an action fills in
_numbers = itertools.count(1)



def said(twiml: str) -> str:
    return " ".join(s.text or "" for s in ET.fromstring(twiml).iter("Say"))


@lru_cache(maxsize=1)
def prompts() -> tuple[tuple[str, str, dict], ...]:
    """Every response a call may say as a prompt: with options, or asking for keypad digits."""
    return tuple(_prompts())


def _prompts() -> Iterator[tuple[str, str, dict]]:
    for path in sorted(DOMAIN.glob("*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for name, variations in (document.get("responses") or {}).items():
            if NOT_A_CALL_PROMPT.search(name):
                continue
            for variation in variations:
                language = ((variation.get("condition") or [{}])[0]).get("value", "en")
                if variation.get("buttons") or (variation.get("metadata") or {}).get(
                        "expects") or name.startswith("utter_ask_"):
                    yield name, language, variation


def rendered(name: str, language: str, variation: dict, intro: str | None = None) -> list[str]:
    """What a call says for the response, page by page, each value filled with one word;
    with ``intro``, as said again after it ("Sorry, try again.": bot.messaging.voice.turn)."""
    values = {key: DATUM for key in re.findall(r"{(\w+)}", variation.get("text") or "")}
    buttons = tuple((b["title"], b["payload"]) for b in variation.get("buttons") or [])
    message = BotMessage(texts.text(name, language, **values), buttons,
                         expects=(variation.get("metadata") or {}).get("expects"),
                         response=name, values=values)
    before = [texts.text(intro, language)] if intro else []
    layout = layout_for([message], language)
    return [said(render_voice(reprompted([message], before), language, ACTION, intro=before,
                              page=page, layout=layout).twiml)
            for page in range(page_count(list(buttons), layout))]


# What a call may say before a prompt it repeats: a key or words it did not get, silence, and
# for keypad questions what was wrong with the digits.


PROMPTS = sorted((name, language) for name, language, _ in prompts())


def test_the_menus_are_all_found() -> None:
    names = {name for name, _ in PROMPTS}
    assert {"utter_greet", "utter_menu", "utter_help", "utter_rephrase", "utter_out_of_scope",
            "utter_ask_problem_kind", "utter_offer_bookings", "utter_ask_case_reference",
            "utter_ask_case_reference_pick", "utter_case_papers_unknown"} <= names
    assert len(PROMPTS) >= 4 * 30


@pytest.mark.parametrize(("name", "language"), PROMPTS)
def test_every_menu_prompt_is_at_most_25_words(name: str, language: str) -> None:
    variation = next(v for n, lang, v in prompts() if (n, lang) == (name, language))
    expects = (variation.get("metadata") or {}).get("expects")
    intros = (None, *INTROS, *([KEYPAD_INTROS[expects]] if expects in KEYPAD_INTROS else []))
    for intro, page, text in ((i, p, t) for i in intros
                              for p, t in enumerate(rendered(name, language, variation, i))):
        assert len(words(text)) <= MAX_WORDS, (intro, page, len(words(text)), text)
        assert len(re.findall(r"(?:^|\. )(?:\S+ )?[1-4] ?: ", text)) <= PAGE_SIZE, text
        assert text.endswith(texts.text("utter_voice_keys", language)), text
        assert not heard(text), (heard(text), text)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_calls_own_prompts_are_at_most_25_words(language: str) -> None:
    """The language menu (each option in its own language), the keypad read-backs (the eight
    digits counted), and the offer to go on with a form a call opens in."""
    own = {
        "language menu": render_language_menu(ACTION, welcome=True),
        "language menu, not understood": render_language_menu(
            ACTION, welcome=False, intro="utter_voice_sorry"),
        "language menu, silence": render_language_menu(
            ACTION, welcome=False, intro="utter_voice_hello"),
        "reference read-back": render_read_back("4 0 2 1 7 3 8 2", language, ACTION),
        "reference read-back, again": render_read_back(
            "4 0 2 1 7 3 8 2", language, ACTION,
            [texts.text("utter_voice_not_understood", language)]),
        "date read-back": render_read_back(
            {"en": "the 12th of March 1985", "es": "el 12 de marzo de 1985",
             "fr": "le 12 mars 1985", "ar": "12 مارس 1985"}[language], language, ACTION,
            response_name="utter_voice_date_read_back"),
        **{f"resume {form}": render_choice(
            [texts.text(f"utter_voice_resume_{form}", language),
             texts.text("utter_voice_resume", language)], language, ACTION)
           for form in ("report_problem_form", "book_appointment_form", "status_form", "form")},
    }
    counted = {name: len(words(said(twiml))) for name, twiml in own.items()}
    assert max(counted.values()) <= MAX_WORDS, counted


def test_the_main_menu_is_short_in_every_language() -> None:
    """The heart of it, quoted: four options, 9 for more, the keys, in 25 words or fewer."""
    expected = {
        "en": ("Hello, this is CivicLine. Press 1: your application. 2: services. 3: offices. "
               "4: a problem. 9: more. Star to repeat, zero for a person."),
        "es": ("Hola, le atiende CivicLine. Pulse 1: su solicitud. 2: servicios. 3: oficinas. "
               "4: un problema. 9: más. Asterisco para repetir, cero para una persona."),
        "fr": ("Bonjour, ici CivicLine. Tapez 1 : votre demande. 2 : services. 3 : bureaux. "
               "4 : un problème. 9 : la suite. Étoile pour répéter, zéro pour une personne."),
        "ar": ("مرحبا، معك CivicLine. اضغط 1: طلبك. 2: الخدمات. 3: المكاتب. 4: مشكلة. "
               "9: المزيد. النجمة للتكرار، والصفر للتحدث مع موظف."),
    }
    for language, text in expected.items():
        variation = next(v for n, lang, v in prompts() if (n, lang) == ("utter_greet", language))
        first, second = rendered("utter_greet", language, variation)
        assert first == text
        assert len(words(first)) <= MAX_WORDS and len(words(second)) <= MAX_WORDS


# --- lists made from data: a caller's cases, the bookings to call off ---------------------------

def said_pages(dispatched: list[dict], language: str) -> list[tuple[str | None, int, str]]:
    """What a call says for an action's messages, each page, as first said and again after
    each intro ((intro, page, words said))."""
    domain_meta = {name: (lang, v) for name, lang, v in prompts()}
    messages = []
    for item in dispatched:
        values = {k: v for k, v in item.items() if k not in {"response", "buttons", "text",
                                                              "image", "custom", "template",
                                                              "attachment", "elements",
                                                              "json_message"}}
        variation = domain_meta.get(item["response"], (None, {}))[1]
        messages.append(BotMessage(
            texts.text(item["response"], language, **values),
            tuple((b["title"], b["payload"]) for b in item.get("buttons") or []),
            expects=(variation.get("metadata") or {}).get("expects"),
            response=item["response"], values=values))
    layout = layout_for(messages, language)
    options = [o for m in messages for o in m.buttons]
    assert [o for p in range(page_count(options, layout))
            for o in on_page(options, p, layout)] == options  # every option on some page
    expects = next((m.expects for m in messages if m.expects), None)
    intros = (None, *INTROS, *([KEYPAD_INTROS[expects]] if expects in KEYPAD_INTROS else []))
    found = []
    for intro in intros:
        before = [texts.text(intro, language)] if intro else []
        for page in range(page_count(options, layout)):
            text = said(render_voice(reprompted(messages, before), language, ACTION,
                                     intro=before, page=page, layout=layout).twiml)
            found.append((intro, page, text))
    return found


def longest_named(session: Any, language: str, slugs: list[str], count: int) -> list[str]:
    """The ``count`` services of ``slugs`` whose names are longest in ``language``."""
    named = [(len(words(pick(services.get(session, slug).names, language))), slug)
             for slug in slugs]
    return [slug for _, slug in sorted(named, reverse=True)[:count]]


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_callers_open_cases_are_said_in_prompts_of_25_words(database: str, domain: dict,
                                                              language: str) -> None:
    """Three open cases of the longest services, "needs papers" (the longest status), from a
    proven phone: paged so that every prompt is at most 25 words, every case on a page."""
    number = f"+1555043{next(_numbers):04d}"
    with session_scope() as session:
        slugs = longest_named(session, language,
                              [s.slug for s in session.query(Service).all()], 3)
        for slug in slugs:
            cases.create_case(session, service_slug=slug, status="needs_information",
                              phone=number, language=language)
    text = {"en": "I don't have it", "es": "no la tengo", "fr": "je ne l'ai pas",
            "ar": "ليس عندي الرقم"}[language]
    tracker = make_tracker(domain, number, text, channel="voice", active_loop="status_form",
                           slots={"language": language, "requested_slot": "case_reference",
                                  "case_reference": text},
                           after=[SlotSet("requested_slot", "case_reference"),
                                  ActionExecuted("status_form"), SlotSet("case_reference", text)])
    listed, _ = run(ValidateStatusForm(), domain, tracker)
    assert [m["response"] for m in listed] == ["utter_reference_pick_case"]
    assert len(listed[0]["buttons"]) == 4  # three cases and a person
    asked = make_tracker(domain, number, text, channel="voice", active_loop="status_form",
                         slots={"language": language},
                         after=[{"event": "bot", "text": "", "metadata": {
                             "utter_action": "utter_reference_pick_case"}}])
    question, _ = run(ActionAskCaseReference(), domain, asked)
    pages = said_pages([*listed, *question], language)
    longest = max(pages, key=lambda found: len(words(found[2])))
    assert len(words(longest[2])) <= MAX_WORDS, longest
    assert all(text.endswith(texts.text("utter_voice_keys", language)) and not heard(text)
               for _, _, text in pages), pages


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_bookings_to_call_off_are_said_in_prompts_of_25_words(database: str,
                                                                  language: str) -> None:
    """Three bookings for the three longest-named services, at times said in full ("9:30 in
    the morning"): paged so that every prompt is at most 25 words, every booking on a page."""
    sender = f"+1555044{next(_numbers):04d}"
    day = dt.date.today() + dt.timedelta(days=30)
    with session_scope() as session:
        offered = {o.slug: [s.slug for s in o.services] for o in offices.all_offices(session)}
    office = max(offered, key=lambda slug: len(offered[slug]))
    with session_scope() as session:
        slugs = longest_named(session, language, offered[office], 3)
    for hour, slug in zip((9, 10, 11), slugs, strict=True):
        bookings.book(sender, slug, office, dt.datetime.combine(day, dt.time(hour, 30)),
                      language)
    dispatcher = CollectingDispatcher()
    with session_scope() as session:
        person = people.get_or_create(session, sender)
        call_off.offer_call_off(dispatcher, session, person, language)
    [listed] = dispatcher.messages
    assert listed["response"] == "utter_pick_booking_to_call_off" and len(listed["buttons"]) == 4
    pages = said_pages(dispatcher.messages, language)
    longest = max(pages, key=lambda found: len(words(found[2])))
    assert len(words(longest[2])) <= MAX_WORDS, longest
    assert any(texts.text("utter_voice_more", language, digit=9) in text
               for _, _, text in pages)  # paged: "9: more"


# --- through the real voice webhook ------------------------------------------------------------

@pytest.fixture(scope="module")
def measured() -> Iterator[list[tuple[str, str, int, str]]]:
    table: list[tuple[str, str, int, str]] = []
    yield table
    if table:
        print("\nwords per voice prompt (language, prompt, words):")
        for language, where, count, _text in table:
            print(f"  {language}  {count:2d}  {where}")


def heard_prompt(table: list, language: str, where: str, turn: CallTurn) -> CallTurn:
    """One TwiML answer, listening, at most 25 words, never a text-message word."""
    assert turn.status == 200 and turn.gather is not None, (where, turn.raw)
    count = len(words(turn.text))
    table.append((language, where, count, turn.text))
    assert count <= MAX_WORDS, (where, count, turn.text)
    assert not heard(turn.text), (where, heard(turn.text), turn.text)
    keys = "en" if where == "language menu" else language  # before a language is chosen
    assert turn.says[-1].text == texts.text("utter_voice_keys", keys), (where, turn.text)
    return turn


LANGUAGE_KEYS = {"en": "1", "es": "2", "fr": "3", "ar": "4"}
UNKNOWN = {"en": "purple elephant trumpet", "es": "elefante morado trompeta",
           "fr": "éléphant violet trompette", "ar": "قلم أزرق طويل"}
HELP = {"en": "help", "es": "ayuda", "fr": "aide", "ar": "مساعدة"}
STOP = {"en": "stop", "es": "terminar", "fr": "arrêter", "ar": "توقف"}


@pytest.mark.stack
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_prompt_a_caller_meets_from_the_main_menu_is_at_most_25_words(
        stack: Stack, language: str, measured: list) -> None:
    reference = new_case(stack, f"+1555041{next(_numbers):04d}", status="in_review",
                         date_of_birth="1975-06-15")
    call = CallClient(channel_hooks(stack), f"+1555042{next(_numbers):04d}")
    prompt = lambda where, turn: heard_prompt(measured, language, where, turn)  # noqa: E731

    prompt("language menu", call.start())
    main = prompt("main menu", call.press(LANGUAGE_KEYS[language]))
    assert main.says[0].text == texts.text("utter_greet__voice", language)
    assert texts.text("utter_voice_more", language, digit=9) in main.text
    prompt("main menu, page 2", call.press("9"))
    prompt("main menu, page 1 again", call.press("9"))
    prompt("main menu, repeated", call.press("*"))
    prompt("main menu, a wrong key", call.press("7"))
    prompt("help", call.say(HELP[language]))
    prompt("help, page 2", call.press("9"))
    prompt("not understood", call.say(UNKNOWN[language]))

    prompt("problem kinds", call.press("4"))
    prompt("problem kinds, page 2", call.press("9"))
    prompt("leaving the form: the menu", call.say(STOP[language]))

    call.press("9")
    prompt("internet help topics", call.press("2"))
    prompt("the menu again", call.say(STOP[language]))

    prompt("case number question", call.press("1"))
    prompt("case number read back", call.press(reference))
    prompt("date of birth question", call.press("1"))
    prompt("date read back", call.press("15061975"))


NO_NUMBER = {"en": "I don't have it", "es": "no la tengo", "fr": "je ne l'ai pas",
             "ar": "ليس عندي الرقم"}
CALL_OFF = {"en": "I need to cancel my appointment", "es": "quiero anular la cita",
            "fr": "je veux annuler le rendez-vous", "ar": "ألغِ الموعد من فضلك"}


def every_page(table: list, language: str, where: str, first: CallTurn,
               call: CallClient) -> list[CallTurn]:
    """A list prompt and each page "9" leads to, until it comes back to the first."""
    prefix = texts.text("utter_voice_option_first", language, digit=1, option="\0")
    prefix = prefix.split("\0")[0]

    def options_read(turn: CallTurn) -> list[str]:
        said = [s.text or "" for s in turn.says]
        return said[next(i for i, text in enumerate(said) if text.startswith(prefix)):]

    pages = [heard_prompt(table, language, where, first)]
    while len(pages) < 6:
        page = heard_prompt(table, language, f"{where}, page {len(pages) + 1}", call.press("9"))
        if options_read(page) == options_read(pages[0]):  # back to the first page
            break
        pages.append(page)
    assert len(pages) < 6, [p.text for p in pages]
    return pages


@pytest.mark.stack
@pytest.mark.parametrize("language", LANGUAGES)
def test_a_callers_cases_and_bookings_are_said_in_prompts_of_25_words(
        stack: Stack, language: str, measured: list) -> None:
    """The lists made from a caller's own data, through the real webhook: their open cases
    when they do not have the number, and their bookings when they call one off. Each page at
    most 25 words, the keys on each, every item on some page."""
    number = f"+1555045{next(_numbers):04d}"
    for service in ("housing_support", "id_cards"):
        new_case(stack, number, status="needs_information", language=language,
                 service=service)
    day = dt.date.today() + dt.timedelta(days=40 + 2 * LANGUAGES.index(language))
    for at in (dt.datetime.combine(day, dt.time(9, 30)),
               dt.datetime.combine(day + dt.timedelta(days=1), dt.time(11, 0))):
        book_directly(stack, number, at, language)
    call = CallClient(channel_hooks(stack), number)
    call.start()
    call.press(LANGUAGE_KEYS[language])
    heard_prompt(measured, language, "case number question", call.press("1"))
    listed = call.say(NO_NUMBER[language])
    assert listed.gather is not None and "stage=reference" in listed.gather["action"], listed.raw
    cases = every_page(measured, language, "your open cases", listed, call)
    assert len(cases) > 1, [c.text for c in cases]  # three cases and a person: paged
    assert texts.text("utter_voice_more", language, digit=9) in cases[0].text
    heard_prompt(measured, language, "leaving the status check", call.say(STOP[language]))
    offer = call.say(CALL_OFF[language])
    bookings = every_page(measured, language, "bookings to call off", offer, call)
    assert texts.text("utter_pick_booking_to_call_off__voice", language) in bookings[0].text
    assert len(bookings) > 1, [b.text for b in bookings]


# --- days and times in full, in the booking prompts too ---------------------------------------

@pytest.mark.parametrize(("language", "written", "spoken"), [
    ("en", "Your appointment is on Wednesday 16 December at 11:30.",
     "Your appointment is on Wednesday 16 December at 11:30 in the morning."),
    ("es", "Su cita es el miércoles 16 de diciembre a las 13:00.",
     "Su cita es el miércoles 16 de diciembre a la 1 de la tarde."),  # one article, not "las la"
    ("es", "Revise: el miércoles 16 de diciembre a las 10:00.",
     "Revise: el miércoles 16 de diciembre a las 10 de la mañana."),
    ("fr", "Votre rendez-vous est le mercredi 16 décembre à 14:00.",
     "Votre rendez-vous est le mercredi 16 décembre à 14 heures."),  # not "le le mercredi,"
    ("ar", "موعدك يوم الأربعاء 16 ديسمبر الساعة 14:00.",
     "موعدك يوم الأربعاء 16 ديسمبر الساعة 2 مساء."),
    ("en", "Wednesday 16 December, 09:30 (ID cards)",
     "Wednesday 16 December, 9:30 in the morning (ID cards)"),  # a booking to call off
])
def test_a_booking_is_said_with_its_day_and_time_in_full(language: str, written: str,
                                                         spoken: str) -> None:
    assert speakable(written, language) == spoken
