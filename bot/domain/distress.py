"""Words that mean a person may be in danger (SPEC §5.6): the hand-off becomes urgent.

Two halves, one answer (:func:`category`): word lists (``data/distress/lexicon.yml``), exact
and explainable, and a learnt model (``bot.domain.distress_model``: character n-grams, words
and concepts) for the everyday and dialect wordings no list can enumerate ("i cant go on
anymore", "ma3ndi ma nakol"). A strong phrase of the lists decides alone; a weak one (a phrase
that also names a topic: "emergency dentist", "a film with violence") counts when the model
gives it at least :data:`WEAK_THRESHOLD`; otherwise the model decides at its own threshold.
Both are measured together: ``python -m scripts.distress_report`` -> results/distress-report.md.

The lists are matched in every language whatever the conversation's language, on folded words
(no case, no Latin accents, Arabic hamza and letter variants unified, Arabic prefixes
"و ف ب ل ال" allowed, digits kept inside words for Darija in Latin letters), as whole-word
phrases; a word with a trailing ``*`` matches a word's beginning ("suicid*": suicide,
suicidio, suicidarme, suicider). The lists prefer phrases to single words, so that everyday
questions ("how do I appeal an eviction?") are not taken for emergencies; a false alarm costs a
person's time, a missed one may cost more, so they lean to caution.

Urgent replies also give the emergency and crisis numbers for the deployment's region
(``CIVICLINE_DEFAULT_REGION``).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.config import get_settings
from bot.domain import distress_model

LEXICON_FILE = Path(__file__).resolve().parent / "data" / "distress" / "lexicon.yml"


def _load_lexicon(path: Path = LEXICON_FILE) -> tuple[dict[str, dict[str, tuple[str, ...]]],
                                                      frozenset[str]]:
    """The phrases by kind and language, and the weak ones (see ``lexicon.yml``)."""
    document = yaml.load(path.read_text(encoding="utf-8"), Loader=distress_model.LOADER) or {}
    weak = frozenset(document.pop("weak", None) or ())
    phrases = {kind: {language: tuple(listed) for language, listed in by_language.items()}
               for kind, by_language in document.items()}
    odd = [p for p in weak.union(*(listed for by_language in phrases.values()
                                   for listed in by_language.values()))
           if not isinstance(p, str)]
    if odd:  # YAML reads a bare no/yes/on as a boolean: quote it
        raise ValueError(f"{path.name}: not text: {odd}")
    unknown = weak - {p for by_language in phrases.values() for listed in by_language.values()
                      for p in listed}
    if unknown:
        raise ValueError(f"{path.name}: weak phrases not in any list: {sorted(unknown)}")
    return phrases, weak


PHRASES, WEAK = _load_lexicon()
# A weak phrase counts when the learnt model gives at least this probability (a strong phrase
# always counts; see ``lexicon.yml``).
WEAK_THRESHOLD = 0.2

# Emergency number and a crisis (suicide prevention) line by region; 112 works across Europe
# and on most mobile phones elsewhere.
NUMBERS: dict[str, tuple[str, str]] = {
    "US": ("911", "988"),
    "CA": ("911", "988"),
    "GB": ("999", "116 123"),
    "IE": ("112", "116 123"),
    "FR": ("112", "3114"),
    "ES": ("112", "024"),
}
DEFAULT_NUMBERS = ("112", "112")

_ARABIC_PREFIXES = ("وال", "فال", "بال", "لل", "ال", "و", "ف", "ب", "ل")


def _tokens(text: str) -> list[str]:
    """Folded words; an apostrophe separates ("can't" -> "can t", "m'expulse" -> "m expulse")
    and digits stay inside words (Darija in Latin letters: "ma3ndi", "n9tel")."""
    return distress_model.normalise(text, apostrophe=" ").split()


def _forms(token: str) -> set[str]:
    """A token and, for Arabic, the token without an attached prefix."""
    forms = {token}
    for prefix in _ARABIC_PREFIXES:
        if token.startswith(prefix) and len(token) - len(prefix) >= 2 and token[0] > "\u0600":
            forms.add(token[len(prefix):])
    return forms


def _word_matches(pattern: str, forms: set[str]) -> bool:
    if pattern.endswith("*"):
        return any(form.startswith(pattern[:-1]) for form in forms)
    return pattern in forms


Pattern = tuple[str, tuple[str, ...], bool]  # (kind, words, strong); a last "*": a beginning


def _pattern_words(phrase: str) -> list[str]:
    """A phrase's folded words; a word written with a trailing ``*`` ("cansad* de vivir") keeps
    it, to match any word beginning so."""
    words: list[str] = []
    for written in phrase.split():
        folded = _tokens(written.rstrip("*"))
        if folded and written.endswith("*"):
            folded[-1] += "*"
        words += folded
    return words


def _compile() -> tuple[dict[str, list[Pattern]], dict[str, list[Pattern]]]:
    """The phrases as word patterns, indexed by their first word, or when the first word is a
    beginning ("suicid*") by that beginning."""
    by_first: dict[str, list[Pattern]] = {}
    by_stem: dict[str, list[Pattern]] = {}
    for kind, by_language in PHRASES.items():
        for phrases in by_language.values():
            for phrase in phrases:
                words = _pattern_words(phrase)
                pattern = (kind, tuple(words), phrase not in WEAK)
                if words[0].endswith("*"):
                    by_stem.setdefault(words[0][:-1], []).append(pattern)
                else:
                    by_first.setdefault(words[0], []).append(pattern)
    return by_first, by_stem


_BY_FIRST, _BY_STEM = _compile()
_LONGEST_STEM = max(map(len, _BY_STEM), default=0)


def _candidates(first: set[str]) -> list[Pattern]:
    """The patterns whose first word may match a word with these forms."""
    found = [p for form in first for p in _BY_FIRST.get(form, ())]
    for form in first:
        for size in range(1, min(len(form), _LONGEST_STEM) + 1):
            found += _BY_STEM.get(form[:size], ())
    return found


def lexicon_match(text: str) -> tuple[str, bool] | None:
    """The kind of danger the word lists find in a message and whether a strong phrase said it
    (a strong phrase anywhere wins over a weak one), or None."""
    forms = [_forms(token) for token in _tokens(text or "")]  # once per message, not per pattern
    weak_kind = None
    for start, first in enumerate(forms):
        for kind, pattern, strong in _candidates(first):
            window = forms[start:start + len(pattern)]
            if len(window) == len(pattern) and all(
                    _word_matches(p, f) for p, f in zip(pattern, window, strict=True)):
                if strong:
                    return kind, True
                weak_kind = weak_kind or kind
    return (weak_kind, False) if weak_kind else None


def lexicon_category(text: str) -> str | None:
    """The kind of danger the word lists alone find (strong or weak phrases), or None."""
    match = lexicon_match(text)
    return match[0] if match else None


def category(text: str) -> str | None:
    """The kind of danger a message speaks of (self_harm, violence, child_abuse, housing,
    hunger, emergency), or None: a strong phrase of the word lists; else a weak phrase the
    learnt model (``bot.domain.distress_model``) does not contradict; else the model alone, for
    the everyday and dialect wordings the lists do not know."""
    text = text or ""
    match = lexicon_match(text)
    if match and match[1]:
        return match[0]
    model = distress_model.model()
    grams = model.features(text)
    score = model.score_features(grams)
    if match and score >= WEAK_THRESHOLD:
        return match[0]
    return model.kind_features(grams) if score >= model.threshold(text) else None


def is_distress(text: str) -> bool:
    return category(text) is not None


def emergency_numbers(region: str | None = None) -> tuple[str, str]:
    """(emergency number, crisis line) for the region (default: the deployment's)."""
    return NUMBERS.get((region or get_settings().default_region).upper(), DEFAULT_NUMBERS)
