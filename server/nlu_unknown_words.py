"""An NLU component: a message made only of words the training data never uses is a fallback.

Character n-grams make DIET robust to typos, but they also make it confident about nonsense:
"zxqv wplk" came out as `affirm` at 0.49, above any usable fallback threshold. A message whose
words are all unknown to every language's training data (allowing typos: a shared 4-letter
stem, and Arabic's attached prefixes) is treated as not understood: it gets `nlu_fallback`
and the citizen is asked to rephrase instead of being answered at random. DIET's confidences
are too peaked to tell nonsense apart ("xqz" came out as `affirm` at 0.999), so by default
the classifier's confidence is not consulted; ``max_confidence`` can let confident
predictions stand. Digits-only messages (references, dates) are left alone. Words are compared
in their normal form (``bot.language.normal_form``: "merciii", "أيوة"/"ايوه" as the data's).
"""

from __future__ import annotations

import json
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
STEM = 4
ARABIC_PREFIXES = ("وال", "بال", "لل", "ال", "و", "ب", "ل", "ف")


def stems(word: str) -> set[str]:
    """The forms a word is compared by: itself, its 4-letter stem, Arabic prefixes removed."""
    forms = {word}
    for prefix in ARABIC_PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= 2:
            forms.add(word[len(prefix):])
    forms |= {form[:STEM] for form in list(forms) if len(form) > STEM}
    return forms


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True
)
class UnknownWordsFallback(GraphComponent, IntentClassifier):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"max_confidence": None}

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
                 known: set[str] | None = None) -> None:
        limit = config.get("max_confidence")
        self._max_confidence = float(limit) if limit is not None else None
        self._model_storage = model_storage
        self._resource = resource
        self._known = known or set()

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
        except (ValueError, FileNotFoundError):
            known = set()
        return cls(config, model_storage, resource, known)

    def train(self, training_data: TrainingData) -> Resource:
        known: set[str] = set()
        for example in training_data.intent_examples:
            for word in words(normalise(example.get(TEXT) or "")):
                known |= stems(word)
        self._known = known
        with self._model_storage.write_to(self._resource) as directory:
            (directory / FILE_NAME).write_text(json.dumps(sorted(known), ensure_ascii=False),
                                               encoding="utf-8")
        return self._resource

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def is_unknown(self, text: str) -> bool:
        tokens = words(normalise(text))
        return bool(tokens) and bool(self._known) and all(
            not (stems(token) & self._known) for token in tokens
        )

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
