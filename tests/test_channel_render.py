"""bot/messaging/{sms,telegram,voice}/render.py and the small pieces around them: SMS segments
and numbered options, splitting, Telegram chunks and button keys, voice TwiML (parsed as XML),
channel texts, SMS keywords."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest

from bot.language import texts
from bot.language.detect import decide
from bot.messaging import inbound
from bot.messaging.messages import BotMessage, pick_option
from bot.messaging.sms.encoding import GSM7, UCS2, encoding, segments
from bot.messaging.sms.keywords import sms_keyword
from bot.messaging.sms.render import render_sms, sms_text, split_sms, twiml_messages
from bot.messaging.telegram.render import (
    TELEGRAM_MAX_UNITS,
    callback_data,
    render_telegram,
    split_telegram,
)
from bot.messaging.voice import turn as voice
from bot.messaging.voice.render import (
    render_language_menu,
    render_read_back,
    render_transfer,
    render_voice,
)
from bot.messaging.voice.speech import speakable

MENU = (("My application", "/check_application_status"), ("Talk to a person", "/request_human"))
ACTION = "https://civic.example/webhooks/voice/webhook?step=1&stage=main&silence=0"


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


# --- SMS ---------------------------------------------------------------------------------------

def test_buttons_become_a_numbered_list_in_the_same_message() -> None:
    reply = render_sms([BotMessage("OK, I stopped that."), BotMessage("What do you need?", MENU)])
    assert reply.bodies == ["OK, I stopped that.\nWhat do you need?\n1. My application\n"
                            "2. Talk to a person"]
    assert reply.options == list(MENU)


def test_only_the_last_message_s_buttons_are_numbered() -> None:
    # Numbering never runs on across messages (issue 9: a runaway turn numbered up to 70).
    reply = render_sms([BotMessage("A", MENU[:1]), BotMessage("B", MENU[1:])])
    assert reply.bodies == ["A\nB\n1. Talk to a person"]
    assert reply.options == [MENU[1]]
    assert pick_option("1", reply.options) == "/request_human"
    assert pick_option("2", reply.options) is None


@pytest.mark.parametrize(("reply", "expected"), [
    ("1", "/check_application_status"), (" 2 ", "/request_human"), ("2.", "/request_human"),
    ("#1", "/check_application_status"), ("٢", "/request_human"), ("3", None), ("0", None),
    ("1 please", None), ("12", None), ("", None),
])
def test_a_bare_number_picks_an_option(reply: str, expected: str | None) -> None:
    assert pick_option(reply, list(MENU)) == expected


def test_typographic_punctuation_keeps_latin_text_in_gsm7() -> None:
    text = "L’office est ouvert lun–ven 08:30–16:30 … “merci”"
    assert encoding(text) == UCS2
    assert encoding(sms_text(text)) == GSM7
    assert sms_text(text) == "L'office est ouvert lun-ven 08:30-16:30 ... \"merci\""


def test_letters_are_never_changed_so_spanish_may_need_ucs2() -> None:
    body = render_sms([BotMessage("¿Cuál es su número?")]).bodies[0]
    assert body == "¿Cuál es su número?" and encoding(body) == UCS2


def test_arabic_goes_out_as_ucs2_within_three_segments() -> None:
    body = render_sms([BotMessage("الملف 9000 0001: تمت الموافقة.")]).bodies[0]
    assert encoding(body) == UCS2 and segments(body) == 1


def test_a_long_turn_is_split_at_sentences_each_part_within_three_segments() -> None:
    sentence = "This sentence tells you about the city services you can use today."
    text = " ".join([sentence] * 14)
    bodies = split_sms(text)
    assert len(bodies) >= 2
    assert all(segments(b) <= 3 for b in bodies)
    assert all(b.endswith(".") for b in bodies), "cut inside a sentence"
    assert " ".join(bodies) == text


def test_a_long_arabic_text_is_split_at_words_never_inside_one() -> None:
    words = ["كلمة", "طويلة", "للمدينة", "والخدمات"] * 40
    text = " ".join(words)
    bodies = split_sms(text)
    assert all(segments(b) <= 3 and encoding(b) == UCS2 for b in bodies)
    assert " ".join(bodies).split() == words


def test_a_turn_that_fits_stays_one_message_and_one_that_does_not_is_split_by_message() -> None:
    short = render_sms([BotMessage("Hello."), BotMessage("What do you need?", MENU)])
    assert len(short.bodies) == 1
    long_text = "Riverton Community Centre is open every day from nine to five. " * 7
    reply = render_sms([BotMessage(long_text.strip()), BotMessage("What do you need?", MENU)])
    assert len(reply.bodies) >= 2 and all(segments(b) <= 3 for b in reply.bodies)
    assert reply.bodies[-1].endswith("2. Talk to a person")


def test_twiml_has_one_message_per_body_and_is_empty_without_bodies() -> None:
    root = ET.fromstring(twiml_messages(["one", "two & <three>"]))
    assert [m.text for m in root.iter("Message")] == ["one", "two & <three>"]
    assert list(ET.fromstring(twiml_messages([]))) == []


# --- Telegram ----------------------------------------------------------------------------------

def test_telegram_text_over_4096_units_is_split_at_boundaries() -> None:
    paragraph = "Word " * 700
    text = f"{paragraph.strip()}\n\n{paragraph.strip()}"
    chunks = split_telegram(text)
    assert len(chunks) == 2 and all(utf16(c) <= TELEGRAM_MAX_UNITS for c in chunks)
    assert chunks[0] == paragraph.strip()


def test_telegram_split_counts_utf16_units_and_keeps_emoji_whole() -> None:
    text = "😀" * 3000  # 6000 UTF-16 units, no boundary at all
    chunks = split_telegram(text)
    assert all(utf16(c) <= TELEGRAM_MAX_UNITS for c in chunks)
    assert "".join(chunks) == text


def test_telegram_buttons_go_on_the_last_chunk() -> None:
    rendered = render_telegram([BotMessage("x " * 3000, MENU)], key_for=lambda p: 1)
    assert len(rendered) == 2
    assert not rendered[0].buttons and [t for t, _ in rendered[1].buttons] == [t for t, _ in MENU]


def test_telegram_text_is_sent_as_typed_markdown_characters_included() -> None:
    text = "Case 4021_7382 *urgent* [office](x) `code` > quote"
    (message,) = render_telegram([BotMessage(text)], key_for=lambda p: 1)
    assert message.text == text  # no parse_mode: Telegram shows every character literally


def test_long_payloads_get_a_short_key_and_short_ones_go_as_they_are() -> None:
    stored: dict[int, str] = {}

    def key_for(payload: str) -> int:
        stored[len(stored) + 1] = payload
        return len(stored)

    short = '/find_office{"office": "city_hall"}'
    long = '/digital_help{"digital_topic": "guide:reset_password_for_the_online_portal"}'
    assert callback_data(short, key_for) == short
    assert callback_data(long, key_for) == "#1" and stored[1] == long
    assert len(callback_data(long, key_for).encode()) <= 64


def test_a_date_question_offers_the_contact_button_only_when_asked() -> None:
    question = BotMessage("Please send your date of birth.", expects="date")
    (offered,) = render_telegram([question], key_for=lambda p: 1, contact_label="Share")
    (plain,) = render_telegram([question], key_for=lambda p: 1)
    assert offered.contact_button == "Share" and plain.contact_button is None


# --- voice -------------------------------------------------------------------------------------

def parse(twiml: str) -> ET.Element:
    return ET.fromstring(twiml)


def test_every_prompt_is_a_gather_for_keys_and_speech_in_the_callers_language() -> None:
    turn = render_voice([BotMessage("¿Qué necesita?", MENU)], "es", ACTION)
    root = parse(turn.twiml)
    (gather,) = root.findall("Gather")
    assert gather.get("input") == "dtmf speech"
    assert gather.get("language") == "es-US"
    assert gather.get("speechTimeout") == "auto"
    assert gather.get("actionOnEmptyResult") == "true"
    assert gather.get("action") == ACTION and gather.get("method") == "POST"
    assert gather.get("numDigits") == "1"
    assert "My application" in gather.get("hints", "")
    says = gather.findall("Say")
    assert {(s.get("language"), s.get("voice")) for s in says} == {("es-US", "Polly.Lupe")}
    assert [s.text for s in says] == ["¿Qué necesita?", "Pulse 1: su solicitud.",
                                      "2: una persona.",  # the buttons' voice titles
                                      texts.text("utter_voice_keys", "es")]
    assert turn.options == list(MENU) and not turn.ends_call


@pytest.mark.parametrize(("code", "say_language", "voice_name", "gather_language"), [
    ("en", "en-US", "Polly.Joanna", "en-US"), ("es", "es-US", "Polly.Lupe", "es-US"),
    ("fr", "fr-FR", "Polly.Lea", "fr-FR"), ("ar", "arb", "Polly.Zeina", "ar-SA"),
])
def test_each_language_has_a_voice_that_speaks_it(code: str, say_language: str,
                                                  voice_name: str, gather_language: str) -> None:
    gather = parse(render_voice([BotMessage("…")], code, ACTION).twiml).find("Gather")
    assert gather is not None and gather.get("language") == gather_language
    say = gather.find("Say")
    assert say is not None and (say.get("language"), say.get("voice")) == (say_language,
                                                                           voice_name)


def test_a_reference_question_collects_keypad_digits_ending_with_hash() -> None:
    question = BotMessage("What is your case number? It has 8 digits, like 4021 7382.",
                          expects="reference")
    turn = render_voice([question], "en", ACTION)
    gather = parse(turn.twiml).find("Gather")
    assert gather is not None
    assert gather.get("finishOnKey") == "#" and gather.get("numDigits") is None
    spoken = [s.text for s in gather.findall("Say")]
    assert "like 4 0 2 1 7 3 8 2" in spoken[0]  # read digit by digit
    assert spoken[1] == texts.text("utter_voice_reference_keys", "en")
    assert turn.expects == "reference"


def test_read_back_is_digit_by_digit_and_waits_for_one_key() -> None:
    gather = parse(render_read_back("40217382", "fr", ACTION)).find("Gather")
    assert gather is not None and gather.get("numDigits") == "1"
    say, keys = gather.findall("Say")
    assert "4 0 2 1 7 3 8 2" in (say.text or "") and say.get("language") == "fr-FR"
    assert keys.text == texts.text("utter_voice_keys", "fr")


def test_a_dial_message_transfers_then_says_goodbye_before_hanging_up() -> None:
    message = BotMessage("I am putting you through.", dial="+15550109999")
    turn = render_voice([message], "en", ACTION)
    root = parse(turn.twiml)
    assert [child.tag for child in root] == ["Say", "Dial", "Say", "Hangup"]
    assert root.find("Dial").text == "+15550109999"  # type: ignore[union-attr]
    assert root.findall("Say")[-1].text == texts.text("utter_voice_goodbye", "en")
    assert turn.ends_call


def test_goodbye_replaces_the_chat_goodbye_and_hangs_up() -> None:
    turn = render_voice([BotMessage("Goodbye. You can write to us.", then="hang_up")], "es",
                        ACTION)
    root = parse(turn.twiml)
    assert [child.tag for child in root] == ["Say", "Hangup"]
    assert root.find("Say").text == texts.text("utter_voice_goodbye", "es")  # type: ignore


def test_transfer_says_connecting_you_first() -> None:
    root = parse(render_transfer("ar", "+15550109999"))
    assert [child.tag for child in root] == ["Say", "Dial", "Say", "Hangup"]
    assert root.find("Say").get("voice") == "Polly.Zeina"  # type: ignore[union-attr]


def test_language_menu_speaks_each_option_in_its_own_language() -> None:
    gather = parse(render_language_menu(ACTION, welcome=True)).find("Gather")
    assert gather is not None and gather.get("numDigits") == "1"
    says = gather.findall("Say")
    assert [s.get("language") for s in says] == ["en-US", "en-US", "es-US", "fr-FR", "arb",
                                                 "en-US"]
    assert [s.text for s in says][1:-1] == [texts.text("utter_voice_language_option", code,
                                                       digit=n)
                                            for n, code in enumerate(("en", "es", "fr", "ar"), 1)]
    assert says[-1].text == texts.text("utter_voice_keys", "en")


def test_speakable_reads_references_and_phone_numbers_digit_by_digit_but_not_dates() -> None:
    assert speakable("Case 4021 7382, call +15550109999, born 31/12/1980") == (
        "Case 4 0 2 1 7 3 8 2, call + 1 5 5 5 0 1 0 9 9 9 9, born 31/12/1980")


def test_keyed_dates_are_day_month_year_in_eight_digits() -> None:
    assert voice.keyed_date("12031985") == dt.date(1985, 3, 12)
    assert voice.keyed_date("120385") is None  # 8 digits, no guessing the century
    assert voice.keyed_date("1203") is None


# --- channel texts, keywords, user text --------------------------------------------------------

def test_channel_texts_are_picked_by_language_with_placeholders_filled() -> None:
    assert "+15550109999" in texts.text("utter_sms_help", "fr", call_centre="+15550109999")
    assert texts.text("utter_voice_no_input", "es") == "¿Sigue ahí?"
    assert texts.text("utter_voice_no_input", None) == texts.text("utter_voice_no_input", "en")
    with pytest.raises(KeyError):
        texts.text("utter_no_such_thing", "en")


@pytest.mark.parametrize(("body", "kind"), [
    ("STOP", "stop"), ("stop", "stop"), (" Stop! ", "stop"), ("STOPALL", "stop"),
    ("unsubscribe", "stop"), ("CANCEL", "stop"), ("end", "stop"), ("QUIT", "stop"),
    ("REVOKE", "stop"), ("OPTOUT", "stop"), ("BAJA", "stop"), ("ARRET", "stop"),
    ("arrêt", "stop"), ("START", "start"), ("unstop", "start"), ("YES", "start"),
    ("HELP", "help"), ("info", "help"), ("stop sending me the bins", None),
    ("help me please", None), ("", None),
])
def test_sms_keywords_are_whole_messages_in_any_case(body: str, kind: str | None) -> None:
    assert sms_keyword(body) == kind


def test_twilio_opt_out_type_wins_over_the_words() -> None:
    assert sms_keyword("Alto por favor", "STOP") == "stop"
    assert sms_keyword("whatever", "START") == "start"
    assert sms_keyword("?", "HELP") == "help"


def test_user_text_cannot_send_rasa_commands_or_control_characters() -> None:
    assert inbound.user_text('/check_application_status{"status_outcome": "owner"}') == \
        'check_application_status{"status_outcome": "owner"}'
    assert inbound.user_text("hello\x00 there\x1b") == "hello  there"
    assert len(inbound.user_text("a" * 10_000)) == inbound.MAX_TEXT


def test_a_button_payload_never_switches_the_language() -> None:
    for payload in ("/check_application_status", '/find_office{"office": "city_hall"}',
                    "/request_human"):
        assert decide("es", payload).language == "es"
