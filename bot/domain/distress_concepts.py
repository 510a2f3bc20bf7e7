"""Concepts: what a message talks about, as soft features for the distress model.

The word lists (``bot.domain.distress``) name whole phrases that mean danger; the character
n-grams (``bot.domain.distress_model``) learn the wordings of the training sentences. Neither
knows that "kneed", "shoved" and "رفسني" are blows, or that "fridge" and "تلاجة" are food,
unless a training sentence used that very word. The concept lists (``data/distress/
concepts.yml``) group such words by meaning (a blow, a person close to the writer, a child,
food, lacking, a means of self-harm, a machine, a service question...), in every language and
dialect, and the model learns from the training sentences what each concept and each pair of
concepts weighs ("food" with "lacking" is hunger; "dead" with "a machine" is a flat battery).

Matching is on folded words as in the word lists; a trailing ``*`` matches a word's beginning;
Arabic words are also tried without up to two attached prefixes (articles and conjunctions,
and the dialects' verb prefixes: Moroccan "كي/كن/غا", Egyptian "بي/ه", Levantine "عم/بـ").
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import yaml

DATA_FILE = Path(__file__).resolve().parent / "data" / "distress" / "concepts.yml"
# Attached prefixes tried on Arabic words, longest first; at most two are removed
# ("وكيضربني" -> "كيضربني" -> "ضربني"), and at least two letters must remain.
ARABIC_PREFIXES = ("وال", "فال", "بال", "كال", "لل", "ال", "كي", "كا", "كن", "كت", "تي", "تا",
                   "بي", "بت", "بن", "هي", "ها", "غا", "عم", "رح", "و", "ف", "ب", "ل", "ك", "ت",
                   "ي", "ن", "ا", "م", "ه", "س")
_MIN_STEM = 2

Pattern = tuple[str, tuple[str, ...]]  # (concept, words; a last "*" is a word's beginning)


def forms(token: str) -> frozenset[str]:
    """A folded word and, for Arabic, the word without up to two attached prefixes."""
    if not token or token[0] < "\u0600":
        return frozenset((token,))
    found = {token}
    frontier = [token]
    for _ in range(2):
        frontier = [form[len(prefix):] for form in frontier for prefix in ARABIC_PREFIXES
                    if form.startswith(prefix) and len(form) - len(prefix) >= _MIN_STEM]
        found.update(frontier)
    return frozenset(found)


class Concepts:
    """The concept lists, indexed for matching a message in a few hundred look-ups."""

    def __init__(self, lists: dict[str, list[str]],
                 tokenise: Callable[[str], list[str]]) -> None:
        self._exact: dict[str, list[Pattern]] = {}
        self._stems: dict[str, list[Pattern]] = {}
        self._longest_stem = 0
        for concept in sorted(lists):
            for phrase in lists[concept] or []:
                words = _pattern_words(phrase, tokenise)
                if not words:
                    continue
                first = words[0]
                if first.endswith("*"):
                    self._stems.setdefault(first[:-1], []).append((concept, words))
                    self._longest_stem = max(self._longest_stem, len(first) - 1)
                else:
                    self._exact.setdefault(first, []).append((concept, words))
        self.names = tuple(sorted(lists))

    def _candidates(self, word_forms: frozenset[str]) -> list[Pattern]:
        found: list[Pattern] = []
        for form in word_forms:
            found += self._exact.get(form, ())
            for size in range(1, min(len(form), self._longest_stem) + 1):
                found += self._stems.get(form[:size], ())
        return found

    def find(self, tokens: list[str]) -> set[str]:
        """The concepts a message's folded words speak of."""
        every = [forms(token) for token in tokens]
        found: set[str] = set()
        for start, first in enumerate(every):
            for concept, words in self._candidates(first):
                if concept in found:
                    continue
                window = every[start:start + len(words)]
                if len(window) == len(words) and all(
                        _matches(word, word_forms) for word, word_forms
                        in zip(words, window, strict=True)):
                    found.add(concept)
        return found


def _pattern_words(phrase: str, tokenise: Callable[[str], list[str]]) -> tuple[str, ...]:
    """A phrase's folded words; a word written with a trailing ``*`` keeps it."""
    words: list[str] = []
    for written in phrase.split():
        folded = tokenise(written.rstrip("*"))
        if folded and written.endswith("*"):
            folded[-1] += "*"
        words += folded
    return tuple(words)


def _matches(word: str, word_forms: frozenset[str]) -> bool:
    if word.endswith("*"):
        return any(form.startswith(word[:-1]) for form in word_forms)
    return word in word_forms


def features(found: set[str]) -> list[str]:
    """Feature names for a message's concepts: each concept and each pair of them."""
    names = sorted(found)
    return [f"c:{name}" for name in names] + [
        f"c:{a}+{b}" for a, b in itertools.combinations(names, 2)]


@lru_cache(maxsize=1)
def load(path: Path = DATA_FILE) -> Concepts:
    from bot.domain.distress_model import LOADER, normalise

    document = yaml.load(path.read_text(encoding="utf-8"), Loader=LOADER) or {}
    for concept, words in document.items():
        odd = [word for word in words or () if not isinstance(word, str)]
        if odd:  # YAML reads a bare no/yes/on as a boolean: quote it
            raise ValueError(f"{path.name}: {concept}: not text: {odd}")
    return Concepts(document, lambda text: normalise(text, apostrophe=" ").split())
