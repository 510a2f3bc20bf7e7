"""Every rendering decision for the three media, in one place (SPEC §1.2, §6).

A bot turn is a list of :class:`BotMessage` (text, buttons, maybe an image, and the response's
``metadata`` markers from the domain). It becomes:

* **Every text medium**: a turn is at most :data:`MAX_TURN_MESSAGES` messages (SPEC §1.1, the
  SMS budget). The dialogue never produces more; if something still does, :func:`capped`
  keeps the first ones and the last (the question) and logs a warning. The options a bare
  number picks are those of the turn's *last* message with buttons (:func:`last_options`):
  numbering never runs on across messages.
* **SMS**: buttons as a numbered list inside the same message ("1. My application"); the turn's
  options are returned so the channel can remember them and turn a reply "1" into the payload.
  Typographic punctuation with a GSM-7 twin is replaced by it (’ -> ', – -> -), so Spanish and
  French stay in the cheaper alphabet when their letters allow; nothing else is changed. A turn
  whose text would exceed :data:`~bot.messaging.sms.encoding.MAX_SEGMENTS` segments is split into
  several
  messages at line, then sentence, then word boundaries -- never inside a word.
* **Telegram**: one message per bot message, buttons as an inline keyboard whose
  ``callback_data`` is the payload (a short database key when the payload is over Telegram's 64
  bytes, see :func:`callback_data`), text over 4096 UTF-16 units split at paragraph, sentence or
  word boundaries. Text goes out *without* a ``parse_mode``: Telegram then shows every character
  literally, so no Markdown escaping can go wrong (a reference like ``4021_7382`` or a ``*``
  in an office name stays as typed).
* **Voice**: TwiML built with ``twilio.twiml.voice_response``. Every prompt is a
  ``<Gather input="dtmf speech">`` with the caller's language for speech recognition,
  ``speechTimeout="auto"`` and ``actionOnEmptyResult`` (so silence comes back to us), holding
  ``<Say>`` in a voice that speaks that language. Buttons are read as "Press 1 or say: …" and
  the titles become speech ``hints``. References and phone numbers are read digit by digit.
  A response marked ``{expects: reference|date}`` collects keypad digits ending with ``#``;
  a message with ``custom: {dial: number}`` (the hand-off, actions/handoff.py) puts the caller
  through with ``<Dial>``; ``{then: hang_up}`` says goodbye and hangs up. Everything spoken
  sits inside the ``<Gather>``, so the caller can answer (press or speak) at any moment
  without waiting for the end of a menu.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import Gather, VoiceResponse

from bot.domain.dates import MONTH_DISPLAY
from bot.domain.offices import DAY_NAMES, DAY_SHORT
from bot.domain.references import normalise_digits
from bot.language import texts
from bot.language.detect import SUPPORTED
from bot.language.i18n import normalise
from bot.messaging.sms.encoding import MAX_SEGMENTS, segments
from bot.messaging.voice.menu import option_lines, spoken_title

logger = logging.getLogger(__name__)

Option = tuple[str, str]  # (title, payload)
# At most this many messages answer one user message, on every channel (SPEC §1.1).
MAX_TURN_MESSAGES = 3

EXPECTS_REFERENCE = "reference"
EXPECTS_DATE = "date"
THEN_HANG_UP = "hang_up"


@dataclass(frozen=True)
class BotMessage:
    """One message of a bot turn, whatever the channel."""

    text: str = ""
    buttons: tuple[Option, ...] = ()
    image: str | None = None
    expects: str | None = None  # EXPECTS_REFERENCE / EXPECTS_DATE
    then: str | None = None  # THEN_HANG_UP
    dial: str | None = None  # voice: put the caller through to this number
    # The domain response it came from and the values an action filled it with: a call says
    # the response's voice twin instead of the text, when it has one (see voice_text).
    response: str | None = None
    values: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_rasa(cls, message: Mapping[str, Any]) -> BotMessage:
        """From what Rasa hands an output channel (``BotUttered.message()``)."""
        buttons = tuple(
            (str(b.get("title") or b.get("payload") or ""), str(b.get("payload") or ""))
            for b in (message.get("buttons") or message.get("quick_replies") or [])
            if isinstance(b, Mapping) and b.get("payload")
        )
        metadata = message.get("metadata")
        metadata = metadata if isinstance(metadata, Mapping) else {}
        custom = message.get("custom")
        dial = custom.get("dial") if isinstance(custom, Mapping) else None
        image = message.get("image")
        response = message.get("utter_action") or message.get("template")
        values = {str(k): str(v) for k, v in message.items()
                  if isinstance(v, (str, int, float)) and not isinstance(v, bool)
                  and k not in _NOT_VALUES}
        return cls(text=str(message.get("text") or "").strip(), buttons=buttons,
                   image=str(image) if image else None, expects=metadata.get("expects"),
                   then=metadata.get("then"), dial=str(dial) if dial else None,
                   response=str(response) if response else None, values=values)

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "buttons": [list(b) for b in self.buttons],
                "image": self.image, "expects": self.expects, "then": self.then,
                "dial": self.dial, "response": self.response, "values": dict(self.values)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BotMessage:
        return cls(text=data.get("text") or "",
                   buttons=tuple((str(t), str(p)) for t, p in data.get("buttons") or []),
                   image=data.get("image"), expects=data.get("expects"), then=data.get("then"),
                   dial=data.get("dial"), response=data.get("response"),
                   values=dict(data.get("values") or {}))


# What Rasa puts in a bot message besides the values an action filled the response with.
_NOT_VALUES = frozenset({"text", "timestamp", "utter_action", "template", "response", "image",
                         "attachment", "recipient_id", "id"})


def turn_options(messages: Iterable[BotMessage]) -> list[Option]:
    """The turn's buttons in order: what "1", "2", … refer to (numbering runs across messages)."""
    return [button for message in messages for button in message.buttons]


def capped(messages: Sequence[BotMessage], limit: int = MAX_TURN_MESSAGES
           ) -> list[BotMessage]:
    """The turn as sent: repeats of the same message dropped, and at most ``limit`` messages
    (the first ones and the last, which holds the question). More is a bug in the dialogue
    (a turn that ran away), so it is logged as a warning."""
    unique: list[BotMessage] = []
    for message in messages:
        if message not in unique:
            unique.append(message)
    if len(unique) > limit:
        logger.warning("a turn of %d messages (%d different) was cut to %d",
                       len(messages), len(unique), limit)
        unique = [*unique[:limit - 1], unique[-1]]
    return unique


def last_options(messages: Sequence[BotMessage]) -> list[Option]:
    """The buttons of the turn's last message that has any: what "1", "2", … pick."""
    return next((list(m.buttons) for m in reversed(messages) if m.buttons), [])


def turn_expects(messages: Sequence[BotMessage]) -> str | None:
    """What the turn's last message asks for, if it is a reference or a date."""
    return messages[-1].expects if messages else None


_CHOICE = re.compile(r"^\s*#?\s*(\d{1,2})\s*[.)]?\s*$")


def pick_option(text: str, options: Sequence[Option]) -> str | None:
    """The payload a bare number picks ("2", " 2. ", "٢"), or None if it picks nothing."""
    match = _CHOICE.match(normalise_digits(text or ""))
    if not match:
        return None
    index = int(match.group(1))
    return options[index - 1][1] if 1 <= index <= len(options) else None


# --- SMS -------------------------------------------------------------------------------------

# Punctuation with a GSM-7 twin: replacing it keeps a Latin-script text in GSM-7 (SPEC §6.1).
_GSM7_TWINS = str.maketrans({
    "‘": "'", "’": "'", "‚": "'", "‛": "'", "“": '"', "”": '"', "„": '"', "«": '"', "»": '"',
    "–": "-", "—": "-", "‐": "-", "‑": "-", "−": "-", "…": "...", "\u00a0": " ", "\u202f": " ",
    "\u2009": " ", "\u200b": "", "•": "-", "\t": " ",
})
_SENTENCE_END = re.compile(r"(?<=[.!?؟…])\s+")


def sms_text(text: str) -> str:
    """``text`` with typographic punctuation replaced by its GSM-7 twin."""
    return text.translate(_GSM7_TWINS)


def sms_block(message: BotMessage, first_number: int = 1) -> str:
    """One bot message as SMS text: its text, then its buttons as a numbered list."""
    lines = [message.text] if message.text else []
    lines += [f"{number}. {title}" for number, (title, _) in
              enumerate(message.buttons, first_number)]
    if message.image:
        lines.append(message.image)
    return sms_text("\n".join(lines))


def _fits(text: str) -> bool:
    return segments(text) <= MAX_SEGMENTS


Piece = tuple[str, str]  # (separator before it, text)


def _by_sentences(text: str) -> list[Piece]:
    """Lines, and sentences within them, each with the separator that joined it."""
    pieces: list[Piece] = []
    for line_number, line in enumerate(text.split("\n")):
        for index, sentence in enumerate(s for s in _SENTENCE_END.split(line) if s):
            pieces.append(("\n" if index == 0 and line_number else " " if index else "",
                           sentence))
    return pieces


def _by_words(text: str) -> list[Piece]:
    return [(" " if index else "", word) for index, word in enumerate(text.split(" ")) if word]


def _by_characters(text: str) -> list[Piece]:
    """Last resort, for one "word" longer than the budget (a pasted link)."""
    return [("", ch) for ch in text]


_FINER = (_by_sentences, _by_words, _by_characters)


def _pack(pieces: Sequence[Piece], level: int = 0) -> list[str]:
    """Greedily join pieces into bodies that fit the budget; a piece that never fits is cut
    at the next finer boundary (sentences, then words, then characters)."""
    bodies: list[str] = []
    current = ""
    for separator, piece in pieces:
        candidate = current + separator + piece if current else piece
        if _fits(candidate):
            current = candidate
            continue
        if current:
            bodies.append(current)
        if _fits(piece):
            current = piece
        else:
            *full, current = _pack(_FINER[min(level, len(_FINER) - 1)](piece), level + 1)
            bodies.extend(full)
    if current:
        bodies.append(current)
    return bodies


def split_sms(text: str) -> list[str]:
    """``text`` as SMS bodies of at most MAX_SEGMENTS segments each, cut at boundaries."""
    return _pack([("", text)]) if text else []


@dataclass(frozen=True)
class SmsReply:
    """A turn as SMS: the message bodies to send, and the numbered options they offer."""

    bodies: list[str]
    options: list[Option] = field(default_factory=list)


def render_sms(messages: Sequence[BotMessage]) -> SmsReply:
    """A bot turn as SMS bodies (as few as fit the budget, never more than
    :data:`MAX_TURN_MESSAGES`) and its numbered options: the last message's buttons, numbered
    from 1 (an earlier message's buttons are not listed)."""
    messages = capped(messages)
    with_options = max((i for i, m in enumerate(messages) if m.buttons), default=-1)
    blocks: list[str] = []
    for index, message in enumerate(messages):
        shown = message if index == with_options else BotMessage(message.text,
                                                                  image=message.image)
        block = sms_block(shown)
        if block:
            blocks.append(block)
    bodies = _pack([("\n" if i else "", block) for i, block in enumerate(blocks)])
    if len(bodies) > MAX_TURN_MESSAGES:
        logger.warning("an SMS turn of %d bodies was cut to %d", len(bodies),
                       MAX_TURN_MESSAGES)
        bodies = bodies[:MAX_TURN_MESSAGES]
    return SmsReply(bodies=bodies, options=last_options(messages))


def twiml_messages(bodies: Iterable[str]) -> str:
    """A TwiML ``<Response>`` with one ``<Message>`` per body (none: an empty response)."""
    response = MessagingResponse()
    for body in bodies:
        response.message(body)
    return str(response)


# --- Telegram --------------------------------------------------------------------------------

TELEGRAM_MAX_UNITS = 4096
TELEGRAM_CALLBACK_MAX_BYTES = 64
CALLBACK_KEY_PREFIX = "#"  # callback_data "#12" is key 12; payloads always start with "/"


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_telegram(text: str, limit: int = TELEGRAM_MAX_UNITS) -> list[str]:
    """``text`` in chunks of at most ``limit`` UTF-16 units, cut at paragraph, line, sentence
    or word boundaries when there is one (Telegram counts UTF-16 units)."""
    chunks: list[str] = []
    rest = text
    while _utf16(rest) > limit:
        cut = _cut_point(rest, limit)
        chunks.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest or not chunks:
        chunks.append(rest)
    return chunks


def _cut_point(text: str, limit: int) -> int:
    """The index to cut ``text`` at: the last boundary that keeps the head within ``limit``."""
    end, units = 0, 0
    for index, ch in enumerate(text):  # the longest head within the limit
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > limit:
            break
        end = index + 1
    head = text[:end]
    for pattern in ("\n\n", "\n", ". ", "! ", "? ", " "):
        position = head.rfind(pattern)
        if position > 0:
            return position + len(pattern)
    return end


@dataclass(frozen=True)
class TelegramMessage:
    """One Telegram message: plain text, inline ``buttons`` as (title, callback_data), or a
    reply-keyboard key that shares the phone number, or the removal of that keyboard."""

    text: str
    buttons: tuple[Option, ...] = ()
    contact_button: str | None = None
    remove_keyboard: bool = False


def callback_data(payload: str, key_for: Callable[[str], int]) -> str:
    """The ``callback_data`` for a button: the payload itself when it fits Telegram's 64
    bytes, else ``#<key>`` where ``key_for`` stores the payload and returns its key."""
    if len(payload.encode("utf-8")) <= TELEGRAM_CALLBACK_MAX_BYTES and \
            not payload.startswith(CALLBACK_KEY_PREFIX):
        return payload
    return f"{CALLBACK_KEY_PREFIX}{key_for(payload)}"


def render_telegram(messages: Sequence[BotMessage], key_for: Callable[[str], int],
                    contact_label: str | None = None) -> list[TelegramMessage]:
    """A bot turn as Telegram messages; ``key_for`` stores payloads too long for a button.

    ``contact_label`` (for someone whose phone is not verified) adds a "share my phone
    number" key under a date-of-birth question: the other way to prove who they are (§5.1).
    """
    rendered: list[TelegramMessage] = []
    for message in capped(messages):
        text = "\n".join(part for part in (message.text, message.image) if part)
        if not text and message.buttons:
            text = "…"
        if not text:
            continue
        chunks = split_telegram(text)
        rendered += [TelegramMessage(chunk) for chunk in chunks[:-1]]
        buttons = tuple((title, callback_data(payload, key_for))
                        for title, payload in message.buttons)
        contact = (contact_label if message.expects == EXPECTS_DATE and not buttons
                   else None)
        rendered.append(TelegramMessage(chunks[-1], buttons, contact))
    if len(rendered) > MAX_TURN_MESSAGES:  # a text over 3 x 4096 units: not a reply
        logger.warning("a Telegram turn of %d messages was cut to %d", len(rendered),
                       MAX_TURN_MESSAGES)
        rendered = rendered[:MAX_TURN_MESSAGES]
    return rendered


# --- Voice -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class VoiceProfile:
    """How to speak and hear one language on Twilio."""

    say_language: str  # <Say language>
    voice: str  # <Say voice>: an Amazon Polly voice that speaks it
    gather_language: str  # <Gather language>: speech recognition (BCP-47)


VOICES: dict[str, VoiceProfile] = {
    "en": VoiceProfile("en-US", "Polly.Joanna", "en-US"),
    "es": VoiceProfile("es-US", "Polly.Lupe", "es-US"),
    "fr": VoiceProfile("fr-FR", "Polly.Lea", "fr-FR"),
    "ar": VoiceProfile("arb", "Polly.Zeina", "ar-SA"),
}
LANGUAGE_HINTS = ("English", "Español", "Spanish", "Français", "French", "Arabic", "عربي")
KEYPAD_TIMEOUT = 10  # seconds to find a letter and type a reference
MAX_HINTS = 100
# For the ear (SPEC §6.3): at most PAGE_SIZE options read per prompt, 9 for the next ones
# (on the last page, 9 goes back to the first), star repeats the prompt, zero is a person.
PAGE_SIZE = 4
MORE_KEY, REPEAT_KEY, PERSON_KEY = "9", "*", "0"
VOICE_TWIN = "__voice"  # utter_x__voice (domain/voice.yml) is how a call says utter_x
_REFERENCE_DIGITS = re.compile(r"(?<![\d/])(\d{4}) ?(\d{4})(?![\d/])")
_PHONE_DIGITS = re.compile(r"\+(\d{7,15})\b")
_UNFILLED = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")


def spoken_digits(digits: str) -> str:
    """'40217382' -> '4 0 2 1 7 3 8 2': read one digit at a time."""
    return " ".join(ch for ch in digits if ch.isdigit())


# --- days, times and dates spoken in full ---

_DAY_RANGE = {"en": "{first} to {last},", "es": "de {first} a {last},",
              "fr": "du {first} au {last},", "ar": "من {first} إلى {last}،"}
_DAY_ONE = {"en": "{day},", "es": "{day},", "fr": "le {day},", "ar": "{day}،"}
_TIME_RANGE = {"en": "{start} to {end}", "es": "de {start} a {end}",
               "fr": "de {start} à {end}", "ar": "من {start} إلى {end}"}
_TIME = r"([01]?\d|2[0-3])[:h]([0-5]\d)"
# A time, or a range of times, in one pass (what it produces is never read again).
_TIMES_RE = re.compile(rf"(?<![\d:/]){_TIME}(?:\s*[-–—]\s*{_TIME})?(?![\d:/])")


_ES_DOUBLE_ARTICLE = re.compile(r"\blas? (las?) (?=\d)")  # "a las las 10" -> "a las 10"


def spoken_time(hour: int, minute: int, language: str) -> str:
    """09:00 -> '9 in the morning', 16:30 -> '4:30 in the afternoon' (es, fr, ar alike)."""
    code = normalise(language)
    if code == "fr":  # French speaks the 24-hour clock: "17 heures 30"
        return f"{hour} heures" + (f" {minute:02d}" if minute else "")
    twelve = hour % 12 or 12
    clock = f"{twelve}:{minute:02d}" if minute else str(twelve)
    part = 0 if hour < 12 else 1 if hour < 18 else 2
    if code == "es":
        article = "la" if twelve == 1 else "las"
        return f"{article} {clock} " + ("de la mañana", "de la tarde", "de la noche")[part]
    if code == "ar":
        return f"{clock} " + ("صباحا", "ظهرا" if hour == 12 else "مساء", "مساء")[part]
    if hour == 12 and not minute:
        return "12 noon"
    return f"{clock} " + ("in the morning", "in the afternoon", "in the evening")[part]


def spoken_date(date: dt.date, language: str) -> str:
    """1985-03-12 -> 'the 12th of March 1985', 'el 12 de marzo de 1985', 'le 12 mars 1985'."""
    code = normalise(language)
    month = MONTH_DISPLAY[code][date.month - 1]
    if code == "en":
        suffix = "th" if 10 <= date.day % 100 <= 20 else \
            {1: "st", 2: "nd", 3: "rd"}.get(date.day % 10, "th")
        return f"the {date.day}{suffix} of {month} {date.year}"
    if code == "es":
        return f"el {date.day} de {month} de {date.year}"
    if code == "fr":
        return f"le {'1er' if date.day == 1 else date.day} {month} {date.year}"
    return f"{date.day} {month} {date.year}"


@lru_cache(maxsize=4)
def _day_pattern(code: str) -> re.Pattern[str]:
    names = sorted({*DAY_NAMES[code], *DAY_SHORT[code]}, key=len, reverse=True)
    day = "|".join(re.escape(n) for n in names)
    # A day (or a range of days) before opening hours: "Mon-Thu 09:00-17:00", "Sat 9:00"; not
    # a date ("mercredi 16 décembre à 14:00" stays as written, its time said in full).
    return re.compile(rf"(?<!\w)({day})\.?(?:\s*[-–—]\s*({day})\.?)?(?=\s+{_TIME})",
                      re.IGNORECASE)


def _full_day(name: str, code: str) -> str:
    lowered = name.lower()
    for index, short in enumerate(DAY_SHORT[code]):
        if lowered in (short.lower(), DAY_NAMES[code][index].lower()):
            return DAY_NAMES[code][index]
    return name


def spoken_hours(text: str, language: str) -> str:
    """Opening hours as said aloud: 'Mon-Thu 09:00-17:00' -> 'Monday to Thursday, 9 in the
    morning to 5 in the afternoon' (and 'de lunes a jueves, de las 9 de la mañana …')."""
    code = normalise(language)

    def days(match: re.Match[str]) -> str:
        first, last = match.group(1), match.group(2)
        if last:
            return _DAY_RANGE[code].format(first=_full_day(first, code),
                                           last=_full_day(last, code))
        return _DAY_ONE[code].format(day=_full_day(first, code))

    def times(match: re.Match[str]) -> str:
        start = spoken_time(int(match.group(1)), int(match.group(2)), code)
        if match.group(3) is None:
            return start
        return _TIME_RANGE[code].format(
            start=start, end=spoken_time(int(match.group(3)), int(match.group(4)), code))

    spoken = _TIMES_RE.sub(times, _day_pattern(code).sub(days, text))
    if code == "es":  # "a las {time}" written, the time said with its article: one article
        spoken = _ES_DOUBLE_ARTICLE.sub(r"\1 ", spoken)
    return spoken


def speakable(text: str, language: str = "en") -> str:
    """Text for <Say>: references and phone numbers digit by digit, days and times in full,
    no list bullets."""
    text = _PHONE_DIGITS.sub(lambda m: "+ " + spoken_digits(m.group(1)), text)
    text = _REFERENCE_DIGITS.sub(lambda m: spoken_digits(m.group(1) + m.group(2)), text)
    text = spoken_hours(text, language)
    return text.replace("\n", " ").strip()


def voice_text(message: BotMessage, language: str) -> str:
    """What a call says for ``message``: its response's voice twin (``utter_x__voice``, in
    domain/voice.yml) filled with the same values, when it has one; else its text.

    The twin exists wherever the text-message wording would be wrong on the phone ("send",
    "write", "MENU", a photo). One mechanism for every medium difference: Rasa's own
    ``channel:`` variations are not used, because Rasa prefers a channel match over the
    language condition (see domain/responses.yml).
    """
    if message.response:
        try:
            twin = texts.text(message.response + VOICE_TWIN, language, **message.values)
        except KeyError:
            return message.text
        if twin and not _UNFILLED.search(twin):
            return twin
    return message.text


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
