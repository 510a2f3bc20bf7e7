"""The NLU pipeline's tokenizer: whitespace tokens, featured in their normal form.

Citizens write the same word many ways: "Écrire"/"ecrire", "merciiii", "إلغاء"/"الغاء",
"٣"/"3" (``bot.language.normal_form``). This tokenizer splits like Rasa's
``WhitespaceTokenizer`` and sets each token's *lemma* to the normal form; the count-vector
featurizers read the lemma (their ``use_lemma``, on by default), so the word and character
n-grams see one form. The token's text and offsets, the message text, and everything the
regex extractor, the fallbacks, the distress detector and the actions read, stay exactly as
the citizen wrote them.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.language.normal_form import normalise


def normal_lemma(word: str) -> str:
    """A token's featured form: normalised, as one word ("can't" -> "cant"); the lower-cased
    word itself when nothing is left (a token of punctuation only)."""
    return normalise(word).replace(" ", "") or word.lower()


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False
)
class NormalisingTokenizer(WhitespaceTokenizer):
    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> NormalisingTokenizer:
        return cls(config)

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        tokens = super().tokenize(message, attribute)
        if attribute == TEXT:
            for token in tokens:
                token.lemma = normal_lemma(token.text)
        return tokens
