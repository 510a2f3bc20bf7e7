"""An NLU component: distress words (``bot.domain.distress``) mean "a person, now, urgently".

Runs last in the pipeline, so it overrides whatever DIET or the fallbacks decided: a message
such as "quiero suicidarme" becomes intent ``request_human`` with the entity
``urgency: urgent``. The rule ``request_human -> action_human`` then opens an urgent hand-off,
and while a hand-off is already open the ``urgency`` slot's mapping action marks it urgent.

The detector's learnt half trains when the component is created (about 1.5 s of CPU), so
the first citizen's message does not wait for it.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.domain import distress_model
from bot.domain.distress import is_distress

INTENT_NAME = "request_human"
ENTITY = "urgency"
VALUE = "urgent"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER],
                          is_trainable=False)
class DistressDetector(GraphComponent, IntentClassifier):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {}

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> DistressDetector:
        distress_model.model()  # train now, at model load, not on the first message
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if not is_distress(text):
                continue
            intent = {"name": INTENT_NAME, "confidence": 1.0}
            message.set(INTENT, intent, add_to_output=True)
            ranking = [item for item in message.get(INTENT_RANKING_KEY) or []
                       if item.get("name") != INTENT_NAME]
            message.set(INTENT_RANKING_KEY, [intent, *ranking], add_to_output=True)
            entities = [e for e in message.get(ENTITIES) or [] if e.get("entity") != ENTITY]
            entities.append({"entity": ENTITY, "value": VALUE, "start": 0, "end": len(text),
                             "confidence_entity": 1.0, "extractor": type(self).__name__})
            message.set(ENTITIES, entities, add_to_output=True)
        return messages
