"""Nobody is ever stuck (SPEC §1.1, §4; issues 9 and 13): every question the assistant can
ask, answered the way real people answer it, on every channel.

Each question is reached as a citizen would reach it (through the real SMS webhook, signed
as Twilio signs, and the same webhook as WhatsApp posts it, ``From=whatsapp:+…``; Telegram
updates; the signed voice webhook; Africa's Talking's USSD callback), then answered with a
battery of generic replies in the conversation's language: "ok", yes, no, a number out of
range, a day, an address, "?", "I don't know", an emoji (and silence on a call; on USSD an
empty answer, and the session timing out: the next dial). For every (question, reply) pair:
at least one reply, at most three messages (one TwiML prompt on a call; one screen of at most
182 characters, ``CON`` or ``END``, on USSD), the reply in the conversation's language,
Rasa's circuit breaker never tripped, and "menu" ("00" on USSD, after a new dial if the
session closed) afterwards shows the menu. WhatsApp takes SMS's path through the same
webhook: it walks a representative subset of the questions. The pairs run concurrently,
one sender each, on this module's own stack (so the module can run in its own process beside
the other suites); the count of pairs covered, per channel, is printed and written to
results/robustness.json.
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
from bot.language.vocabulary import USSD_TEXTS, VOICES
from bot.messaging.messages import MAX_TURN_MESSAGES
from bot.messaging.sms.render import sms_text
from tests.support.clients import Ussd, channel_hooks
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


def booking_questions() -> list[Question]:
    """The booking form's questions, the same keys on SMS and USSD."""
    # ID cards: two offices, so the office is asked; the second day offered, never today (its
    # last slot can pass between the list and the pick, and "no slot left" is then right)
    booking = ("5", "3", "1", "2")
    return [
        Question("booking: service", "utter_ask_appointment_service", booking[:1]),
        Question("booking: office", "utter_ask_appointment_office", booking[:2]),
        Question("booking: day", "utter_ask_appointment_day", booking[:3]),
        Question("booking: time", "utter_ask_appointment_time", booking),
        Question("booking: read-back", "utter_ask_booking_confirm", (*booking, "1"),
                 fresh=True),
    ]


def walks(language: str) -> list[Question]:
    report = ("4", "1", ADDRESS[language])
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
        *booking_questions(),
    ]


TELEGRAM_QUESTIONS = ("main menu", "offer of a person", "which office?",
                      "where are you? (nearest office)", "report: kind", "booking: day")
# WhatsApp is SMS's path (one webhook, one renderer but the length): a subset walks it.
WHATSAPP_QUESTIONS = ("main menu", "offer of a person", "which service?", "status: reference",
                      "report: photo", "booking: time")


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
                found.add(name, language or "en", variation)
        return found

    def add(self, name: str, code: str, variation: dict[str, Any]) -> None:
        pieces = _pieces(variation)
        self.by_response.setdefault(name, {})[code] = pieces
        for piece in pieces:
            self.language_of_piece.setdefault(piece, set()).add(code)

    def says(self, reply: str, response: str, language: str) -> bool:
        """Whether ``reply`` contains the longest literal part of ``response`` in
        ``language``."""
        pieces = self.by_response[response].get(language) or self.by_response[response]["en"]
        return max(pieces, key=len) in sms_text(reply)

    def languages(self, reply: str, prefix: int | None = None) -> set[str]:
        """The languages of the response texts found in ``reply`` (parts shared by several
        languages, like "MENU", say nothing); ``prefix``: their first characters are enough
        (a USSD page cuts a text at sentences)."""
        text = sms_text(reply)
        return {next(iter(codes)) for piece, codes in self.language_of_piece.items()
                if len(codes) == 1 and piece[:prefix] in text}

    def begins(self, screen: str, response: str, language: str) -> bool:
        """Whether a USSD ``screen`` shows ``response`` (or its voice twin, which a keypad
        question says) in ``language``: the first characters of one of its parts."""
        found = [self.by_response[name].get(language) or []
                 for name in (response, response + "__voice") if name in self.by_response]
        text = sms_text(screen)
        return any(piece[:USSD_PREFIX] in text for pieces in found for piece in pieces)

    def add_words(self, words: dict[str, dict[str, str]]) -> Texts:
        """USSD's own words (read-backs, "Go on by SMS"), as parts of their languages."""
        for name, by_language in words.items():
            for code, word in by_language.items():
                self.add(f"ussd:{name}", code, {"text": word})
        return self


TEXTS = Texts.load()
USSD_PREFIX = 24  # characters of a text enough to recognise it on a USSD page
USSD_WORDS = Texts.load().add_words(USSD_TEXTS)


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
    seconds: float = 0.0  # its share of its job's time (the walks, the reply, the menu)


class SmsPerson:
    """One phone texting the signed SMS webhook (``whatsapp``: writing on WhatsApp, which
    Twilio posts to the same webhook)."""

    def __init__(self, stack: Stack, whatsapp: bool = False) -> None:
        self.client = SmsClient(channel_hooks(stack), phone(), whatsapp=whatsapp)

    def start(self, language: str) -> str:
        return "\n".join(self(GREETING[language]))

    def __call__(self, text: str) -> list[str]:
        reply = self.client.send(text)
        assert reply.status == 200, reply.raw
        assert len(re.findall(r"<Message", reply.raw)) == len(reply.bodies)
        return reply.bodies


class TelegramPerson:
    """One Telegram user; typed numbers pick buttons as on SMS."""

    def __init__(self, stack: Stack) -> None:
        self.client = TelegramClient(channel_hooks(stack), telegram_user())

    def start(self, language: str) -> str:
        return "\n".join(self(GREETING[language]))

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


def new_person(stack: Stack, channel: str) -> Any:
    """A new sender on ``channel``: ``start(language)`` greets (on USSD: dials and picks the
    language), then each call sends one reply."""
    if channel == "ussd":
        return UssdPerson(stack)
    if channel == "telegram":
        return TelegramPerson(stack)
    return SmsPerson(stack, whatsapp=channel == "whatsapp")


def run_question(stack: Stack, channel: str, language: str, question: Question,
                 replies: tuple[str, ...]) -> list[Pair]:
    """Each reply to ``question``: one sender for all of them (each walk after the first
    starts from the menu "menu" showed), or a new one for each if the question is ``fresh``."""
    pairs: list[Pair] = []
    person: Any = None
    menu = ""
    check = check_ussd_pair if channel == "ussd" else check_pair
    for reply in replies:
        pair = Pair(channel, language, question.name, reply, previous_menu=menu)
        pairs.append(pair)
        try:
            if person is None or question.fresh:
                person = new_person(stack, channel)
                pair.previous_menu = person.start(language)
            walk = [new_case(stack, None) if step == REFERENCE else step
                    for step in question.walk]
            shown = check(stack, person, pair, walk, question.asks)
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


# --- USSD: the keypad (or text) through Africa's Talking's callback ---------------------------

USSD_LANGUAGE_KEY = {language: str(number) for number, language in enumerate(LANGUAGES, 1)}
SILENCE = ""  # an empty answer: the caller pressed send with nothing typed
TIMEOUT = "(the session timed out)"  # no answer: the operator closed it; the next is a dial
# What a keypad (or a phone that types letters) can answer: "ok", yes, a number out of range, a
# day, "?", "I don't know", an empty answer and none at all. Every language hears yes, "I don't
# know" and both silences at every question; the whole battery one language per question.
USSD_BATTERY = {language: (*(replies[i] for i in (0, 1, 3, 4, 6, 7)), SILENCE, TIMEOUT)
                for language, replies in BATTERY.items()}
USSD_WORDED = (1, 5, 6, 7)  # yes, "I don't know", an empty answer, the session timing out


def ussd_walks() -> list[Question]:
    """The questions a USSD session asks, reached with the keys a person presses (the main
    menu numbered as on SMS: 1 status, 2 services, 3 offices, 4 a problem, 5 a booking, 6
    digital help); ``ussd:…`` names USSD's own screens (bot.language.vocabulary.USSD_TEXTS)."""
    return [
        Question("main menu", "utter_greet"),
        Question("which service?", "utter_ask_which_service", ("2",)),
        Question("which office?", "utter_ask_which_office", ("3",)),
        Question("after an office answer", "utter_office_details", ("3", "1")),
        Question("what digital help?", "utter_ask_digital_topic", ("6",)),
        Question("status: reference", "utter_ask_case_reference", ("1",)),
        Question("status: read-back", "ussd:read_back", ("1", REFERENCE)),
        Question("status: date of birth", "utter_ask_date_of_birth", ("1", REFERENCE, "1")),
        Question("report: kind", "utter_ask_problem_kind", ("4",)),
        Question("report: place (go on by SMS?)", "ussd:long_answer", ("4", "1")),
        *booking_questions(),
    ]


class UssdPerson:
    """One phone dialling the USSD code (tests.support.clients.Ussd checks every screen: 200,
    ``CON``/``END``, at most 182 characters); a step after the session closed dials again."""

    def __init__(self, stack: Stack) -> None:
        self.ussd = Ussd(stack)

    def start(self, language: str) -> str:
        """The first dial (the language menu) and the pick: the greeting."""
        self.ussd.dial()
        return self.ussd(USSD_LANGUAGE_KEY[language])

    def __call__(self, keys: str) -> str:
        if keys == TIMEOUT or not self.ussd.open:
            return self.ussd.dial()
        return self.ussd(keys)

    def menu(self, language: str) -> str:
        """The menu: "00", or a new dial when the session closed (and "00" if it opens on
        where a form stopped)."""
        if not self.ussd.open:
            screen = self.ussd.dial()
            if shows_menu(screen, language) or not self.ussd.open:
                return screen
        return self.ussd("00")


def shows_menu(screen: str, language: str) -> bool:
    return any(USSD_WORDS.begins(screen, name, language) for name in (MENU_RESPONSE,
                                                                       "utter_greet"))


def check_screen(stack: Stack, pair: Pair, screen: str, marks: dict[Path, int],
                 language: str | None) -> None:
    """What a USSD reply must be: a screen with words, in the session's language (unless it
    is not known yet), and Rasa's circuit breaker untouched."""
    if not screen.strip():
        pair.problems.append("an empty screen")
    found = USSD_WORDS.languages(screen, USSD_PREFIX)
    if language is not None and screen.strip() and language not in found:
        pair.problems.append(f"not in {language}")
    if language is not None and found - {language}:
        pair.problems.append(f"also in {found - {language}}")
    if "Circuit breaker" in stack.logs_since(marks):
        pair.problems.append("circuit breaker")


def check_ussd_pair(stack: Stack, person: UssdPerson, pair: Pair, walk: list[str],
                    asks: str) -> bool:
    """As :func:`check_pair`, on USSD: walk, answer, then the menu; whether it was shown."""
    language = pair.language
    screen = pair.previous_menu
    for step in walk:
        screen = person(step)
    if not (USSD_WORDS.begins(screen, asks, language)
            or (asks == "utter_greet" and shows_menu(screen, language))):
        pair.problems.append(f"the walk {walk} did not reach {asks}: {screen!r}")
        return False
    marks = stack.log_marks()
    reply = person(pair.reply)
    check_screen(stack, pair, reply, marks, language)
    pair.menu = person.menu(language)
    shown = shows_menu(pair.menu, language)
    if not shown:
        pair.problems.append(f"the menu afterwards did not show the menu: {pair.menu!r}")
    if pair.problems:
        pair.problems.append(f"screen: {reply!r}")
    return shown


def run_ussd_language_pair(stack: Stack, language: str, reply: str) -> Pair:
    """A first session's language menu, answered in ``language``'s words (or silence)."""
    pair = Pair("ussd", language, "language menu", reply)
    person = UssdPerson(stack)
    try:
        menu = person.ussd.dial()
        if not menu.startswith("CivicLine\n1. English"):
            pair.problems.append(f"no language menu: {menu!r}")
            return pair
        marks = stack.log_marks()
        screen = person(reply)
        check_screen(stack, pair, screen, marks, None)
        if pair.problems:
            pair.problems.append(f"screen: {screen!r}")
    except AssertionError as exc:
        pair.problems.append(f"webhook failed: {exc}")
    return pair


# --- The suite ---------------------------------------------------------------------------------

def battery(language: str, turn: int, replies: dict[str, tuple[str, ...]] = BATTERY,
            worded: tuple[int, ...] = WORDED) -> tuple[str, ...]:
    """The replies heard in ``language`` by the ``turn``-th question (see WORDED)."""
    if FULL or LANGUAGES[turn % len(LANGUAGES)] == language:
        return replies[language]
    return tuple(replies[language][i] for i in worded)


def all_jobs(stack: Stack) -> list[Callable[[], list[Pair]]]:
    """Each job: one question in one language on one channel, its replies in turn."""
    jobs: list[Callable[[], list[Pair]]] = []
    for language in LANGUAGES:
        for turn, question in enumerate(walks(language)):
            replies = battery(language, turn)
            channels = ["sms"]
            channels += ["telegram"] if question.name in TELEGRAM_QUESTIONS else []
            channels += ["whatsapp"] if question.name in WHATSAPP_QUESTIONS else []
            for channel in channels:
                jobs.append(lambda q=question, lang=language, rs=replies, c=channel:
                            run_question(stack, c, lang, q, rs))
        for turn, question in enumerate(ussd_walks()):
            replies = battery(language, turn, USSD_BATTERY, USSD_WORDED)
            jobs.append(lambda q=question, lang=language, rs=replies:
                        run_question(stack, "ussd", lang, q, rs))
        for reply in USSD_BATTERY[language]:
            if reply != TIMEOUT:  # a first dial never answered: nothing to check
                jobs.append(lambda r=reply, lang=language:
                            [run_ussd_language_pair(stack, lang, r)])
        for turn, stage in enumerate(("language menu", "main menu")):
            for reply in (*battery(language, turn), None):  # None: silence
                jobs.append(lambda s=stage, r=reply, lang=language:
                            [run_voice_pair(stack, lang, s, r)])
    return jobs


def share_of_time(pairs: list[Pair]) -> dict[str, float]:
    total = sum(p.seconds for p in pairs) or 1.0
    return {c: round(sum(p.seconds for p in pairs if p.channel == c) / total, 3)
            for c in sorted({p.channel for p in pairs})}


def timed(job: Callable[[], list[Pair]]) -> list[Pair]:
    """Run ``job``; each of its pairs carries its share of the time it took."""
    started = time.monotonic()
    pairs = job()
    for pair in pairs:
        pair.seconds = (time.monotonic() - started) / len(pairs)
    return pairs


def test_every_question_survives_every_generic_answer(own_stack: Stack) -> None:
    started = time.monotonic()
    jobs = all_jobs(own_stack)
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        pairs = [pair for done in pool.map(timed, jobs) for pair in done]
    seconds = round(time.monotonic() - started, 1)
    failed = [p for p in pairs if p.problems]
    questions = {(p.channel, p.question) for p in pairs}
    summary = {"pairs": len(pairs), "failed": len(failed), "questions": len(questions),
               "languages": list(LANGUAGES), "channels": sorted({p.channel for p in pairs}),
               "seconds": seconds,
               "per_channel": {c: sum(p.channel == c for p in pairs)
                               for c in sorted({p.channel for p in pairs})},
               # each channel's part of the jobs' time (the wall time is shared by the
               # parallel jobs and the machine's load; these shares are not)
               "share_of_time": share_of_time(pairs)}
    out = ROOT / "results" / "robustness.json"
    Path(out).parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"\nrobustness: {len(pairs)} (question x reply) pairs over {len(questions)} questions "
          f"in {seconds}s, {len(failed)} failed; per channel {summary['per_channel']}")
    assert "Circuit breaker" not in own_stack.full_logs()
    assert not failed, "\n".join(
        f"{p.channel} {p.language} [{p.question}] <- {p.reply!r}: {'; '.join(p.problems)}"
        for p in failed[:40])
