"""An NLU component: a message made only of words the training data never uses is a fallback.

Character n-grams make DIET robust to typos, but they also make it confident about nonsense:
"zxqv wplk" came out as `affirm` at 0.49, above any usable fallback threshold. A message whose
words are all unknown to every language's training data (allowing typos: a shared 4-letter
stem, Arabic's attached prefixes, or one slip in a longer word, below) is treated as not
understood: it gets `nlu_fallback` and the citizen is asked to rephrase instead of being
answered at random. DIET's confidences are too peaked to tell nonsense apart ("xqz" came out
as `affirm` at 0.999), so by default the classifier's confidence is not consulted;
``max_confidence`` can let confident predictions stand. Digits-only messages (references,
dates) are left alone. Words are compared in their normal form (``bot.language.normal_form``:
"merciii", "أيوة"/"ايوه" as the data's).

One slip: a word of at least ``TYPO_MIN`` letters is also known when, doubled letters collapsed
("wazzup" -> "wazup"), it is within one edit (a letter inserted, deleted, replaced, or two
neighbours swapped) of a training word of at least ``TYPO_MIN`` letters, collapsed the same way:
"hullo" is "hello", "wazzup" is "wassup". Shorter words are left to the stem rule: one edit
away from a 3- or 4-letter word is nearly anything. The look-up is SymSpell's: training stores
every word and each of its one-letter deletions, keyed to the words they come from
(``typo_index.json``), so a message's word costs one probe per letter (and per Arabic prefix
taken off), never a scan of the vocabulary; a probe's candidates are then checked to be one
edit away.
"""

from __future__ import annotations

import json
import re
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.language.detect import words
from bot.language.normal_form import normalise

FILE_NAME = "vocabulary.json"
TYPO_FILE_NAME = "typo_index.json"
STEM = 4
TYPO_MIN = 5
TYPO_MIN_COLLAPSED = 4
ARABIC_PREFIXES = ("وال", "بال", "لل", "ال", "و", "ب", "ل", "ف")


def stems(word: str) -> set[str]:
    """The forms a word is compared by: itself, its 4-letter stem, Arabic prefixes removed."""
    forms = {word}
    for prefix in ARABIC_PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= 2:
            forms.add(word[len(prefix):])
    forms |= {form[:STEM] for form in list(forms) if len(form) > STEM}
    return forms


_DOUBLED = re.compile(r"(.)\1+")


def collapsed(word: str) -> str:
    """The word with every run of one letter cut to a single letter ("wazzup" -> "wazup")."""
    return _DOUBLED.sub(r"\1", word)


def deletions(word: str) -> set[str]:
    """The word without one of its letters, each way."""
    return {word[:i] + word[i + 1:] for i in range(len(word))}


def one_edit(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` are equal or one insertion, deletion, substitution or swap of
    two neighbouring letters apart."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    if len(a) == len(b):
        if a[start + 1:] == b[start + 1:]:
            return True  # substitution
        return (a[start:start + 2] == b[start:start + 2][::-1]
                and a[start + 2:] == b[start + 2:])  # neighbours swapped
    shorter, longer = (a, b) if len(a) < len(b) else (b, a)
    return shorter[start:] == longer[start + 1:]  # one letter more in the longer word


def typo_forms(word: str) -> set[str]:
    """The forms of a training word that a one-slip look-up may meet: the word and its Arabic
    prefixes removed, collapsed, when at least ``TYPO_MIN`` letters long (and still
    ``TYPO_MIN_COLLAPSED`` once collapsed: "mmmmhmm" is not compared)."""
    forms = {word}
    for prefix in ARABIC_PREFIXES:
        if word.startswith(prefix):
            forms.add(word[len(prefix):])
    return {collapsed(form) for form in forms
            if len(form) >= TYPO_MIN and len(collapsed(form)) >= TYPO_MIN_COLLAPSED}


def typo_index(vocabulary: set[str]) -> dict[str, list[str]]:
    """Each collapsed training word, and each of its one-letter deletions, -> those words."""
    index: dict[str, set[str]] = {}
    for word in vocabulary:
        for key in {word} | deletions(word):
            index.setdefault(key, set()).add(word)
    return {key: sorted(words_) for key, words_ in index.items()}


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True
)
class UnknownWordsFallback(GraphComponent, IntentClassifier):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"max_confidence": None}

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
                 known: set[str] | None = None,
                 typos: dict[str, list[str]] | None = None) -> None:
        limit = config.get("max_confidence")
        self._max_confidence = float(limit) if limit is not None else None
        self._model_storage = model_storage
        self._resource = resource
        self._known = known or set()
        self._typos = typos or {}

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> UnknownWordsFallback:
        return cls(config, model_storage, resource)

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> UnknownWordsFallback:
        try:
            with model_storage.read_from(resource) as directory:
                known = set(json.loads((directory / FILE_NAME).read_text(encoding="utf-8")))
                typo_file = directory / TYPO_FILE_NAME
                typos = (json.loads(typo_file.read_text(encoding="utf-8"))
                         if typo_file.exists() else {})
        except (ValueError, FileNotFoundError):
            known, typos = set(), {}
        return cls(config, model_storage, resource, known, typos)

    def train(self, training_data: TrainingData) -> Resource:
        known: set[str] = set()
        long_words: set[str] = set()
        for example in training_data.intent_examples:
            for word in words(normalise(example.get(TEXT) or "")):
                known |= stems(word)
                long_words |= typo_forms(word)
        self._known = known
        self._typos = typo_index(long_words)
        with self._model_storage.write_to(self._resource) as directory:
            (directory / FILE_NAME).write_text(json.dumps(sorted(known), ensure_ascii=False),
                                               encoding="utf-8")
            (directory / TYPO_FILE_NAME).write_text(
                json.dumps(self._typos, ensure_ascii=False, sort_keys=True), encoding="utf-8")
        return self._resource

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def _one_slip_from_known(self, token: str) -> bool:
        """A word of ``TYPO_MIN`` letters or more one edit from a training word that long
        (both collapsed, with or without an Arabic prefix)."""
        if len(token) < TYPO_MIN or not self._typos:
            return False
        for word in typo_forms(token):
            for probe in {word} | deletions(word):
                if any(one_edit(word, known) for known in self._typos.get(probe, ())):
                    return True
        return False

    def _is_known(self, token: str) -> bool:
        return bool(stems(token) & self._known) or self._one_slip_from_known(token)

    def is_unknown(self, text: str) -> bool:
        tokens = words(normalise(text))
        return bool(tokens) and bool(self._known) and not any(
            self._is_known(token) for token in tokens)

    def _classifier_confidence(self, message: Message) -> float:
        """The best confidence among real intents (the FallbackClassifier may already be first)."""
        return max((item.get("confidence") or 0.0 for item in message.get(INTENT_RANKING_KEY) or []
                    if item.get("name") != DEFAULT_NLU_FALLBACK_INTENT_NAME), default=0.0)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            if message.get(ENTITIES) or not self.is_unknown(message.get(TEXT) or ""):
                continue
            if (self._max_confidence is not None
                    and self._classifier_confidence(message) >= self._max_confidence):
                continue
            fallback = {"name": DEFAULT_NLU_FALLBACK_INTENT_NAME, "confidence": 1.0}
            message.set(INTENT, fallback, add_to_output=True)
            ranking = [item for item in message.get(INTENT_RANKING_KEY) or []
                       if item.get("name") != DEFAULT_NLU_FALLBACK_INTENT_NAME]
            message.set(INTENT_RANKING_KEY, [fallback, *ranking], add_to_output=True)
        return messages
