"""USSD screens without a server (SPEC §6.5): every response with options, in every language and
on every page, fits Africa's Talking's 182 characters with its "CON " and paging keys; numbers
are SMS's, never 9 (the "More" key); the allow-list setting is checked at start-up.
The webhook itself, with the trained model, is tests/test_channel_ussd.py."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml

from bot.config import ConfigError, load_settings, networks
from bot.language import texts
from bot.language.vocabulary import USSD_TEXTS
from bot.messaging.ussd.render import (
    MAX_SCREEN,
    first_sentence,
    option_numbers,
    pages,
    pick,
    screen,
)
from bot.messaging.ussd.turn import UssdInput, parse_text
from tests.support.environment import PRODUCTION_SETTINGS

DOMAIN = Path(__file__).resolve().parent.parent / "domain"
LANGUAGES = ("en", "es", "fr", "ar")
LONG_DATUM = "Riverside Community Service Hub, 12 River Street"  # a long filled-in value


def menus() -> list[tuple[str, str, list[tuple[str, str]]]]:
    found = []
    for path in sorted(DOMAIN.glob("*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for name, variations in (document.get("responses") or {}).items():
            for variation in variations:
                if variation.get("buttons"):
                    language = ((variation.get("condition") or [{}])[0]).get("value", "en")
                    buttons = [(b["title"], b["payload"]) for b in variation["buttons"]]
                    found.append((name, language, buttons))
    return found


MENUS = menus()


def test_the_menus_are_all_found() -> None:
    assert len(MENUS) >= 4 * 20
    assert {"utter_greet", "utter_ask_problem_kind"} <= {name for name, _, _ in MENUS}


@pytest.mark.parametrize(("name", "language", "buttons"), MENUS,
                         ids=[f"{n}-{lang}" for n, lang, _ in MENUS])
def test_every_menu_fits_its_screens(name: str, language: str,
                                     buttons: list[tuple[str, str]]) -> None:
    values = re.findall(r"{(\w+)}", texts.text(name, language))
    text = texts.text(name, language, **{key: LONG_DATUM for key in values})
    bodies = pages([text], buttons, language)
    shown = "\n".join(bodies)
    for number, (title, _) in zip(option_numbers(len(buttons)), buttons, strict=True):
        assert f"{number}. {title}" in shown  # every option, numbered as on SMS
    for index, body in enumerate(bodies):
        rendered = screen([text], buttons, language, page=index)
        assert rendered.startswith("CON ") and len(rendered) <= MAX_SCREEN, rendered
        assert (USSD_TEXTS["more"][language] in body) == (index < len(bodies) - 1)
        assert (USSD_TEXTS["back"][language] in body) == (index > 0)


def test_a_long_answer_is_cut_at_sentences_and_words_never_lost() -> None:
    long = " ".join(["This sentence is here to fill the screen."] * 12)
    bodies = pages([long], [("Yes", "/affirm")], "en")
    assert len(bodies) > 2 and all(len(b) + 4 <= MAX_SCREEN for b in bodies)
    shown = " ".join(b.replace("\n9 More", "").replace("\n0 Back", "") for b in bodies)
    assert shown.replace("\n", " ").split() == (long + " 1. Yes").split()


def test_numbers_are_smss_and_skip_the_more_key() -> None:
    assert option_numbers(3) == [1, 2, 3]
    assert option_numbers(10) == [1, 2, 3, 4, 5, 6, 7, 8, 10, 11]
    options = [(f"Option {i}", f"/p{i}") for i in range(10)]
    assert pick("8", options) == "/p7" and pick("10", options) == "/p8"
    assert pick("9", options) is None and pick("٢", options) == "/p1"
    assert pick("12", options) is None and pick("", options) is None


def test_the_session_text_gives_every_answer_and_names_the_request() -> None:
    assert parse_text("") == ()
    started, third = UssdInput("s1", parse_text("")), UssdInput("s1", parse_text("1*2*40217382"))
    assert started.starting and started.external_id == "s1:0"
    assert third.answer == "40217382" and third.external_id == "s1:3" and not third.starting
    assert UssdInput("s1", parse_text("1*")).answer == ""  # an empty answer


def test_the_first_sentence_of_a_long_question() -> None:
    assert first_sentence("Where is it? Send the street.") == "Where is it?"
    assert first_sentence("أين هي؟ أرسل الشارع.") == "أين هي؟"


def test_the_allow_list_is_cidrs_and_required_in_production(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert [str(n) for n in networks("196.201.214.0/24, 10.0.0.7,2c0f:fe38::/32")] == \
        ["196.201.214.0/24", "10.0.0.7/32", "2c0f:fe38::/32"]
    for key in list(os.environ):
        if key.startswith(("CIVICLINE_", "TWILIO_", "TELEGRAM_", "PUBLIC_")):
            monkeypatch.delenv(key)
    env_file = tmp_path / ".env"
    env_file.write_text("CIVICLINE_USSD_ALLOWED_IPS=196.201.214.0/24, africastalking\n")
    with pytest.raises(ConfigError, match="CIVICLINE_USSD_ALLOWED_IPS: 'africastalking'"):
        load_settings(env_file)  # a typo stops even development
    env_file.write_text("".join(f"{k}={v}\n" for k, v in PRODUCTION_SETTINGS.items()
                                if k != "CIVICLINE_USSD_ALLOWED_IPS"))
    with pytest.raises(ConfigError, match="CIVICLINE_USSD_ALLOWED_IPS"):
        load_settings(env_file)
    env_file.write_text("".join(f"{k}={v}\n" for k, v in PRODUCTION_SETTINGS.items()))
    assert load_settings(env_file).is_production
    env_file.write_text("")
    assert not load_settings(env_file).is_production  # development: empty is allowed
