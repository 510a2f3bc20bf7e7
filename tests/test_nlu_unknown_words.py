"""The unknown-words fallback component, trained on a small real training set."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from server.nlu_unknown_words import UnknownWordsFallback, stems

EXAMPLES = [
    ("where is my application", "check_application_status"),
    ("hola quiero saber de mi solicitud", "check_application_status"),
    ("est-ce que la collecte des poubelles fonctionne", "check_service_status"),
    ("أين مكتب البلدية", "find_office"),
]


@pytest.fixture
def component(tmp_path: Path) -> UnknownWordsFallback:
    storage = LocalModelStorage(tmp_path)
    resource = Resource("unknown_words")
    context = ExecutionContext(GraphSchema({}), "test")
    trained = UnknownWordsFallback.create({}, storage, resource, context)
    trained.train(TrainingData([Message(data={"text": t, "intent": i}) for t, i in EXAMPLES]))
    # Load it back from the model storage, as the server does.
    return UnknownWordsFallback.load({}, storage, resource, context)


def parse(component: UnknownWordsFallback, text: str, entities: list | None = None) -> Message:
    message = Message(data={"text": text, "intent": {"name": "affirm", "confidence": 0.5},
                            "intent_ranking": [{"name": "affirm", "confidence": 0.5}],
                            "entities": entities or []})
    return component.process([message])[0]


@pytest.mark.parametrize("text", ["zxqv wplk trrb", "asdfgh", "blah blah", "qq"])
def test_nonsense_falls_back(component: UnknownWordsFallback, text: str) -> None:
    message = parse(component, text)
    assert message.get("intent") == {"name": "nlu_fallback", "confidence": 1.0}
    assert [i["name"] for i in message.get("intent_ranking")] == ["nlu_fallback", "affirm"]


@pytest.mark.parametrize("text", [
    "applicaton",  # a typo that keeps the 4-letter stem
    "solicitudes",  # a known stem
    "poubelle",
    "والبلدية",  # Arabic prefixes
    "4021 7382",  # digits only: no words to judge
    "xyz application",  # one known word is enough
])
def test_known_or_wordless_text_is_left_alone(component: UnknownWordsFallback, text: str) -> None:
    assert parse(component, text).get("intent")["name"] == "affirm"


def test_a_confident_prediction_can_be_allowed_to_stand(tmp_path: Path) -> None:
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), "test")
    component = UnknownWordsFallback.create({"max_confidence": 0.9}, storage,
                                            Resource("unknown_words"), context)
    component.train(TrainingData([Message(data={"text": t, "intent": i}) for t, i in EXAMPLES]))
    message = Message(data={"text": "zzzz", "intent": {"name": "greet", "confidence": 0.95},
                            "intent_ranking": [{"name": "greet", "confidence": 0.95}]})
    assert component.process([message])[0].get("intent")["name"] == "greet"


def test_entities_are_never_overridden(component: UnknownWordsFallback) -> None:
    entity = {"entity": "reference", "value": "40217382", "start": 0, "end": 8}
    assert parse(component, "zzzz", [entity]).get("intent")["name"] == "affirm"


def test_stems() -> None:
    assert stems("application") == {"application", "appl"}
    assert "بلدية" in stems("البلدية")
