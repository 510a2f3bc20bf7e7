"""A phone call, one webhook request at a time (SPEC §6.3). The channel (channels/voice.py)
parses, checks the signature, dedupes and calls Rasa; the call's logic is here.

Each ``<Gather>`` posts back to the webhook with the next ``step`` (dedupe: CallSid:step), the
``stage`` it was listening in and how many ``silence``\\ s in a row came before. Twilio signs the
whole URL, so these come back as we sent them. Stages:

* ``lang``: the language menu, for a caller whose language is not known yet;
* ``main``: anything; keypad digits pick the numbered options the last prompt read out;
* ``reference`` / ``date``: keypad digits ending with ``#`` (a case number, a date of birth);
* ``confirm``: a typed reference read back digit by digit: 1 to confirm, 2 to type it again.

Silence re-prompts twice ("Sorry, I did not hear you." and the same prompt), then asks Rasa
for a person (``/request_human`` with ``handoff_reason: voice_no_input`` in the message
metadata, which actions/handoff.py records): the caller is put through when staff are on duty,
or told when they will be called back. Silence after that ends the call, with a goodbye: every
end of a call says goodbye first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from bot import dates, inbound, people, texts
from bot.language import SUPPORTED, explicit_request
from bot.models import Person
from bot.render import (
    EXPECTS_DATE,
    EXPECTS_REFERENCE,
    BotMessage,
    pick_option,
    render_goodbye,
    render_language_menu,
    render_read_back,
    render_voice,
    turn_expects,
)

STAGE_LANGUAGE, STAGE_MAIN, STAGE_CONFIRM = "lang", "main", "confirm"
STAGE_REFERENCE, STAGE_DATE = EXPECTS_REFERENCE, EXPECTS_DATE
STAGES = frozenset({STAGE_LANGUAGE, STAGE_MAIN, STAGE_CONFIRM, STAGE_REFERENCE, STAGE_DATE})
MAX_REPROMPTS = 2  # then a person
GREET = "/greet"
HUMAN = "/request_human"
NO_INPUT_METADATA = {"handoff_reason": "voice_no_input"}
CONFIRM_KEY, RETYPE_KEY = "1", "2"
YES_WORDS = frozenset({"yes", "yeah", "yep", "correct", "right", "si", "oui", "exact",
                       "exacto", "correcto", "نعم", "one", "uno", "un"})
NO_WORDS = frozenset({"no", "non", "nope", "wrong", "لا", "two", "dos", "deux"})


@dataclass(frozen=True)
class CallInput:
    """One request of a call, as the channel parsed it."""

    call_sid: str
    webhook_url: str  # PUBLIC_BASE_URL + the webhook's path, without the query
    step: int = 0  # 0: the call has just started
    stage: str = STAGE_MAIN
    silence: int = 0
    digits: str = ""
    speech: str = ""

    @property
    def external_id(self) -> str:
        return f"{self.call_sid}:{self.step}"

    @property
    def starting(self) -> bool:
        return self.step == 0

    @property
    def empty(self) -> bool:
        return not self.digits and not self.speech

    def action(self, stage: str, silence: int = 0) -> str:
        """Where the next ``<Gather>`` posts: the next step, listening in ``stage``."""
        query = urlencode({"step": self.step + 1, "stage": stage, "silence": silence})
        return f"{self.webhook_url}?{query}"


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


def begin(session: Session, person: Person, call: CallInput) -> VoiceStep:
    """What to do with one request of a call before Rasa sees anything."""
    if call.starting:
        if person.language is None:
            return VoiceStep(render_language_menu(call.action(STAGE_LANGUAGE), welcome=True))
        return VoiceStep(ask=GREET)
    if call.empty:
        return _silence(session, person, call)
    if call.stage == STAGE_LANGUAGE:
        return _choose_language(session, person, call)
    if call.stage == STAGE_CONFIRM:
        return _confirm(session, person, call)
    if call.stage == STAGE_REFERENCE and call.digits:
        inbound.state(session, person, inbound.VOICE).pending = call.digits[:32]
        return VoiceStep(render_read_back(call.digits, _language(person),
                                          call.action(STAGE_CONFIRM)))
    if call.stage == STAGE_DATE and call.digits:
        return VoiceStep(ask=keyed_date(call.digits))
    if call.digits:
        offered = inbound.options(session, person, inbound.VOICE)
        return VoiceStep(ask=pick_option(call.digits, offered) or call.digits)
    return VoiceStep(ask=inbound.user_text(call.speech) or GREET)


def answer(session: Session, person: Person, call: CallInput, step: VoiceStep,
           messages: Sequence[BotMessage]) -> str:
    """Rasa's answer as TwiML; its options and the prompt itself are remembered."""
    if not messages:
        return _prompt(session, person, call, [texts.text("utter_voice_not_understood",
                                                          _language(person))])
    stage = turn_expects(messages) or STAGE_MAIN
    turn = render_voice(messages, _language(person), call.action(stage, step.silence),
                        intro=step.intro)
    if not turn.ends_call:
        inbound.remember(session, person, inbound.VOICE, turn.options,
                         prompt=[m.to_json() for m in messages])
    return turn.twiml


def keyed_date(digits: str) -> str:
    """A date typed on the keypad, day month year, as one unambiguous ISO date:
    '12031985' -> '1985-03-12', '120385' -> '1985-03-12' (the keypad order is known, so it
    is one date, not the two that '12/03/1985' could be)."""
    if len(digits) in (6, 8) and digits.isdigit():
        year = int(digits[4:]) if len(digits) == 8 else dates.full_year(int(digits[4:]))
        return f"{year:04d}-{digits[2:4]}-{digits[:2]}"
    return digits


def _silence(session: Session, person: Person, call: CallInput) -> VoiceStep:
    language = _language(person)
    heard_nothing = texts.text("utter_voice_no_input", language)
    if call.silence > MAX_REPROMPTS:  # a person was offered already: end, with a goodbye
        return VoiceStep(render_goodbye(language, intro=[heard_nothing]))
    if call.silence == MAX_REPROMPTS:
        return VoiceStep(ask=HUMAN, metadata=dict(NO_INPUT_METADATA), intro=(heard_nothing,),
                         silence=MAX_REPROMPTS + 1)
    silence = call.silence + 1
    if call.stage == STAGE_LANGUAGE:
        return VoiceStep(render_language_menu(call.action(STAGE_LANGUAGE, silence),
                                              welcome=False, intro=[heard_nothing]))
    if call.stage == STAGE_CONFIRM:
        pending = inbound.state(session, person, inbound.VOICE).pending or ""
        return VoiceStep(render_read_back(pending, language,
                                          call.action(STAGE_CONFIRM, silence), [heard_nothing]))
    return VoiceStep(_prompt(session, person, call, [heard_nothing], silence))


def _prompt(session: Session, person: Person, call: CallInput, intro: list[str],
            silence: int = 0) -> str:
    """The last prompt again (after silence, or when Rasa said nothing)."""
    state = inbound.state(session, person, inbound.VOICE)
    messages = [BotMessage.from_json(m) for m in state.prompt or []]
    if not messages:
        messages = [BotMessage(texts.text("utter_voice_welcome", _language(person)))]
    stage = turn_expects(messages) or STAGE_MAIN
    return render_voice(messages, _language(person), call.action(stage, silence),
                        intro=intro).twiml


def _choose_language(session: Session, person: Person, call: CallInput) -> VoiceStep:
    code = None
    if call.digits[:1].isdigit() and 1 <= int(call.digits[:1]) <= len(SUPPORTED):
        code = SUPPORTED[int(call.digits[:1]) - 1]
    elif call.speech:
        named = explicit_request(call.speech)
        code = named if named in SUPPORTED else None
    if code is None:
        again = texts.text("utter_voice_not_understood", "en")
        return VoiceStep(render_language_menu(call.action(STAGE_LANGUAGE), welcome=False,
                                              intro=[again]))
    people.set_language(session, person, code)
    return VoiceStep(ask=GREET)


def _confirm(session: Session, person: Person, call: CallInput) -> VoiceStep:
    state = inbound.state(session, person, inbound.VOICE)
    words = set(inbound.bare(call.speech).split())
    yes = call.digits == CONFIRM_KEY or bool(words & YES_WORDS and not words & NO_WORDS)
    no = call.digits == RETYPE_KEY or bool(words & NO_WORDS)
    if yes and state.pending:
        pending, state.pending = state.pending, None
        return VoiceStep(ask=pending)
    if no or not state.pending:
        state.pending = None
        return VoiceStep(_prompt(session, person, call, []))
    language = _language(person)
    return VoiceStep(render_read_back(state.pending, language, call.action(STAGE_CONFIRM),
                                      [texts.text("utter_voice_not_understood", language)]))
