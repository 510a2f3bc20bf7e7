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

import re
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
MAX_WORDS = 25  # the longest prompt a caller hears, whatever it reads (issue 9)
MORE_KEY, REPEAT_KEY, PERSON_KEY = "9", "*", "0"
# What a call may say before a prompt it repeats (bot.messaging.voice.turn): a key or words it
# did not get, silence, and for keypad questions what was wrong with the digits.
INTROS = ("utter_voice_not_understood", "utter_voice_no_input")
KEYPAD_INTROS = {EXPECTS_REFERENCE: "utter_voice_reference_wrong",
                 EXPECTS_DATE: "utter_voice_date_wrong"}
_WORD = re.compile(r"\w")


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


Layout = tuple[int, ...]  # how many options each page reads, in order


def _layout(options: Sequence[Option], layout: Layout | None) -> Layout:
    if layout:
        return layout
    count = len(options)
    return tuple(min(PAGE_SIZE, count - start) for start in range(0, count, PAGE_SIZE)) or (0,)


def page_count(options: Sequence[Option], layout: Layout | None = None) -> int:
    return len(_layout(options, layout))


def on_page(options: Sequence[Option], page: int, layout: Layout | None = None) -> list[Option]:
    """The options read on ``page`` (0-based): numbered 1 to its size there."""
    sizes = _layout(options, layout)
    if not 0 <= page < len(sizes):
        return []
    start = sum(sizes[:page])
    return list(options[start:start + sizes[page]])


def next_page(options: Sequence[Option], page: int, layout: Layout | None = None) -> int:
    """Where 9 leads: the next page, or back to the first from the last one."""
    return page + 1 if page + 1 < page_count(options, layout) else 0


def pick_on_page(digits: str, options: Sequence[Option], page: int,
                 layout: Layout | None = None) -> str | None:
    """The payload a key picks on ``page`` ("2" is the page's second option), or None."""
    shown = on_page(options, page, layout)
    if len(digits) == 1 and digits.isdigit() and 1 <= int(digits) <= len(shown):
        return shown[int(digits) - 1][1]
    return None


def spoken_words(lines: Iterable[str], language: str) -> int:
    """How many words a call says for ``lines`` ("1:" is one word; a reference read digit by
    digit is eight; a time said in full is several)."""
    return sum(1 for line in lines for token in speakable(line, language).split()
               if _WORD.search(token))


def _prompt_lines(texts_: Sequence[str], options: Sequence[Option], language: str,
                  more: str | None, expects: str | None) -> list[str]:
    """One prompt as said, in order: its texts, the page's options, "9: more", the keypad
    instruction (not when options are read: a key picks one), the keys."""
    lines = [*texts_, *option_lines(options, language)]
    if more:
        lines.append(more)
    if expects == EXPECTS_REFERENCE and not options:
        lines.append(texts.text("utter_voice_reference_keys", language))
    elif expects == EXPECTS_DATE:
        lines.append(texts.text("utter_voice_date_keys", language))
    lines.append(texts.text("utter_voice_keys", language))
    return lines


def layout_for(messages: Sequence[BotMessage], language: str) -> Layout:
    """How many of the turn's options each page reads so that every page, as first said or
    said again after any intro (:data:`INTROS`, which replace a menu's text:
    bot.messaging.voice.turn.reprompted), is at most :data:`MAX_WORDS` words: up to
    :data:`PAGE_SIZE` short menu options a page, fewer long ones made from data (a case, a
    booking). The same messages give the same layout when a key is pressed later."""
    options = turn_options(messages)
    if not options:
        return (0,)
    expects = turn_expects(messages)
    intros = [texts.text(name, language)
              for name in (*INTROS, *([KEYPAD_INTROS[expects]] if expects in KEYPAD_INTROS
                                      else []))]
    spoken = [voice_text(m, language) for m in messages if m.text]
    mores = [texts.text(name, language, digit=MORE_KEY)
             for name in ("utter_voice_more", "utter_voice_back_to_start")]

    def fits(chunk: Sequence[Option], first: bool, more: str | None) -> bool:
        leads = [spoken, *([i] for i in intros)] if first else [[], *([i] for i in intros)]
        return all(spoken_words(_prompt_lines(lead, chunk, language, more, expects), language)
                   <= MAX_WORDS for lead in leads)

    if len(options) <= PAGE_SIZE and fits(options, True, None):
        return (len(options),)
    more, back = mores  # "9: more" on each page but the last, "9: back to the start" there
    sizes: list[int] = []
    start = 0
    while start < len(options):
        size = next((k for k in range(min(PAGE_SIZE, len(options) - start), 0, -1)
                     if fits(options[start:start + k], not sizes,
                             back if start + k == len(options) else more)), 1)
        sizes.append(size)
        start += size
    return tuple(sizes)


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
                 intro: Sequence[str] = (), page: int = 0,
                 layout: Layout | None = None) -> VoiceTurn:
    """A bot turn as TwiML: the prompt in a ``<Gather>``, or a transfer, or a goodbye.

    ``intro`` is said first (e.g. "Sorry, I did not hear you." before a repeated prompt).
    ``page`` > 0 reads only that page of the options (the caller pressed 9 for more), as
    ``layout`` cuts them (default: :func:`layout_for` the messages; a prompt said again passes
    the layout of the prompt as first said).
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
    layout = layout or layout_for(messages, language)
    page = page if 0 <= page < page_count(options, layout) else 0
    listener = gather(response, action, language, keys=expects is not None,
                      single_key=bool(options),
                      hints=[h for t, p in options for h in (t, spoken_title(t, p, language))])
    spoken = [voice_text(m, language) for m in messages if m.text] if page == 0 else []
    more = None
    if page_count(options, layout) > 1:
        last = next_page(options, page, layout) == 0
        more = texts.text("utter_voice_back_to_start" if last else "utter_voice_more",
                          language, digit=MORE_KEY)
    for line in [*intro, *_prompt_lines(spoken, on_page(options, page, layout), language, more,
                                        expects)]:
        say(listener, line, language)
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
