"""A USSD session, one gateway request at a time (SPEC §6.5). The channel (channels/ussd.py)
checks the address, parses, dedupes and calls Rasa; the session's logic is here.

Africa's Talking posts every answer of the session so far in ``text``, joined by ``*``: the
newest part is this request's answer, and the number of parts names the request (a gateway's
re-send of the same request gets the same screen: channels.common.once). The person is the
phone number the operator proves, so USSD, SMS and calls from one number share one person and
one Rasa conversation. What the last screen offered is kept per person
(:class:`bot.store.models.ChannelState`, channel ``ussd``): its texts, options, stage and page.

Stages (what the next key means):

* ``lang``: a person whose language is not known yet picks one (1-4), on their first session;
* ``resume``: a session that opens in the middle of a form says where they were: 1 goes on
  (the question again), 2 starts over;
* ``main``: a number picks an option; with no options, the digits are the answer;
* ``reference`` / ``date``: a case number (8 digits) or a date of birth as DDMMYYYY
  (:func:`bot.domain.dates.keyed_date`), read back: 1 uses it (only then does Rasa see it),
  2 types it again;
* ``long``: the form asks for words (what is wrong, where): "Go on by SMS" queues the question
  as an SMS through the outbox and closes the session; the reply to it goes on with the form.

The conversation with a person (handed off, SPEC §5.6): the turn that queues it closes the
session saying the reply comes by SMS (the agent's replies to a USSD user go by SMS:
bot.messaging.outbound); while it is paused Rasa answers nothing, and a key or a new session
is told that a person has the request and will contact them, and closes.

Everywhere: 9 and 0 turn the pages of a screen that does not fit, ``00`` leaves any form for
the menu.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from bot.callcentre import handoffs
from bot.domain import notifications, people
from bot.domain.dates import format_date, keyed_date
from bot.domain.references import REFERENCE_LENGTH, spoken
from bot.language import texts
from bot.language.detect import SUPPORTED
from bot.language.i18n import capitalised
from bot.messaging import inbound
from bot.messaging.media import NOT_WAITING, Waiting
from bot.messaging.messages import (
    EXPECTS_DATE,
    EXPECTS_REFERENCE,
    THEN_HANG_UP,
    BotMessage,
    Option,
    capped,
    last_options,
    turn_expects,
    twin_text,
)
from bot.messaging.ussd.render import (
    BACK_KEY,
    MORE_KEY,
    first_sentence,
    page_count,
    pick,
    screen,
    word,
)
from bot.store.models import Person

STAGE_LANGUAGE, STAGE_MAIN, STAGE_RESUME, STAGE_LONG = "lang", "main", "resume", "long"
STAGE_REFERENCE, STAGE_DATE = EXPECTS_REFERENCE, EXPECTS_DATE
STAGE_CONFIRM, STAGE_DATE_CONFIRM = "confirm", "dateok"
GREET = "/greet"
MENU_KEYS = "00"
# Payloads of USSD's own options: they never reach Rasa.
GO_ON, YES, AGAIN, BY_SMS = "ussd:go_on", "ussd:yes", "ussd:again", "ussd:sms"
LANGUAGE_PAYLOAD = "ussd:language:"
# Questions answered in words that a keypad cannot type: offered by SMS instead. A question
# whose answer is digits (a phone number) stays on the keypad.
KEYPAD_QUESTIONS = frozenset({"utter_ask_contact_phone"})
# Every language's name in that language: the menu a first session opens with.
OWN_NAMES = {"en": "English", "es": "Español", "fr": "Français", "ar": "العربية"}
HEADER = "CivicLine"
QUEUED = "utter_handoff_queued"  # "Write here and they will read it": on USSD, by SMS
VOICE_TWIN = "__voice"  # utter_x__voice: how the keypad of a call asks utter_x


@dataclass(frozen=True)
class UssdInput:
    """One request of a session, as the channel parsed it."""

    session_id: str
    answers: tuple[str, ...] = ()  # every answer of the session so far, oldest first

    @property
    def starting(self) -> bool:
        return not self.answers

    @property
    def answer(self) -> str:
        return self.answers[-1].strip() if self.answers else ""

    @property
    def external_id(self) -> str:
        return f"{self.session_id}:{len(self.answers)}"


@dataclass(frozen=True)
class UssdStep:
    """Answer ``screen`` now, or hand ``ask`` to Rasa and show its answer after ``intro``."""

    screen: str | None = None
    ask: str | None = None
    intro: tuple[str, ...] = ()


def parse_text(text: str) -> tuple[str, ...]:
    """The session's answers from Africa's Talking's ``text`` ("" at the start, "1*40217382")."""
    return tuple(text.split("*")) if text else ()


def session_known(session: Session, session_id: str, phone: str) -> bool:
    """Whether this session began here (its opening request was claimed) from ``phone``."""
    person = people.find(session, phone)
    owner = inbound.owner_of(session, inbound.USSD, f"{session_id}:0")
    return person is not None and owner == person.id


def _language(person: Person) -> str:
    return person.language or "en"


# --- what a screen shows, kept between requests ------------------------------------------------

def _view(session: Session, person: Person) -> dict[str, Any]:
    prompt = inbound.state(session, person, inbound.USSD).prompt
    return prompt if isinstance(prompt, dict) else {}


def _show(session: Session, person: Person, stage: str, lines: Sequence[str],
          options: Sequence[Option] = (), page: int = 0, question: Sequence[BotMessage] = (),
          intro: Sequence[str] = ()) -> str:
    """Remember the screen (``lines`` and ``options`` in ``stage``; ``question``: the bot
    messages it asks, for asking again or by SMS) and render its page after ``intro``."""
    if question or stage in (STAGE_LANGUAGE, STAGE_RESUME):
        kept = [m.to_json() for m in question]
    else:
        kept = _view(session, person).get("question") or []
    inbound.remember(session, person, inbound.USSD, options, prompt={
        "stage": stage, "lines": list(lines), "intro": list(intro), "page": page,
        "question": kept})
    return screen([*intro, *lines], options, person.language, page)


def _shown(view: dict[str, Any]) -> list[str]:
    """The texts of the screen kept in ``view``, its intro first (pages turn on them)."""
    return [*(view.get("intro") or []), *(view.get("lines") or [])]


def _again(session: Session, person: Person, intro: Sequence[str] | None = None,
           page: int = 0) -> str:
    """The last screen again: its ``page``, or after ``intro`` ("Sorry, try again."), kept
    with it so that "9 More" turns the pages of what was shown."""
    state = inbound.state(session, person, inbound.USSD)
    view = dict(_view(session, person))
    if not view.get("lines"):
        view["lines"] = [texts.text("utter_voice_welcome", _language(person))]
    if intro is not None:
        view["intro"] = list(intro)
    view["page"] = page
    state.prompt = view
    return screen(_shown(view), inbound.options(session, person, inbound.USSD),
                  person.language, page)


def _question(session: Session, person: Person, intro: Sequence[str] = ()) -> str:
    """The question the session was answering, asked again (after a read-back's "type it
    again", a wrong number, or on going on with a form)."""
    question = [BotMessage.from_json(m) for m in _view(session, person).get("question") or []]
    if not question:
        return _again(session, person, intro)
    return _render(session, person, question, intro)


# --- the request, before Rasa ------------------------------------------------------------------

def begin(session: Session, person: Person, ussd: UssdInput,
          waiting: Waiting = NOT_WAITING) -> UssdStep:
    """What to do with one request before Rasa sees anything. ``waiting``: the form the
    conversation is in the middle of (read by the channel when a session opens)."""
    if ussd.starting:
        if person.language is None:
            return UssdStep(_language_menu(session, person))
        return _greet(session, person, waiting)
    answer, view = ussd.answer, _view(session, person)
    stage, page = view.get("stage") or STAGE_MAIN, int(view.get("page") or 0)
    if answer == MENU_KEYS and stage != STAGE_LANGUAGE:
        return UssdStep(ask=inbound.MENU_PAYLOAD)
    options = inbound.options(session, person, inbound.USSD)
    count = page_count(_shown(view), options, person.language)
    if (answer == MORE_KEY and page + 1 < count) or (answer == BACK_KEY and page > 0):
        return UssdStep(_again(session, person, page=page + 1 if answer == MORE_KEY
                               else page - 1))
    if stage == STAGE_REFERENCE and len(answer) == REFERENCE_LENGTH:
        return UssdStep(_read_back(session, person, answer, STAGE_CONFIRM, spoken(answer)))
    if stage == STAGE_DATE:
        date = keyed_date(answer)
        if date is None:
            return UssdStep(_question(session, person, [_said("utter_voice_date_wrong",
                                                              person)]))
        return UssdStep(_read_back(session, person, answer, STAGE_DATE_CONFIRM,
                                   format_date(date, _language(person))))
    picked = pick(answer, options)
    if picked is not None:
        return _picked(session, person, ussd, picked)
    if stage == STAGE_REFERENCE:
        return UssdStep(_question(session, person,
                                  [_said("utter_voice_reference_wrong", person)]))
    if stage == STAGE_MAIN and not options and answer:
        return UssdStep(ask=inbound.user_text(answer))
    intro = [_said("utter_voice_not_understood", person)]
    if stage == STAGE_LANGUAGE:
        return UssdStep(_language_menu(session, person))
    return UssdStep(_again(session, person, intro))


def _said(name: str, person: Person) -> str:
    return texts.text(name, _language(person))


def _picked(session: Session, person: Person, ussd: UssdInput, payload: str) -> UssdStep:
    """An option of the screen: USSD's own (language, go on, read-back, SMS), or Rasa's."""
    state = inbound.state(session, person, inbound.USSD)
    if payload.startswith(LANGUAGE_PAYLOAD):
        people.set_language(session, person, payload[len(LANGUAGE_PAYLOAD):])
        return UssdStep(ask=GREET)
    if payload == GO_ON:
        return UssdStep(_question(session, person))
    if payload == YES:
        pending, state.pending = state.pending or "", None
        date = keyed_date(pending) if len(pending) == 8 and \
            _view(session, person).get("stage") == STAGE_DATE_CONFIRM else None
        return UssdStep(ask=date.isoformat() if date else pending)
    if payload == AGAIN:
        state.pending = None
        return UssdStep(_question(session, person))
    if payload == BY_SMS:
        return UssdStep(_by_sms(session, person, ussd))
    return UssdStep(ask=payload)


def _language_menu(session: Session, person: Person) -> str:
    options = [(OWN_NAMES[code], LANGUAGE_PAYLOAD + code) for code in SUPPORTED]
    return _show(session, person, STAGE_LANGUAGE, [HEADER], options)


def _greet(session: Session, person: Person, waiting: Waiting) -> UssdStep:
    """A session opens: where the person was in a form, if they are in the middle of one
    (1 goes on, 2 starts over), else the greeting and menu."""
    if not (waiting.form and waiting.question):
        return UssdStep(ask=GREET)
    language = _language(person)
    try:
        where = texts.text(f"utter_voice_resume_{waiting.form}", language)
    except KeyError:
        where = texts.text("utter_voice_resume_form", language)
    options = [(capitalised(texts.text("utter_voice_title_form_choice_continue", language)),
                GO_ON),
               (capitalised(texts.text("utter_voice_title_form_choice_restart", language)),
                inbound.MENU_PAYLOAD)]
    return UssdStep(_show(session, person, STAGE_RESUME, [where], options,
                          question=[waiting.question]))


def _read_back(session: Session, person: Person, digits: str, stage: str, value: str) -> str:
    inbound.state(session, person, inbound.USSD).pending = digits
    language = _language(person)
    return _show(session, person, stage, [word("read_back", language).format(value=value)],
                 [(word("yes", language), YES), (word("again", language), AGAIN)])


def _by_sms(session: Session, person: Person, ussd: UssdInput) -> str:
    """The long answer goes on by SMS: the question is queued to this phone (once per
    session), and the session closes saying so."""
    language = _language(person)
    question = [BotMessage.from_json(m) for m in _view(session, person).get("question") or []]
    asked = "\n".join(m.text for m in question if m.text)
    notifications.enqueue_text(session, person, f"{word('sms_intro', language)}\n{asked}",
                               language, key=f"ussd-{ussd.session_id}")
    inbound.remember(session, person, inbound.USSD, [], prompt={})
    return screen([word("sms_sent", language)], [], language, end=True)


# --- Rasa's answer -----------------------------------------------------------------------------

def answer(session: Session, person: Person, step: UssdStep,
           messages: Sequence[BotMessage]) -> str:
    """Rasa's answer as a screen; what it offers is remembered for the next request. No
    answer while a person has the conversation (Rasa's pause) closes the session saying so."""
    if not messages:
        if person.phone and handoffs.open_for(session, person.phone) is not None:
            inbound.remember(session, person, inbound.USSD, [], prompt={})
            return screen([word("with_person", person.language)], [], person.language,
                          end=True)
        return _again(session, person, [_said("utter_voice_not_understood", person)])
    return _render(session, person, capped(messages), step.intro)


def _long_question(message: BotMessage) -> bool:
    """A form question answered in words, which a keypad cannot type."""
    name = message.response or ""
    return (name.startswith("utter_ask_") and not message.buttons and not message.expects
            and name not in KEYPAD_QUESTIONS)


def _text(message: BotMessage, language: str) -> str:
    """A message's text on a screen; a keypad question (a case number, a date of birth) says
    its voice twin, which asks for the digits without the written forms ("like 31/12/1980")."""
    if message.expects and (message.response or "").startswith("utter_ask_"):
        return twin_text(message, language, VOICE_TWIN)
    if message.response == QUEUED:  # its twin without "write here", and how the reply comes
        return f"{twin_text(message, language, VOICE_TWIN)} {word('queued_by_sms', language)}"
    return message.text


def _render(session: Session, person: Person, messages: Sequence[BotMessage],
            intro: Sequence[str] = ()) -> str:
    language = _language(person)
    lines = [line for line in (_text(m, language) for m in messages) if line]
    queued = any(m.response == QUEUED for m in messages)
    if messages[-1].then == THEN_HANG_UP or (
            queued and page_count([*intro, *lines], [], language) == 1):
        inbound.remember(session, person, inbound.USSD, [], prompt={})
        return screen([*intro, *lines] or [word("goodbye", language)], [], language, end=True)
    options: list[Option] = last_options(messages)
    stage = turn_expects(messages) or STAGE_MAIN
    if stage == STAGE_DATE:
        lines.append(word("date_keys", language))
    elif stage == STAGE_MAIN and _long_question(messages[-1]):
        # The question's first sentence ("Where is it?"): the whole of it goes by SMS.
        stage = STAGE_LONG
        lines[-1:] = [first_sentence(lines[-1]), word("long_answer", language)]
        options = [(word("by_sms", language), BY_SMS),
                   (word("menu", language), inbound.MENU_PAYLOAD)]
    if not options:  # the way out of a question, or on after an answer
        lines.append(f"{MENU_KEYS} {word('menu', language)}")
    return _show(session, person, stage, lines, options, question=messages, intro=intro)
