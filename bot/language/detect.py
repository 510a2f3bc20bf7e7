"""Which language a person writes in (SPEC §3), decided once here for every channel.

Three sources of evidence, strongest first:

1. An explicit request: a short message naming a language ("español", "in English please",
   "عربي") switches at once.
2. Script: Arabic letters mean Arabic (the only supported right-to-left language).
3. Words: the project's own training data per language (``data/nlu/<lang>.yml``) gives each
   language the words only it uses ("hola", "merci"); for short texts this beats statistics.
4. ``langdetect``, seeded (deterministic) and restricted to the four supported profiles.

Stickiness: digits, references, keywords and yes/no carry no evidence and never switch; a
first message sets the language when it can; switching an established language needs
confidence (:data:`SWITCH_CONFIDENCE`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml
from langdetect import DetectorFactory
from langdetect.detector_factory import PROFILES_DIRECTORY
from langdetect.lang_detect_exception import LangDetectException

from bot.config import PROJECT_ROOT
from bot.language.vocabulary import LANGUAGE_NAMES

SUPPORTED = ("en", "es", "fr", "ar")
DEFAULT = "en"
NLU_DIR = PROJECT_ROOT / "data" / "nlu"

FIRST_CONFIDENCE = 0.5
SWITCH_CONFIDENCE = 0.85

_ARABIC = re.compile(r"[\u0600-\u06FF\u0750-\u077F\uFB50-\uFDFF\uFE70-\uFEFF]")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)

# Words that carry no language evidence: yes/no, SMS keywords, fillers shared across languages.
NEUTRAL_WORDS = frozenset([
    "ok", "okay", "okey", "k", "yes", "no", "si", "oui", "non", "ya", "yeah", "yep", "nope",
    "nop", "vale", "d'accord", "dacord", "stop", "start", "stopall", "unsubscribe", "cancel",
    "end", "quit", "revoke", "optout", "unstop", "baja", "arret", "alta", "help", "info",
    "menu", "نعم", "لا",
])

# Words that ask for the language menu without naming a language.
LANGUAGE_MENU_WORDS = frozenset(
    {"/language", "language", "languages", "idioma", "idiomas", "langue", "langues", "لغة",
     "اللغة", "lang"}
)
EXPLICIT_MAX_WORDS = 6
# A language name right after one of these is refused, not asked for: "no hablo inglés",
# "je ne parle pas anglais", "I don't speak Spanish" ("don't" -> "don", "t").
_NEGATIONS = frozenset({"no", "not", "t", "dont", "cant", "cannot", "never", "ne", "pas", "n",
                        "nunca", "jamas", "jamais", "لا", "ما", "مش", "مو", "ليس", "لست"})
_NEGATION_WINDOW = 5
_CLAUSE = re.compile(r"[,.;:!?¡¿،؛؟]+")


def fold(text: str) -> str:
    """Lower-case and strip Latin accents ("Español" -> "espanol"); Arabic is kept as is."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


# Folded, as message words are ("بالإسبانية" -> "بالاسبانية").
_NAME_TO_CODE = {fold(name): code for code, names in LANGUAGE_NAMES.items() for name in names}


@dataclass(frozen=True)
class Detection:
    """A detected language with a confidence in [0, 1]."""

    language: str
    confidence: float


@lru_cache(maxsize=1)
def _factory() -> DetectorFactory:
    factory = DetectorFactory()
    profiles = [
        (Path(PROFILES_DIRECTORY) / code).read_text(encoding="utf-8") for code in SUPPORTED
    ]
    factory.load_json_profile(profiles)
    factory.set_seed(0)
    return factory


def _strip_annotations(example: str) -> str:
    return re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", example)


@lru_cache(maxsize=1)
def _training_words() -> dict[str, frozenset[str]]:
    """Every word of each language's training data (``data/nlu/<lang>.yml``)."""
    seen: dict[str, frozenset[str]] = {}
    for code in SUPPORTED:
        path = NLU_DIR / f"{code}.yml"
        found: set[str] = set()
        if path.is_file():
            document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            for block in document.get("nlu", []):
                for line in str(block.get("examples", "")).splitlines():
                    found.update(words(_strip_annotations(line.lstrip("- "))))
        seen[code] = frozenset(found)
    return seen


def _latin(word: str) -> bool:
    return not _ARABIC.search(word)


@lru_cache(maxsize=1)
def vocabulary() -> dict[str, frozenset[str]]:
    """Per language, the words of its training data that no other language's data uses.

    Arabic counts only its Arabic-script words: the Arabic data also holds Arabic written in
    Latin letters (Moroccan Darija, "bghit nchouf dossier dyali"), which is :func:`arabizi`,
    evidence of a *person* who may read Arabic or French, not of one language to answer in.
    """
    seen = dict(_training_words())
    seen["ar"] = frozenset(w for w in seen["ar"] if not _latin(w))
    exclusive = {}
    for code, found in seen.items():
        others = set().union(*(seen[other] for other in SUPPORTED if other != code))
        exclusive[code] = frozenset(w for w in found - others if len(w) > 1)
    return exclusive


@lru_cache(maxsize=1)
def arabizi_words() -> frozenset[str]:
    """Arabic in Latin letters: the Latin words of the Arabic training data ("bghit",
    "dyali", "salam") that neither the English, Spanish nor French data uses."""
    seen = _training_words()
    others = seen["en"] | seen["es"] | seen["fr"]
    return frozenset(w for w in seen["ar"] if _latin(w) and w not in others and len(w) > 1)


# Digits written for Arabic letters inside a Latin word: "wa7ed", "3afak", "l9it", "s2al".
_ARABIZI_DIGIT = re.compile(r"[a-z][2379]|[2379][a-z]")


def is_arabizi(text: str) -> bool:
    """Whether a message in Latin letters is Arabic written in them (Darija, Arabizi)."""
    folded = fold(text)
    if _ARABIC.search(folded):
        return False
    if any(_ARABIZI_DIGIT.search(token) for token in re.findall(r"[a-z0-9]+", folded)):
        return True
    return any(token in arabizi_words() for token in words(text))


def put_through_language(text: str) -> str | None:
    """The language to put someone new through to a person in, when their first message is
    too uncertain for an answer without the menu (a request for a person is never held up by
    it): Arabic for Darija in Latin letters ("bghit nhder m3a chi wa7ed"), whose writer reads
    Arabic; None (the default) for the rest, whose language is a guess."""
    return "ar" if is_arabizi(text) else None


def explicit_request(text: str) -> str | None:
    """The language a short message asks for by name ("in English please" -> "en"), or None.

    Returns ``"menu"`` for a bare request to change language without naming one.
    """
    tokens = words(text)
    if not tokens or len(tokens) > EXPLICIT_MAX_WORDS:
        return None
    wanted, refused = _named_languages(text)
    wanted -= refused
    if len(wanted) == 1:
        return wanted.pop()
    if refused and not wanted:  # "no hablo inglés": the language they wrote in, if another
        detection = detect(text)
        return detection.language if detection and detection.language not in refused else None
    stripped = fold(text).strip(" ?!.")
    if stripped in LANGUAGE_MENU_WORDS or (len(tokens) <= 2 and tokens[-1] in LANGUAGE_MENU_WORDS):
        return "menu"
    return None


def _named_languages(text: str) -> tuple[set[str], set[str]]:
    """Languages a message names, split into asked for and refused (negated in its clause)."""
    wanted: set[str] = set()
    refused: set[str] = set()
    for clause in _CLAUSE.split(fold(text)):
        negated_at: int | None = None  # the last negation not yet spent on a language name
        for index, token in enumerate(_WORD.findall(clause)):
            if token in _NEGATIONS:
                negated_at = index
                continue
            code = _NAME_TO_CODE.get(token)
            if code is None:
                continue
            # A negation refuses the first language named after it, a few words on ("no hablo
            # nada de inglés"); the next name is wanted again ("no español, quiero inglés").
            near = negated_at is not None and index - negated_at <= _NEGATION_WINDOW
            (refused if near else wanted).add(code)
            negated_at = None
    return wanted, refused


# A button's payload ("/check_application_status", '/find_office{"office": "x"}'): the words
# are the intent's name, English whatever language the person reads the button in.
_PAYLOAD = re.compile(r"^/\w+(\{.*\})?$", re.DOTALL)


def is_neutral(text: str) -> bool:
    """True when the text carries no language evidence (digits, references, yes/no, keywords,
    button payloads)."""
    if _PAYLOAD.match(text.strip()):
        return True
    return all(token in NEUTRAL_WORDS for token in words(text))


def detect(text: str) -> Detection | None:
    """The most likely supported language of ``text`` with a confidence, or None if no evidence."""
    tokens = words(text)
    if not tokens or is_neutral(text):
        return None
    letters = [ch for ch in text if ch.isalpha()]
    arabic = sum(1 for ch in letters if _ARABIC.match(ch))
    if letters and arabic / len(letters) > 0.5:
        return Detection("ar", 1.0)
    votes = _vocabulary_votes(tokens)
    statistics = _langdetect(text)
    ranked = sorted(votes.items(), key=lambda item: item[1], reverse=True)
    if ranked and (len(ranked) == 1 or ranked[0][1] > ranked[1][1]):
        best, count = ranked[0]
        if len(tokens) <= 3:
            return Detection(best, 0.9 if count == len(tokens) else 0.8)
        if count >= len(tokens) / 3:
            # Words only this language's training data uses, covering a third of the message or
            # more, outweigh the statistics (which mistake short Spanish for English, etc.).
            agrees = max(statistics, key=statistics.get, default=None) == best
            confidence = 0.6 + 0.3 * count / len(tokens) + (0.1 if agrees else 0.0)
            return Detection(best, round(min(confidence, 1.0), 3))
    # Weak or split vocabulary: the statistics decide, nudged by the vocabulary.
    scores = {code: statistics.get(code, 0.0) for code in SUPPORTED if code != "ar"}
    total_votes = sum(votes.values())
    for code, count in votes.items():
        scores[code] = scores.get(code, 0.0) * 0.6 + 0.4 * count / total_votes
    best = max(scores, key=scores.get)
    if scores[best] <= 0:
        return None
    confidence = scores[best]
    if len(tokens) <= 2 and not votes:
        confidence *= 0.7  # statistics on one or two unknown words are a guess
    return Detection(best, round(min(confidence, 1.0), 3))


def _vocabulary_votes(tokens: list[str]) -> dict[str, int]:
    vocab = vocabulary()
    votes: dict[str, int] = {}
    for token in tokens:
        for code, known in vocab.items():
            if token in known:
                votes[code] = votes.get(code, 0) + 1
    return votes


def _langdetect(text: str) -> dict[str, float]:
    detector = _factory().create()
    detector.append(text)
    try:
        return {item.lang: item.prob for item in detector.get_probabilities()}
    except LangDetectException:
        return {}


# A first message answered without asking needs at least this confidence (below: the menu).
MENU_CONFIDENCE = 0.75
# Words of two languages in one message ("hola I need ayuda"): mixed unless one has this many
# times the other's words.
_MIXED_RATIO = 3


def uncertain(text: str) -> bool:
    """Whether a first message's language is too weakly evidenced to answer in (SPEC §3):
    Arabic in Latin letters, a mix of languages, or one to three words without a word only one
    language's data uses, or statistics alone below :data:`MENU_CONFIDENCE`. Such a person is
    asked (the numbered language menu), never guessed at. A message without any evidence
    (digits, yes/no, keywords) is not uncertain: it gets the default, as before."""
    tokens = words(text)
    if not tokens or is_neutral(text):
        return False
    letters = [ch for ch in text if ch.isalpha()]
    if sum(1 for ch in letters if _ARABIC.match(ch)) / len(letters) > 0.5:
        return False
    if is_arabizi(text):
        return True
    counts = sorted(_vocabulary_votes(tokens).values(), reverse=True)
    if len(counts) > 1 and counts[0] < _MIXED_RATIO * counts[1]:
        return True
    if len(tokens) <= 3:
        return not counts
    detection = detect(text)
    return detection is None or detection.confidence < MENU_CONFIDENCE


@dataclass(frozen=True)
class Decision:
    """What language to answer in, and whether it changed (and how)."""

    language: str
    changed: bool
    explicit: bool = False
    show_menu: bool = False


def answers_keep_language(active_loop: str | None, choice_pending: bool) -> bool:
    """Whether the next message answers a question the assistant asked: inside a form (an
    address, a name, a day, the read-back's "what to change?") or a choice it offered ("go on
    or start again?", "call it off?"). Such answers are content, not the conversation's
    language ("place" reads as French, "Elm Street" as anything): only an explicit request
    switches then."""
    return bool(active_loop) or choice_pending


def decide(current: str | None, text: str, chosen: bool = False) -> Decision:
    """Apply SPEC §3's stickiness rules to one incoming message.

    ``current`` is the person's established language (None for someone new); ``chosen`` says
    they asked for it explicitly, in which case only another explicit request changes it (a
    Spanish speaker who chose Spanish may still type an English word or two).
    """
    request = explicit_request(text)
    if request == "menu":
        return Decision(current or DEFAULT, changed=False, show_menu=True)
    if request:
        return Decision(request, changed=request != current, explicit=True)
    detection = detect(text)
    if current is None:
        if uncertain(text):
            return Decision(DEFAULT, changed=False, show_menu=True)
        if detection and detection.confidence >= FIRST_CONFIDENCE:
            return Decision(detection.language, changed=True)
        return Decision(DEFAULT, changed=False)
    if is_arabizi(text):
        return Decision(current, changed=False)  # Darija in Latin letters: not a reason to switch
    if (
        not chosen
        and detection
        and detection.language != current
        and detection.confidence >= SWITCH_CONFIDENCE
        # Statistics alone never switch an established language: nonsense ("grbl fnord")
        # can look French to langdetect. A switch needs a word only that language uses.
        and (detection.language == "ar" or detection.language in _vocabulary_votes(words(text)))
    ):
        return Decision(detection.language, changed=True)
    return Decision(current, changed=False)
