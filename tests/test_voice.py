"""The call's own logic, without a stack: keypad dates, dates and hours said in full, options
four a page, and every response that says "send", "write" or "MENU" having a voice twin
(SPEC §6.3). The calls themselves are in tests/test_channel_voice.py."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from bot.language import texts
from bot.messaging.messages import BotMessage
from bot.messaging.voice import turn as voice
from bot.messaging.voice.render import (
    PAGE_SIZE,
    next_page,
    on_page,
    pick_on_page,
    render_language_menu,
    render_voice,
)
from bot.messaging.voice.speech import VOICE_TWIN, spoken_date, spoken_hours, voice_text
from tests.support.oracles import heard

ACTION = "https://civicline.example/webhooks/voice/webhook?step=1&stage=main&silence=0"
DOMAIN = Path(__file__).resolve().parent.parent / "domain"
LANGUAGES = ("en", "es", "fr", "ar")
TODAY = dt.date(2026, 12, 2)

# Responses never said on a call: SMS keywords, Telegram, text-only, the console's "back to the
# assistant" (sent as a message), the chat goodbye (a call says its own, utter_voice_goodbye).
NEVER_ON_A_CALL = re.compile(r"^utter_(sms|tg)_|^utter_(text_only|media_declined|goodbye"
                             r"|handoff_released|handoff_resolved)$")


def _responses() -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for path in sorted(DOMAIN.glob("*.yml")):
        found.update((yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("responses")
                     or {})
    return found


# --- keypad dates ----------------------------------------------------------------------------

@pytest.mark.parametrize(("digits", "date"), [
    ("12031985", dt.date(1985, 3, 12)),  # DDMMYYYY, the one documented order
    ("03121985", dt.date(1985, 12, 3)),  # never read month first: the read-back tells
    ("31121980", dt.date(1980, 12, 31)),
    ("29022000", dt.date(2000, 2, 29)),
    ("06151975", None),  # month first (15 is no month): refused, not swapped
    ("31022000", None),  # no such day
    ("29021999", None),
    ("01011850", None),  # before 1900
    ("03122026", None),  # after today
    ("123", None), ("", None), ("1203198", None), ("120319855", None), ("120385", None),
    ("12*31985", None),
])
def test_keyed_dates_are_ddmmyyyy_and_real(digits: str, date: dt.date | None) -> None:
    assert voice.keyed_date(digits, today=TODAY) == date


@pytest.mark.parametrize(("date", "language", "spoken"), [
    (dt.date(1985, 3, 12), "en", "the 12th of March 1985"),
    (dt.date(1985, 3, 12), "es", "el 12 de marzo de 1985"),
    (dt.date(1985, 3, 12), "fr", "le 12 mars 1985"),
    (dt.date(1985, 3, 12), "ar", "12 مارس 1985"),
    (dt.date(1990, 8, 1), "en", "the 1st of August 1990"),
    (dt.date(1990, 8, 2), "en", "the 2nd of August 1990"),
    (dt.date(1990, 8, 3), "en", "the 3rd of August 1990"),
    (dt.date(1990, 8, 11), "en", "the 11th of August 1990"),
    (dt.date(1990, 8, 22), "en", "the 22nd of August 1990"),
    (dt.date(1990, 8, 1), "fr", "le 1er août 1990"),
])
def test_dates_are_read_back_in_words(date: dt.date, language: str, spoken: str) -> None:
    assert spoken_date(date, language) == spoken


# --- days and times --------------------------------------------------------------------------

@pytest.mark.parametrize(("language", "written", "spoken"), [
    ("en", "Mon-Thu 09:00-17:00",
     "Monday to Thursday, 9 in the morning to 5 in the afternoon"),
    ("en", "Mon–Fri 08:30–16:30, Sat 09:00–12:00",
     "Monday to Friday, 8:30 in the morning to 4:30 in the afternoon, "
     "Saturday, 9 in the morning to 12 noon"),
    ("en", "Open today 10:00-19:00.", "Open today 10 in the morning to 7 in the evening."),
    ("es", "lun-jue 09:00-17:00",
     "de lunes a jueves, de las 9 de la mañana a las 5 de la tarde"),
    ("es", "sáb 13:00-14:00", "sábado, de la 1 de la tarde a las 2 de la tarde"),
    ("fr", "lun-jeu 09:00-17:30", "du lundi au jeudi, de 9 heures à 17 heures 30"),
    ("ar", "الاثنين-الخميس 09:00-17:00", "من الاثنين إلى الخميس، من 9 صباحا إلى 5 مساء"),
    ("en", "Your case 4021 7382 on 31/12/1980", "Your case 4021 7382 on 31/12/1980"),
])
def test_days_and_times_are_said_in_full(language: str, written: str, spoken: str) -> None:
    assert spoken_hours(written, language) == spoken


# --- options, four a page --------------------------------------------------------------------

# One word each: four a page fit in 25 words with any intro (longer ones: fewer a page).
SEVEN = [(name, f"/pick_{n}") for n, name in enumerate(
    ("Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf"), 1)]


@pytest.mark.parametrize(("options", "page", "digits", "payload"), [
    (SEVEN, 0, "1", "/pick_1"), (SEVEN, 0, "4", "/pick_4"), (SEVEN, 0, "5", None),
    (SEVEN, 1, "1", "/pick_5"), (SEVEN, 1, "3", "/pick_7"), (SEVEN, 1, "4", None),
    (SEVEN, 0, "9", None), (SEVEN, 0, "0", None), (SEVEN, 0, "*", None), (SEVEN, 0, "12", None),
    (SEVEN[:2], 0, "2", "/pick_2"), (SEVEN[:2], 0, "3", None), ([], 0, "1", None),
])
def test_a_key_picks_an_option_of_the_page_read(options: list, page: int, digits: str,
                                                payload: str | None) -> None:
    assert pick_on_page(digits, options, page) == payload


@pytest.mark.parametrize(("count", "page", "after_nine"), [
    (7, 0, 1), (7, 1, 0), (8, 1, 0), (9, 1, 2), (9, 2, 0), (4, 0, 0), (3, 0, 0),
])
def test_nine_leads_to_the_next_page_and_from_the_last_back_to_the_first(
        count: int, page: int, after_nine: int) -> None:
    assert next_page(SEVEN[:count] + SEVEN[:max(0, count - 7)], page) == after_nine


def _says(twiml: str) -> list[ET.Element]:
    gather = ET.fromstring(twiml).find("Gather")
    assert gather is not None
    return gather.findall("Say")


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_long_menu_reads_four_options_then_nine_for_more(language: str) -> None:
    message = BotMessage("?", tuple(SEVEN))
    first = [s.text for s in _says(render_voice([message], language, ACTION).twiml)]
    second = [s.text for s in _says(render_voice([message], language, ACTION, page=1).twiml)]
    option = texts.text("utter_voice_option_first", language, digit=1, option="Alpha")
    assert first[0] == "?" and first[1] == option
    assert first[2] == texts.text("utter_voice_option", language, digit=2, option="Bravo")
    assert len(first) == 1 + PAGE_SIZE + 2  # text, 4 options, "9 for more", star / zero
    assert first[-2] == texts.text("utter_voice_more", language, digit=9)
    assert first[-1] == texts.text("utter_voice_keys", language)
    assert second[0] == texts.text("utter_voice_option_first", language, digit=1,
                                   option="Echo")
    assert len(second) == 3 + 2  # the last 3 options (not the text again), back, star / zero
    assert second[-2] == texts.text("utter_voice_back_to_start", language, digit=9)
    assert on_page(SEVEN, 1) == SEVEN[4:]


def test_an_option_is_read_without_its_question_marks() -> None:
    message = BotMessage("¿Qué necesita?", (("¿Funciona un servicio?", "/check_something"),))
    said = [s.text for s in _says(render_voice([message], "es", ACTION).twiml)]
    assert said[1] == "Pulse 1: Funciona un servicio."


@pytest.mark.parametrize(("language", "said"), [
    ("en", ["Press 1: services.", "2: offices.", "3: Riverton City Hall."]),
    ("es", ["Pulse 1: servicios.", "2: oficinas.", "3: Riverton City Hall."]),
    ("fr", ["Tapez 1 : services.", "2 : bureaux.", "3 : Riverton City Hall."]),
    ("ar", ["اضغط 1: الخدمات.", "2: المكاتب.", "3: Riverton City Hall."]),
])
def test_an_option_is_said_by_its_voice_title_when_it_has_one(language: str,
                                                              said: list[str]) -> None:
    """The button "Is a service working?" is "services" on a call, in every menu; a title made
    from data (an office) is read as written."""
    message = BotMessage("?", (("Is a service working?", "/check_service_status"),
                               ("Offices and hours", "/find_office"),
                               ("Riverton City Hall", '/find_office{"office": "city_hall"}')))
    assert [s.text for s in _says(render_voice([message], language, ACTION).twiml)][1:4] == said


# --- voice twins -----------------------------------------------------------------------------

def test_every_response_said_on_a_call_with_text_message_words_has_a_voice_twin() -> None:
    responses = _responses()
    missing = []
    for name, variations in responses.items():
        if name.endswith(VOICE_TWIN) or NEVER_ON_A_CALL.search(name):
            continue
        words = [w for v in variations for w in heard(v.get("text") or "")]
        if words and name + VOICE_TWIN not in responses:
            missing.append(f"{name}: {words}")
    assert not missing, missing


@pytest.mark.parametrize("language", LANGUAGES)
def test_voice_texts_never_say_text_message_words(language: str) -> None:
    said = {name: texts.text(name, language) for name in _responses()
            if name.endswith(VOICE_TWIN) or name.startswith("utter_voice_")}
    assert len(said) > 40
    assert {name: heard(text) for name, text in said.items() if heard(text)} == {}


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_call_says_the_twin_with_the_actions_values(language: str) -> None:
    queued = BotMessage("Write here and they will read it.", response="utter_handoff_queued",
                        values={"position": "2", "minutes": "5"})
    said = voice_text(queued, language)
    assert said == texts.text("utter_handoff_queued__voice", language, position=2, minutes=5)
    assert "2" in said and "5" in said and not heard(said)
    photo = BotMessage("Send it now. If not, reply NO.", response="utter_ask_problem_photo")
    assert voice_text(photo, language) == texts.text("utter_ask_problem_photo__voice", language)


def test_without_a_twin_or_its_values_the_text_is_said_as_written() -> None:
    assert voice_text(BotMessage("Hello.", response="utter_booking_kept"), "en") == "Hello."
    assert voice_text(BotMessage("Hello."), "en") == "Hello."
    unfilled = BotMessage("You are number 2.", response="utter_handoff_queued")
    assert voice_text(unfilled, "en") == "You are number 2."  # never "{position}" aloud


def test_a_message_remembers_its_response_and_values_through_json() -> None:
    message = BotMessage.from_rasa({"text": "x", "utter_action": "utter_reference_invalid",
                                    "reference": "4021 7382", "timestamp": 1.5,
                                    "metadata": {"expects": "reference"}})
    assert message.response == "utter_reference_invalid"
    assert message.values == {"reference": "4021 7382"}
    assert BotMessage.from_json(message.to_json()) == message


# --- the language menu -----------------------------------------------------------------------

def test_silence_at_the_language_menu_is_answered_in_each_language_in_its_voice() -> None:
    says = _says(render_language_menu(ACTION, welcome=False, intro="utter_voice_no_input"))
    voices = {"en": "Polly.Joanna", "es": "Polly.Lupe", "fr": "Polly.Lea", "ar": "Polly.Zeina"}
    for say, (digit, code) in zip(says[:-1], enumerate(LANGUAGES, 1), strict=True):
        assert say.get("voice") == voices[code]
        assert say.text == (f"{texts.text('utter_voice_no_input', code)} "
                            f"{texts.text('utter_voice_language_option', code, digit=digit)}")
    assert says[-1].text == texts.text("utter_voice_keys", "en")


def test_a_value_called_name_fills_a_twin_too() -> None:
    message = BotMessage("Sorry.", response="utter_help_form_field",
                         values={"name": "Riverton City Hall", "language": "en"})
    assert voice_text(message, "es") == texts.text("utter_help_form_field__voice", "es")
