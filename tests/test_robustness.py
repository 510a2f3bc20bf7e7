"""Nobody is ever stuck (SPEC §1.1, §4; issue 9): every question the assistant can ask,
answered the way real people answer it.

Each question is reached as a citizen would reach it (through the real SMS webhook, signed
as Twilio signs; Telegram updates; the signed voice webhook), then answered with a battery of
generic replies in the conversation's language: "ok", yes, no, a number out of range, a day,
an address, "?", "I don't know", an emoji (and silence on a call). For every (question, reply)
pair: at least one reply, at most three messages (one TwiML prompt on a call), the reply in
the conversation's language, Rasa's circuit breaker never tripped, and "menu" afterwards
shows the menu. The pairs run concurrently, one sender each, on this module's own stack (so
the module can run in its own process beside the other suites); the count of pairs covered
is printed and written to results/robustness.json.
"""

from __future__ import annotations

import json
import os
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.devtools.clients import CallClient, SmsClient, TelegramClient
from bot.language import texts
from bot.language.vocabulary import VOICES
from bot.messaging.messages import MAX_TURN_MESSAGES
from bot.messaging.sms.render import sms_text
from tests.support.clients import channel_hooks
from tests.support.environment import ROOT
from tests.support.providers import Providers
from tests.support.stack import Stack, running_stack
from tests.support.stack_data import new_case, staffed
from tests.support.unique import phone, telegram_user

pytestmark = [pytest.mark.stack, pytest.mark.own_stack]

WORKERS = 8
LANGUAGES = ("en", "es", "fr", "ar")
GREETING = {"en": "hello", "es": "hola", "fr": "bonjour", "ar": "مرحبا"}
NEAREST = {"en": "where is the nearest office", "es": "donde esta la oficina mas cercana",
           "fr": "où est le bureau le plus proche", "ar": "أين أقرب مكتب"}
ADDRESS = {"en": "12 Elm Street", "es": "Calle Mayor 12", "fr": "12 rue des Lilas",
           "ar": "12 شارع النيل"}
BATTERY = {
    "en": ("ok", "yes", "no", "42", "saturday", ADDRESS["en"], "?", "I don't know", "👍"),
    "es": ("ok", "sí", "no", "42", "sábado", ADDRESS["es"], "?", "no sé", "👍"),
    "fr": ("ok", "oui", "non", "42", "samedi", ADDRESS["fr"], "?", "je ne sais pas", "👍"),
    "ar": ("ok", "نعم", "لا", "42", "السبت", ADDRESS["ar"], "?", "لا أعرف", "👍"),
}
# The replies whose words belong to a language: every question hears them in every language.
# The whole battery is heard in one language per question (each question another one), or
# in every language with CIVICLINE_ROBUSTNESS_FULL=1 (about twice the pairs and the time).
WORDED = (1, 2, 7)  # yes, no, "I don't know"
FULL = os.environ.get("CIVICLINE_ROBUSTNESS_FULL") == "1"
NONSENSE = ("xqzv plonk", "brrzt quomp")  # words no training example uses: NLU falls back
REFERENCE = "{reference}"  # a walk step: the reference of a case made for this pair
MENU_RESPONSE = "utter_menu"


@dataclass(frozen=True)
class Question:
    """One question, how a citizen reaches it after the greeting, and the response that
    shows it was reached."""

    name: str
    asks: str
    walk: tuple[str, ...] = ()
    # A reply may leave something behind that changes the walk (a booking made, a person
    # asked for): then every reply gets a new sender. Otherwise one sender answers the
    # question with each reply in turn, "menu" standing in for the next greeting.
    fresh: bool = False


def walks(language: str) -> list[Question]:
    report = ("4", "1", ADDRESS[language])
    # ID cards: two offices, so the office is asked; the second day offered, never today (its
    # last slot can pass between the list and the pick, and "no slot left" is then right)
    booking = ("5", "3", "1", "2")
    return [
        Question("main menu", "utter_greet"),
        Question("say it in other words", "utter_rephrase", NONSENSE[:1]),
        Question("offer of a person", "utter_offer_human", NONSENSE, fresh=True),
        Question("which service?", "utter_ask_which_service", ("2",)),
        Question("which office?", "utter_ask_which_office", ("3",)),
        Question("after an office answer", "utter_office_details", ("3", "1")),
        Question("where are you? (nearest office)", "utter_ask_where_you_are",
                 (NEAREST[language],)),
        Question("what digital help?", "utter_ask_digital_topic", ("6",)),
        Question("status: reference", "utter_ask_case_reference", ("1",)),
        Question("status: date of birth", "utter_ask_date_of_birth", ("1", REFERENCE)),
        Question("report: kind", "utter_ask_problem_kind", ("4",)),
        Question("report: detail", "utter_ask_problem_detail", ("4", "7")),
        Question("report: place", "utter_ask_problem_place", report[:2]),
        Question("report: photo", "utter_ask_problem_photo", report),
        Question("report: contact", "utter_ask_contact_preference", (*report, "no")),
        Question("report: read-back", "utter_ask_problem_confirm", (*report, "no", "1")),
        Question("report: what to change", "utter_ask_form_field",
                 (*report, "no", "1", "2")),
        Question("booking: service", "utter_ask_appointment_service", booking[:1]),
        Question("booking: office", "utter_ask_appointment_office", booking[:2]),
        Question("booking: day", "utter_ask_appointment_day", booking[:3]),
        Question("booking: time", "utter_ask_appointment_time", booking),
        Question("booking: read-back", "utter_ask_booking_confirm", (*booking, "1"),
                 fresh=True),
    ]


TELEGRAM_QUESTIONS = ("main menu", "offer of a person", "which office?",
                      "where are you? (nearest office)", "report: kind", "booking: day")


# --- What a reply says, and in which language --------------------------------------------------

_PLACEHOLDER = re.compile(r"\{\w+\}")


def _pieces(variation: dict[str, Any]) -> list[str]:
    """The literal parts of a response variation (text around placeholders, button titles)."""
    parts = _PLACEHOLDER.split(str(variation.get("text") or ""))
    parts += [str(b.get("title") or "") for b in variation.get("buttons") or []]
    # Only parts with words tell a language ("31/12/1980." alone, around a placeholder, does not).
    return [sms_text(p).strip() for p in parts
            if sum(ch.isalpha() for ch in p) >= 4]


@dataclass
class Texts:
    """Every response text of the domain, to tell which response and language a reply is."""

    by_response: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    language_of_piece: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def load(cls) -> Texts:
        found = cls()
        for name, variations in texts._responses().items():
            if name.startswith("utter_voice_title_"):  # a button as said on a call only: a
                continue  # phrase ("a person") that sits inside other languages' texts
            for language, variation in variations.items():
                code = language or "en"
                pieces = _pieces(variation)
                found.by_response.setdefault(name, {})[code] = pieces
                for piece in pieces:
                    found.language_of_piece.setdefault(piece, set()).add(code)
        return found

    def says(self, reply: str, response: str, language: str) -> bool:
        """Whether ``reply`` contains the longest literal part of ``response`` in
        ``language``."""
        pieces = self.by_response[response].get(language) or self.by_response[response]["en"]
        return max(pieces, key=len) in sms_text(reply)

    def languages(self, reply: str) -> set[str]:
        """The languages of the response texts found in ``reply`` (parts shared by several
        languages, like "MENU", say nothing)."""
        text = sms_text(reply)
        return {next(iter(codes)) for piece, codes in self.language_of_piece.items()
                if len(codes) == 1 and piece in text}


TEXTS = Texts.load()


# --- The stack, the channels, the pairs -------------------------------------------------------

@pytest.fixture(scope="module")
def own_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """This module's own stack, the call centre unstaffed: after "yes" to the offer of a
    person the citizen is told when staff are back and the bot keeps answering (when staffed,
    the bot rightly stays silent while a person takes over, and "menu" is not for it)."""
    providers = Providers().start()
    try:
        with running_stack(tmp_path_factory.mktemp("robustness"),
                           extra_env=providers.env) as running:
            running.providers = providers
            with staffed(running, on_duty=False):  # a "yes" to a person never pauses the bot
                yield running
    finally:
        providers.stop()


@dataclass
class Pair:
    channel: str
    language: str
    question: str
    reply: str
    problems: list[str] = field(default_factory=list)
    previous_menu: str = ""  # what the last "menu" showed (the same sender's previous pair)
    menu: str = ""


class SmsPerson:
    """One phone texting the signed SMS webhook."""

    def __init__(self, stack: Stack) -> None:
        self.client = SmsClient(channel_hooks(stack), phone())

    def __call__(self, text: str) -> list[str]:
        reply = self.client.send(text)
        assert reply.status == 200, reply.raw
        assert len(re.findall(r"<Message", reply.raw)) == len(reply.bodies)
        return reply.bodies


class TelegramPerson:
    """One Telegram user; typed numbers pick buttons as on SMS."""

    def __init__(self, stack: Stack) -> None:
        self.client = TelegramClient(channel_hooks(stack), telegram_user())

    def __call__(self, text: str) -> list[str]:
        status, body = self.client.send(text)
        assert status == 200, body
        return [r["text"] + "".join(f"\n{t}" for t, _ in r["buttons"])
                for r in body["replies"]]


def check_pair(stack: Stack, person: Callable[[str], list[str]], pair: Pair, walk: list[str],
               asks: str) -> bool:
    """Walk to the question, answer it, then "menu": record what went wrong; whether the
    menu was shown (the person can walk again from there)."""
    language = pair.language
    messages: list[str] = []
    for step in walk:
        messages = person(step)
    reached = "\n".join(messages)
    if not walk:  # the main menu, shown again by the last "menu"
        reached = pair.previous_menu
    if not reached or not (TEXTS.says(reached, asks, language)
                           or (TEXTS.says(reached, MENU_RESPONSE, language)
                           and asks == "utter_greet")):
        pair.problems.append(f"the walk {walk} did not reach {asks}: {reached!r}")
        return False
    marks = stack.log_marks()
    messages = person(pair.reply)
    reply = "\n".join(messages)
    if not messages:
        pair.problems.append("no reply")
    if len(messages) > MAX_TURN_MESSAGES:
        pair.problems.append(f"{len(messages)} messages")
    if messages and language not in TEXTS.languages(reply):
        pair.problems.append(f"not in {language}")
    if TEXTS.languages(reply) - {language}:
        pair.problems.append(f"also in {TEXTS.languages(reply) - {language}}")
    if "Circuit breaker" in stack.logs_since(marks):
        pair.problems.append("circuit breaker")
    menu = "\n".join(person("menu"))
    pair.menu = menu
    shown = TEXTS.says(menu, MENU_RESPONSE, language)
    if not shown:
        pair.problems.append(f"'menu' afterwards did not show the menu: {menu!r}")
    if pair.problems:
        pair.problems.append(f"reply: {reply!r}")
    return shown


def run_question(stack: Stack, channel: str, language: str, question: Question,
                 replies: tuple[str, ...]) -> list[Pair]:
    """Each reply to ``question``: one sender for all of them (each walk after the first
    starts from the menu "menu" showed), or a new one for each if the question is ``fresh``."""
    pairs: list[Pair] = []
    person: Callable[[str], list[str]] | None = None
    menu = ""
    for reply in replies:
        pair = Pair(channel, language, question.name, reply, previous_menu=menu)
        pairs.append(pair)
        walk = list(question.walk)
        if person is None or question.fresh:
            person = SmsPerson(stack) if channel == "sms" else TelegramPerson(stack)
            walk = [GREETING[language], *walk]
        walk = [new_case(stack, None) if step == REFERENCE else step for step in walk]
        try:
            shown = check_pair(stack, person, pair, walk, question.asks)
        except AssertionError as exc:
            pair.problems.append(f"webhook failed: {exc}")
            shown = False
        menu = pair.menu
        if not shown:
            person = None  # start again with a new sender
    return pairs


# --- Voice: the language menu and the main menu, through the signed voice webhook -----------

def check_call(turn: Any, pair: Pair, language: str | None) -> None:
    if turn.status != 200:
        pair.problems.append(f"status {turn.status}")
        return
    root = ET.fromstring(turn.raw)
    gathers = root.findall(".//Gather")
    if not turn.says:
        pair.problems.append("nothing said")
    if len(gathers) > 1:
        pair.problems.append(f"{len(gathers)} prompts")
    if not gathers and not (turn.dial or turn.hangup):
        pair.problems.append("neither listening nor ending the call")
    if language is not None:
        wrong = {s.language for s in turn.says} - {VOICES[language].say_language}
        if wrong:
            pair.problems.append(f"spoken in {wrong}, not {language}")
    if pair.problems:
        pair.problems.append(f"heard: {turn.text!r}")


def run_voice_pair(stack: Stack, language: str, stage: str, reply: str | None) -> Pair:
    pair = Pair("voice", language, stage, "(silence)" if reply is None else reply)
    call = CallClient(channel_hooks(stack), phone())
    try:
        turn = call.start()
        expected: str | None = None
        if stage == "main menu":
            turn = call.press(str(LANGUAGES.index(language) + 1))
            expected = language
        marks = stack.log_marks()
        if turn.gather is None:
            pair.problems.append(f"the call is not listening at the {stage}: {turn.text!r}")
            return pair
        turn = call.silence() if reply is None else call.say(reply)
        check_call(turn, pair, expected)
        if "Circuit breaker" in stack.logs_since(marks):
            pair.problems.append("circuit breaker")
    except (AssertionError, ET.ParseError) as exc:
        pair.problems.append(f"webhook failed: {exc}")
    return pair


# --- The suite ---------------------------------------------------------------------------------

def battery(language: str, turn: int) -> tuple[str, ...]:
    """The replies heard in ``language`` by the ``turn``-th question (see WORDED)."""
    if FULL or LANGUAGES[turn % len(LANGUAGES)] == language:
        return BATTERY[language]
    return tuple(BATTERY[language][i] for i in WORDED)


def all_jobs(stack: Stack) -> list[Callable[[], list[Pair]]]:
    """Each job: one question in one language on one channel, its replies in turn."""
    jobs: list[Callable[[], list[Pair]]] = []
    for language in LANGUAGES:
        for turn, question in enumerate(walks(language)):
            replies = battery(language, turn)
            if question.name in TELEGRAM_QUESTIONS:
                jobs.append(lambda q=question, lang=language, rs=replies:
                            run_question(stack, "telegram", lang, q, rs))
            jobs.append(lambda q=question, lang=language, rs=replies:
                        run_question(stack, "sms", lang, q, rs))
        for turn, stage in enumerate(("language menu", "main menu")):
            for reply in (*battery(language, turn), None):  # None: silence
                jobs.append(lambda s=stage, r=reply, lang=language:
                            [run_voice_pair(stack, lang, s, r)])
    return jobs


def test_every_question_survives_every_generic_answer(own_stack: Stack) -> None:
    started = time.monotonic()
    jobs = all_jobs(own_stack)
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        pairs = [pair for done in pool.map(lambda job: job(), jobs) for pair in done]
    seconds = round(time.monotonic() - started, 1)
    failed = [p for p in pairs if p.problems]
    questions = {(p.channel, p.question) for p in pairs}
    summary = {"pairs": len(pairs), "failed": len(failed), "questions": len(questions),
               "languages": list(LANGUAGES), "channels": sorted({p.channel for p in pairs}),
               "seconds": seconds,
               "per_channel": {c: sum(p.channel == c for p in pairs)
                               for c in sorted({p.channel for p in pairs})}}
    out = ROOT / "results" / "robustness.json"
    Path(out).parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"\nrobustness: {len(pairs)} (question x reply) pairs over {len(questions)} questions "
          f"in {seconds}s, {len(failed)} failed")
    assert "Circuit breaker" not in own_stack.full_logs()
    assert not failed, "\n".join(
        f"{p.channel} {p.language} [{p.question}] <- {p.reply!r}: {'; '.join(p.problems)}"
        for p in failed[:40])
