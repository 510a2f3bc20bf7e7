"""A phone call, one webhook request at a time (SPEC §6.3). The channel (channels/voice.py)
parses, checks the signature, dedupes and calls Rasa; the call's logic is here.

Each ``<Gather>`` posts back to the webhook with the next ``step`` (dedupe: CallSid:step), the
``stage`` it was listening in, how many ``silence``\\ s in a row came before and, in a long
menu, the ``page`` it read. Twilio signs the whole URL, so these come back as we sent them.
Stages:

* ``lang``: the language menu, for a caller whose language is not known yet;
* ``resume``: a call that opens in the middle of a form says where the caller was: 1 goes on
  (the form's question again), 2 starts over (the form is left, the menu read);
* ``main``: anything; keypad digits pick the options the last prompt read out, at most
  :data:`~bot.messaging.voice.render.PAGE_SIZE` a page (fewer when long ones would make the
  prompt over 25 words: :func:`~bot.messaging.voice.render.layout_for`), 9 for the next page
  (from the last, back to the first);
* ``reference`` / ``date``: keypad digits ending with ``#``: a case number (8 digits), a date
  of birth as DDMMYYYY (:func:`keyed_date`); anything else is refused with a retry. A
  reference prompt that also reads options (a caller's open cases) takes one key as a pick;
* ``confirm`` / ``dateok``: what was typed, read back (the number digit by digit, the date in
  words): 1 to use it, 2 to type it again. Only then does Rasa see it.

On every prompt, ``*`` repeats it and ``0`` asks for a person (the hand-off, which puts the
caller through with ``<Dial>`` when staff are on duty).

Silence re-prompts twice ("Sorry, I did not hear you." and the same prompt), then asks Rasa
for a person (``/request_human`` with ``handoff_reason: voice_no_input`` in the message
metadata, which actions/handoff.py records): the caller is put through when staff are on duty,
or told when they will be called back. Silence after that ends the call, with a goodbye: every
end of a call says goodbye first.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from bot.callcentre import handoffs
from bot.config import get_settings
from bot.domain import people
from bot.domain.dates import keyed_date
from bot.domain.references import REFERENCE_LENGTH
from bot.language import texts
from bot.language.detect import SUPPORTED, explicit_request
from bot.messaging import inbound
from bot.messaging.media import NOT_WAITING, Waiting
from bot.messaging.messages import (
    EXPECTS_DATE,
    EXPECTS_REFERENCE,
    BotMessage,
    turn_expects,
    turn_options,
)
from bot.messaging.voice.render import (
    MORE_KEY,
    PERSON_KEY,
    REPEAT_KEY,
    Layout,
    layout_for,
    next_page,
    page_count,
    pick_on_page,
    render_choice,
    render_goodbye,
    render_language_menu,
    render_read_back,
    render_transfer,
    render_voice,
)
from bot.messaging.voice.speech import spoken_date, spoken_digits
from bot.store.models import Person

STAGE_LANGUAGE, STAGE_MAIN, STAGE_CONFIRM = "lang", "main", "confirm"
STAGE_REFERENCE, STAGE_DATE = EXPECTS_REFERENCE, EXPECTS_DATE
STAGE_DATE_CONFIRM, STAGE_RESUME = "dateok", "resume"
STAGES = frozenset({STAGE_LANGUAGE, STAGE_MAIN, STAGE_CONFIRM, STAGE_REFERENCE, STAGE_DATE,
                    STAGE_DATE_CONFIRM, STAGE_RESUME})
MAX_REPROMPTS = 2  # then a person
GREET = "/greet"
HUMAN = "/request_human"
NO_INPUT_METADATA = {"handoff_reason": "voice_no_input"}
CONFIRM_KEY, RETYPE_KEY = "1", "2"
GO_ON_KEY, START_OVER_KEY = "1", "2"
YES_WORDS = frozenset({"yes", "yeah", "yep", "correct", "right", "si", "oui", "exact",
                       "exacto", "correcto", "نعم", "one", "uno", "un"})
NO_WORDS = frozenset({"no", "non", "nope", "wrong", "لا", "two", "dos", "deux"})
# Said on a call to leave a form ("To stop, say stop."): the SMS MENU keyword's voice twin.
STOP_WORDS = frozenset({"stop", "terminar", "parar", "arreter", "arrete", "توقف", "menu",
                        "main menu", "menu principal", "القائمة"})
# At the language menu each option is preceded by a word in its own language; a short one, so
# that four languages fit one prompt of 25 words: "Are you there?" after silence, "Try again."
# after a key that picks no language.
LANGUAGE_MENU_INTRO = {"utter_voice_no_input": "utter_voice_hello",
                       "utter_voice_not_understood": "utter_voice_sorry"}


@dataclass(frozen=True)
class CallInput:
    """One request of a call, as the channel parsed it."""

    call_sid: str
    webhook_url: str  # PUBLIC_BASE_URL + the webhook's path, without the query
    step: int = 0  # 0: the call has just started
    stage: str = STAGE_MAIN
    silence: int = 0
    digits: str = ""  # keypad digits and "*" ("#" ends them and is not included)
    speech: str = ""
    page: int = 0  # which page of a long menu the caller heard

    @property
    def external_id(self) -> str:
        return f"{self.call_sid}:{self.step}"

    @property
    def starting(self) -> bool:
        return self.step == 0

    @property
    def empty(self) -> bool:
        return not self.digits and not self.speech

    def action(self, stage: str, silence: int = 0, page: int = 0) -> str:
        """Where the next ``<Gather>`` posts: the next step, listening in ``stage``."""
        query = {"step": self.step + 1, "stage": stage, "silence": silence}
        if page:
            query["page"] = page
        return f"{self.webhook_url}?{urlencode(query)}"


@dataclass(frozen=True)
class VoiceStep:
    """Answer with ``twiml`` now, or hand ``ask`` (with ``metadata``) to Rasa and render its
    answer after ``intro``, listening next with ``silence`` silences counted so far."""

    twiml: str | None = None
    ask: str | None = None
    metadata: dict[str, str] | None = None
    intro: tuple[str, ...] = ()
    silence: int = 0


def _language(person: Person) -> str:
    return person.language or "en"


def begin(session: Session, person: Person, call: CallInput,
          waiting: Waiting = NOT_WAITING) -> VoiceStep:
    """What to do with one request of a call before Rasa sees anything.

    ``waiting``: the form the conversation is in the middle of (read from Rasa's tracker by
    the channel when the call starts or the language is chosen), to offer going on with it.
    """
    if call.starting:
        if person.language is None:
            return VoiceStep(render_language_menu(call.action(STAGE_LANGUAGE), welcome=True))
        return _greet(session, person, call, waiting)
    if call.empty:
        return _silence(session, person, call)
    if call.digits == REPEAT_KEY:
        return VoiceStep(_repeat(session, person, call))
    if call.digits == PERSON_KEY:
        return VoiceStep(ask=HUMAN)
    if call.stage == STAGE_LANGUAGE:
        return _choose_language(session, person, call, waiting)
    if call.stage == STAGE_RESUME:
        return _resume(session, person, call)
    if call.stage in (STAGE_CONFIRM, STAGE_DATE_CONFIRM):
        return _confirm(session, person, call)
    if call.stage == STAGE_REFERENCE and call.digits:
        return _keyed_reference(session, person, call)
    if call.stage == STAGE_DATE and call.digits:
        return _keyed_date(session, person, call)
    if call.digits:
        return _menu_key(session, person, call)
    if inbound.bare(call.speech) in STOP_WORDS:
        return VoiceStep(ask=inbound.MENU_PAYLOAD)
    return VoiceStep(ask=inbound.user_text(call.speech) or GREET)


def answer(session: Session, person: Person, call: CallInput, step: VoiceStep,
           messages: Sequence[BotMessage]) -> str:
    """Rasa's answer as TwiML; its options and the prompt itself are remembered. No answer
    while a person has the conversation (Rasa's pause: asked for by SMS, say) puts the caller
    through to the call centre, never "Sorry, try again"."""
    if not messages:
        if person.phone and handoffs.open_for(session, person.phone) is not None:
            return render_transfer(_language(person), get_settings().call_centre_number)
        return _prompt(session, person, call, [texts.text("utter_voice_not_understood",
                                                          _language(person))])
    stage = turn_expects(messages) or STAGE_MAIN
    turn = render_voice(messages, _language(person), call.action(stage, step.silence),
                        intro=step.intro)
    if not turn.ends_call:
        inbound.remember(session, person, inbound.VOICE, turn.options,
                         prompt=[m.to_json() for m in messages])
    return turn.twiml


def _greet(session: Session, person: Person, call: CallInput, waiting: Waiting) -> VoiceStep:
    """The first prompt once the language is known: where the caller was in a form, if they
    are in the middle of one (never its bare question), else the greeting and menu."""
    if waiting.form and waiting.question:
        state = inbound.state(session, person, inbound.VOICE)
        state.pending = waiting.form
        inbound.remember(session, person, inbound.VOICE, turn_options([waiting.question]),
                         prompt=[waiting.question.to_json()])
        return VoiceStep(_resume_offer(person, call, waiting.form))
    return VoiceStep(ask=GREET)


def _resume_offer(person: Person, call: CallInput, form: str, intro: Sequence[str] = (),
                  silence: int = 0) -> str:
    language = _language(person)
    try:
        where = texts.text(f"utter_voice_resume_{form}", language)
    except KeyError:
        where = texts.text("utter_voice_resume_form", language)
    return render_choice([*intro, where, texts.text("utter_voice_resume", language)], language,
                         call.action(STAGE_RESUME, silence))


def _resume(session: Session, person: Person, call: CallInput) -> VoiceStep:
    state = inbound.state(session, person, inbound.VOICE)
    words = set(inbound.bare(call.speech).split())
    if call.digits == GO_ON_KEY or (words & YES_WORDS and not words & NO_WORDS):
        state.pending = None
        return VoiceStep(_prompt(session, person, call, []))
    if call.digits == START_OVER_KEY or words & NO_WORDS:
        state.pending = None
        return VoiceStep(ask=inbound.MENU_PAYLOAD)
    return VoiceStep(_repeat(session, person, call, intro_name="utter_voice_not_understood"))


def _not_understood(person: Person) -> str:
    return texts.text("utter_voice_not_understood", _language(person))


def _menu_key(session: Session, person: Person, call: CallInput) -> VoiceStep:
    """A key at a prompt: an option of the page read, 9 for the next page, or a retry."""
    offered = inbound.options(session, person, inbound.VOICE)
    if not offered:  # a question without options: the digits are the answer (a house number)
        return VoiceStep(ask=call.digits)
    layout = _prompt_layout(session, person)
    if call.digits == MORE_KEY and page_count(offered, layout) > 1:
        return VoiceStep(_prompt(session, person, call, [],
                                 page=next_page(offered, call.page, layout)))
    picked = pick_on_page(call.digits, offered, call.page, layout)
    if picked is None:
        return VoiceStep(_prompt(session, person, call, [_not_understood(person)],
                                 page=call.page))
    return VoiceStep(ask=picked)


def _keyed_reference(session: Session, person: Person, call: CallInput) -> VoiceStep:
    """A case number typed: 8 digits are read back for confirmation; anything else ("123",
    a star inside) is refused and the question asked again. When the prompt also read options
    (the caller's open cases, "a person"), one key picks one of them ("1#", or 1 and wait)."""
    language = _language(person)
    offered = inbound.options(session, person, inbound.VOICE)
    if offered and len(call.digits) == 1:
        layout = _prompt_layout(session, person)
        if call.digits == MORE_KEY and page_count(offered, layout) > 1:
            return VoiceStep(_prompt(session, person, call, [],
                                     page=next_page(offered, call.page, layout)))
        picked = pick_on_page(call.digits, offered, call.page, layout)
        if picked is not None:
            return VoiceStep(ask=picked)
    if len(call.digits) != REFERENCE_LENGTH or not call.digits.isdigit():
        return VoiceStep(_prompt(session, person, call,
                                 [texts.text("utter_voice_reference_wrong", language)]))
    inbound.state(session, person, inbound.VOICE).pending = call.digits
    return VoiceStep(render_read_back(spoken_digits(call.digits), language,
                                      call.action(STAGE_CONFIRM)))


def _keyed_date(session: Session, person: Person, call: CallInput) -> VoiceStep:
    """A date of birth typed: a real DDMMYYYY date is read back in words; anything else is
    refused and the question asked again."""
    language = _language(person)
    date = keyed_date(call.digits)
    if date is None:
        return VoiceStep(_prompt(session, person, call,
                                 [texts.text("utter_voice_date_wrong", language)]))
    inbound.state(session, person, inbound.VOICE).pending = call.digits
    return VoiceStep(_date_read_back(date, language, call.action(STAGE_DATE_CONFIRM)))


def _date_read_back(date: dt.date, language: str, action: str, intro: Sequence[str] = ()
                    ) -> str:
    return render_read_back(spoken_date(date, language), language, action, intro,
                            response_name="utter_voice_date_read_back")


def _silence(session: Session, person: Person, call: CallInput) -> VoiceStep:
    language = _language(person)
    heard_nothing = texts.text("utter_voice_no_input", language)
    if call.silence > MAX_REPROMPTS:  # a person was offered already: end, with a goodbye
        return VoiceStep(render_goodbye(language, intro=[heard_nothing]))
    if call.silence == MAX_REPROMPTS:
        return VoiceStep(ask=HUMAN, metadata=dict(NO_INPUT_METADATA), intro=(heard_nothing,),
                         silence=MAX_REPROMPTS + 1)
    return VoiceStep(_repeat(session, person, call, call.silence + 1, "utter_voice_no_input"))


def _repeat(session: Session, person: Person, call: CallInput, silence: int = 0,
            intro_name: str | None = None) -> str:
    """The stage's prompt again (star; silence or a key that means nothing there, with
    ``intro_name`` said first: "Sorry, I did not hear you.")."""
    language = _language(person)
    intro = [texts.text(intro_name, language)] if intro_name else []
    if call.stage == STAGE_LANGUAGE:
        return render_language_menu(call.action(STAGE_LANGUAGE, silence), welcome=False,
                                    intro=LANGUAGE_MENU_INTRO.get(intro_name or "", intro_name))
    pending = inbound.state(session, person, inbound.VOICE).pending or ""
    if call.stage == STAGE_RESUME:
        return _resume_offer(person, call, pending, intro, silence)
    if call.stage == STAGE_CONFIRM and pending:
        return render_read_back(spoken_digits(pending), language,
                                call.action(STAGE_CONFIRM, silence), intro)
    date = keyed_date(pending) if call.stage == STAGE_DATE_CONFIRM else None
    if date is not None:
        return _date_read_back(date, language, call.action(STAGE_DATE_CONFIRM, silence), intro)
    return _prompt(session, person, call, intro, silence, page=call.page)


def _prompt(session: Session, person: Person, call: CallInput, intro: list[str],
            silence: int = 0, page: int = 0) -> str:
    """The last prompt again (after silence, a star, a wrong key, or when Rasa said
    nothing), or the ``page`` of its options that 9 leads to."""
    messages = _stored_prompt(session, person)
    if not messages:
        messages = [BotMessage(texts.text("utter_voice_welcome", _language(person)))]
    stage = turn_expects(messages) or STAGE_MAIN
    layout = layout_for(messages, _language(person))  # as first said: the same pages
    return render_voice(reprompted(messages, intro), _language(person),
                        call.action(stage, silence, page), intro=intro, page=page,
                        layout=layout).twiml


def _stored_prompt(session: Session, person: Person) -> list[BotMessage]:
    state = inbound.state(session, person, inbound.VOICE)
    return [BotMessage.from_json(m) for m in state.prompt or []]


def _prompt_layout(session: Session, person: Person) -> Layout:
    """How the last prompt's options were cut into pages (what a key on a page picks)."""
    return layout_for(_stored_prompt(session, person), _language(person))


def reprompted(messages: Sequence[BotMessage], intro: Sequence[str]) -> list[BotMessage]:
    """The prompt said again after ``intro`` ("Sorry, try again.", "Are you there?"): a menu
    or a keypad question without its text, which was just heard (star says it all again), so
    that what went wrong, the options and the keys stay one prompt of 25 words; a question to
    answer in words keeps its text (it is all the caller has)."""
    if not intro or not (turn_options(messages) or turn_expects(messages)):
        return list(messages)
    return [dataclasses.replace(message, text="") for message in messages]


def _choose_language(session: Session, person: Person, call: CallInput,
                     waiting: Waiting) -> VoiceStep:
    code = None
    if call.digits[:1].isdigit() and 1 <= int(call.digits[:1]) <= len(SUPPORTED):
        code = SUPPORTED[int(call.digits[:1]) - 1]
    elif call.speech:
        named = explicit_request(call.speech)
        code = named if named in SUPPORTED else None
    if code is None:  # said in every language: the caller's is not known yet
        return VoiceStep(render_language_menu(call.action(STAGE_LANGUAGE), welcome=False,
                                              intro="utter_voice_sorry"))
    people.set_language(session, person, code)
    return _greet(session, person, call, waiting)


def _confirm(session: Session, person: Person, call: CallInput) -> VoiceStep:
    """1 (or yes) hands what was typed to Rasa (a date as ISO: one reading only); 2 (or no)
    asks the question again."""
    state = inbound.state(session, person, inbound.VOICE)
    words = set(inbound.bare(call.speech).split())
    yes = call.digits == CONFIRM_KEY or bool(words & YES_WORDS and not words & NO_WORDS)
    no = call.digits == RETYPE_KEY or bool(words & NO_WORDS)
    date = keyed_date(state.pending or "") if call.stage == STAGE_DATE_CONFIRM else None
    if yes and state.pending:
        pending, state.pending = state.pending, None
        return VoiceStep(ask=date.isoformat() if date else pending)
    if no or not state.pending:
        state.pending = None
        return VoiceStep(_prompt(session, person, call, []))
    return VoiceStep(_repeat(session, person, call, intro_name="utter_voice_not_understood"))
