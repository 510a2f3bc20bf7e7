"""A bot turn as TwiML for a call (SPEC §6.3), built with ``twilio.twiml.voice_response``.

Every prompt is a ``<Gather input="dtmf speech">`` with the caller's language for speech
recognition, ``speechTimeout="auto"`` and ``actionOnEmptyResult`` (so silence comes back to
us), holding ``<Say>`` in a voice that speaks that language (:data:`VOICES`). Buttons are read
as "Press 1 or say: …" and the titles become speech ``hints``. What is said is made speakable
first (:mod:`bot.messaging.voice.speech`: references and phone numbers digit by digit).
A response marked ``{expects: reference|date}`` collects keypad digits ending with ``#``;
a message with ``custom: {dial: number}`` (the hand-off, actions/handoff.py) puts the caller
through with ``<Dial>``; ``{then: hang_up}`` says goodbye and hangs up. Everything spoken sits
inside the ``<Gather>``, so the caller can answer (press or speak) at any moment without
waiting for the end of a menu.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from twilio.twiml.voice_response import Gather, VoiceResponse

from bot.language import texts
from bot.language.detect import SUPPORTED
from bot.language.i18n import normalise
from bot.language.vocabulary import LANGUAGE_HINTS, VOICES
from bot.messaging.messages import (
    EXPECTS_DATE,
    EXPECTS_REFERENCE,
    THEN_HANG_UP,
    BotMessage,
    Option,
    turn_expects,
    turn_options,
)
from bot.messaging.voice.menu import option_lines, spoken_title
from bot.messaging.voice.speech import speakable, voice_text

KEYPAD_TIMEOUT = 10  # seconds to find a letter and type a reference
MAX_HINTS = 100
# For the ear (SPEC §6.3): at most PAGE_SIZE options read per prompt, 9 for the next ones
# (on the last page, 9 goes back to the first), star repeats the prompt, zero is a person.
PAGE_SIZE = 4
MORE_KEY, REPEAT_KEY, PERSON_KEY = "9", "*", "0"


def say(parent: VoiceResponse | Gather, text: str, language: str) -> None:
    profile = VOICES[normalise(language)]
    parent.say(speakable(text, language), language=profile.say_language, voice=profile.voice)


def gather(response: VoiceResponse, action: str, language: str, *, keys: bool = False,
           single_key: bool = False, hints: Iterable[str] = ()) -> Gather:
    """The one way CivicLine listens: keypad and speech, in the caller's language.

    ``keys``: digits finished with ``#`` (references, dates); ``single_key``: a menu answered
    by one key press.
    """
    attributes: dict[str, Any] = {
        "input": "dtmf speech", "action": action, "method": "POST",
        "language": VOICES[normalise(language)].gather_language,
        "speech_timeout": "auto", "action_on_empty_result": True,
    }
    if keys:
        attributes.update(finish_on_key="#", timeout=KEYPAD_TIMEOUT)
    elif single_key:
        attributes["num_digits"] = 1
    words = [h.replace(",", " ").strip()[:100] for h in hints if h and h.strip()][:MAX_HINTS]
    if words:
        attributes["hints"] = ", ".join(dict.fromkeys(words))
    return response.gather(**attributes)


def say_keys(listener: Gather, language: str) -> None:
    """The end of every prompt: "Press star to repeat, or zero for a person." """
    say(listener, texts.text("utter_voice_keys", language), language)


def page_count(options: Sequence[Option]) -> int:
    return max(1, -(-len(options) // PAGE_SIZE))


def on_page(options: Sequence[Option], page: int) -> list[Option]:
    """The options read on ``page`` (0-based): numbered 1 to PAGE_SIZE there."""
    return list(options[page * PAGE_SIZE:(page + 1) * PAGE_SIZE])


def next_page(options: Sequence[Option], page: int) -> int:
    """Where 9 leads: the next page, or back to the first from the last one."""
    return page + 1 if page + 1 < page_count(options) else 0


def pick_on_page(digits: str, options: Sequence[Option], page: int) -> str | None:
    """The payload a key picks on ``page`` ("2" is the page's second option), or None."""
    shown = on_page(options, page)
    if len(digits) == 1 and digits.isdigit() and 1 <= int(digits) <= len(shown):
        return shown[int(digits) - 1][1]
    return None


@dataclass(frozen=True)
class VoiceTurn:
    """A turn as TwiML, with what the caller's next input means."""

    twiml: str
    options: list[Option]
    expects: str | None  # EXPECTS_REFERENCE / EXPECTS_DATE: the next keys are digits
    ends_call: bool = False


def _end_call(response: VoiceResponse, language: str, dial: str | None) -> None:
    """Put the caller through (``dial``), then goodbye: never a hang-up without a goodbye
    (after a transfer, the goodbye is heard if the call centre does not answer)."""
    if dial:
        response.dial(dial)
    say(response, texts.text("utter_voice_goodbye", language), language)
    response.hangup()


def render_voice(messages: Sequence[BotMessage], language: str, action: str,
                 intro: Sequence[str] = (), page: int = 0) -> VoiceTurn:
    """A bot turn as TwiML: the prompt in a ``<Gather>``, or a transfer, or a goodbye.

    ``intro`` is said first (e.g. "Sorry, I did not hear you." before a repeated prompt).
    ``page`` > 0 reads only that page of the options (the caller pressed 9 for more).
    """
    response = VoiceResponse()
    dial = next((m.dial for m in messages if m.dial), None)
    if dial or any(m.then == THEN_HANG_UP for m in messages):
        for line in intro:
            say(response, line, language)
        for message in messages:  # the chat goodbye ("write to us") gives way to the call's
            if message.text and message.then != THEN_HANG_UP:
                say(response, voice_text(message, language), language)
        _end_call(response, language, dial)
        return VoiceTurn(str(response), [], None, ends_call=True)
    options = turn_options(messages)
    expects = turn_expects(messages)
    page = page if 0 <= page < page_count(options) else 0
    listener = gather(response, action, language, keys=expects is not None,
                      single_key=bool(options),
                      hints=[h for t, p in options for h in (t, spoken_title(t, p, language))])
    for line in intro:
        say(listener, line, language)
    if page == 0:
        for message in messages:
            if message.text:
                say(listener, voice_text(message, language), language)
    for line in option_lines(on_page(options, page), language):
        say(listener, line, language)
    if page_count(options) > 1:
        last = next_page(options, page) == 0
        say(listener, texts.text("utter_voice_back_to_start" if last else "utter_voice_more",
                                 language, digit=MORE_KEY), language)
    if expects == EXPECTS_REFERENCE:
        say(listener, texts.text("utter_voice_reference_keys", language), language)
    elif expects == EXPECTS_DATE:
        say(listener, texts.text("utter_voice_date_keys", language), language)
    say_keys(listener, language)
    return VoiceTurn(str(response), options, expects)


def render_language_menu(action: str, welcome: bool, intro: str | None = None) -> str:
    """The voice language menu: each option spoken in its own language (SPEC §6.3).

    ``intro`` (a response name, e.g. "Sorry, I did not hear you.") is said in each language,
    in that language's voice, before its option: a caller whose language is not known yet
    understands it whichever it is.
    """
    response = VoiceResponse()
    listener = gather(response, action, "en", single_key=True, hints=LANGUAGE_HINTS)
    if welcome:
        say(listener, texts.text("utter_voice_welcome", "en"), "en")
    for digit, code in enumerate(SUPPORTED, 1):
        line = texts.text("utter_voice_language_option", code, digit=digit)
        if intro:
            line = f"{texts.text(intro, code)} {line}"
        say(listener, line, code)
    say_keys(listener, "en")
    return str(response)


def render_read_back(spoken: str, language: str, action: str, intro: Sequence[str] = (),
                     response_name: str = "utter_voice_read_back") -> str:
    """"You typed 4 0 2 1 7 3 8 2. If that is right, press 1. To type it again, press 2."
    (``spoken``: the digits one by one, or a date said in full.)"""
    response = VoiceResponse()
    listener = gather(response, action, language, single_key=True)
    for line in intro:
        say(listener, line, language)
    say(listener, texts.text(response_name, language, digits=spoken, date=spoken), language)
    say_keys(listener, language)
    return str(response)


def render_choice(lines: Sequence[str], language: str, action: str) -> str:
    """A prompt of the call itself (not Rasa's), answered with one key."""
    response = VoiceResponse()
    listener = gather(response, action, language, single_key=True)
    for line in lines:
        say(listener, line, language)
    say_keys(listener, language)
    return str(response)


def render_transfer(language: str, call_centre: str, intro: Sequence[str] = ()) -> str:
    """Put the caller through to a person: a short "connecting you", then ``<Dial>``."""
    response = VoiceResponse()
    for line in [*intro, texts.text("utter_voice_transfer", language)]:
        say(response, line, language)
    _end_call(response, language, call_centre)
    return str(response)


def render_goodbye(language: str, intro: Sequence[str] = ()) -> str:
    response = VoiceResponse()
    for line in intro:
        say(response, line, language)
    _end_call(response, language, None)
    return str(response)


def empty_voice_response() -> str:
    return str(VoiceResponse())


def render_wait(url: str) -> str:
    """For a replay that arrives while the first request is still being answered: wait a
    second and ask again (by then the first answer is stored and is given)."""
    response = VoiceResponse()
    response.pause(length=1)
    response.redirect(url, method="POST")
    return str(response)
