"""The unknown-words fallback component, trained on a small real training set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from server.nlu_unknown_words import (
    TYPO_FILE_NAME,
    UnknownWordsFallback,
    collapsed,
    one_edit,
    stems,
    typo_index,
)

EXAMPLES = [
    ("where is my application", "check_application_status"),
    ("hola quiero saber de mi solicitud", "check_application_status"),
    ("est-ce que la collecte des poubelles fonctionne", "check_service_status"),
    ("أين مكتب البلدية", "find_office"),
    ("hello there", "greet"),
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


@pytest.mark.parametrize(("slip", "two_slips"), [
    ("hullo", "hullp"),  # a letter replaced (the 4-letter stem "hull" is not known)
    ("hlelo", "lheol"),  # a letter added / three moves
    ("aplicatoin", "aplicatoni"),  # two neighbours swapped / a letter moved further
    ("heloo", "hxloz"),  # doubled letters collapse: "helo" as "hello" / two letters replaced
    ("hhelo", "hhxlz"),
    ("بلدبة", "بلدبب"),  # Arabic: ي -> ب / two letters replaced
    ("وبلدبة", "وبلدبب"),  # with an attached prefix
])
def test_one_slip_in_a_long_word_is_known_two_are_not(component: UnknownWordsFallback, slip: str,
                                                       two_slips: str) -> None:
    assert parse(component, slip).get("intent")["name"] == "affirm"
    assert parse(component, two_slips).get("intent")["name"] == "nlu_fallback"


def test_short_words_get_no_slip(component: UnknownWordsFallback) -> None:
    # "tere" is one letter from "there", but a 4-letter word is one edit from nearly anything.
    assert parse(component, "tere").get("intent")["name"] == "nlu_fallback"
    assert parse(component, "theres").get("intent")["name"] == "affirm"  # the stem rule
    assert parse(component, "thrre").get("intent")["name"] == "affirm"  # the slip rule


def test_the_slip_index_is_stored_with_the_model(tmp_path: Path,
                                                 component: UnknownWordsFallback) -> None:
    stored = list(tmp_path.rglob(TYPO_FILE_NAME))
    assert len(stored) == 1
    index = json.loads(stored[0].read_text(encoding="utf-8"))
    assert index["helo"] == ["helo"] and index["hlo"] == ["helo"]  # "hello" collapsed, deletions
    assert index["here"] == ["there", "where"]
    assert "tere" in index and "tere" not in index["tere"]  # a deletion, never a word


def test_one_edit() -> None:
    assert one_edit("hello", "hello") and one_edit("hello", "hullo")
    assert one_edit("hello", "hllo") and one_edit("hllo", "hello")
    assert one_edit("hello", "ehllo") and one_edit("hello", "helol")
    assert not one_edit("hello", "hlelo ") and not one_edit("hello", "olleh")
    assert not one_edit("abcde", "bcdea") and not one_edit("hello", "hel")
    assert collapsed("wazzup") == "wazup" and collapsed("wassup") == "wasup"
    assert typo_index({"helo"})["hlo"] == ["helo"]
