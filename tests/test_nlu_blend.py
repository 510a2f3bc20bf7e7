"""The blended intent classifier (server/nlu_blend.py): DIET's ranking averaged with a
logistic regression's, in the trained model as it is served."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import warnings

import numpy as np
import pytest
from rasa.core.agent import Agent
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from server.nlu_blend import BlendedIntentClassifier
from tests.support.environment import ROOT
from tests.support.stack import trained_model


def classifier(tmp_path, weight: float = 0.5) -> BlendedIntentClassifier:
    return BlendedIntentClassifier({"weight": weight}, "blend", LocalModelStorage(tmp_path),
                                   Resource("blend"))


def test_the_rankings_are_averaged_best_first(tmp_path) -> None:
    diet = [{"name": "affirm", "confidence": 0.9}, {"name": "inform", "confidence": 0.08},
            {"name": "deny", "confidence": 0.02}]
    ranking = classifier(tmp_path).blend(diet, np.array(["affirm", "deny", "inform"]),
                                         np.array([0.2, 0.1, 0.7]))
    assert [item["name"] for item in ranking] == ["affirm", "inform", "deny"]
    assert [round(item["confidence"], 3) for item in ranking] == [0.55, 0.39, 0.06]
    leaning = classifier(tmp_path, weight=0.8).blend(
        diet, np.array(["affirm", "deny", "inform"]), np.array([0.2, 0.1, 0.7]))
    assert leaning[0]["name"] == "inform"  # the weight is the regression's share


def test_an_untrained_classifier_leaves_diets_ranking_and_training_labels_stay(
        tmp_path) -> None:
    message = Message.build("yes please")
    diet = [{"name": "affirm", "confidence": 0.9}]
    message.set("intent", diet[0])
    message.set("intent_ranking", diet)
    blend = classifier(tmp_path)
    assert blend.process([message]) == [message]
    assert message.get("intent_ranking") == diet
    data = TrainingData([Message.build("yes please", intent="affirm")])
    assert blend.process_training_data(data).training_examples[0].get("intent") == "affirm"


def test_a_message_without_features_keeps_diets_ranking(tmp_path) -> None:
    """An empty text has no features: blending it used to fail the whole parse."""
    blend = classifier(tmp_path)
    blend.clf.fit(np.array([[1.0, 0.0], [0.0, 1.0]] * 3), ["affirm", "deny"] * 3)
    empty = Message.build("")
    diet = [{"name": "deny", "confidence": 0.6}, {"name": "affirm", "confidence": 0.4}]
    empty.set("intent", diet[0])
    empty.set("intent_ranking", diet)
    assert blend.process([empty]) == [empty]
    assert empty.get("intent_ranking") == diet and empty.get("intent") == diet[0]


@pytest.mark.stack  # the trained model
def test_the_served_model_blends_with_a_trained_regression() -> None:
    """skops loads the regression (were a type untrusted, Rasa would hand back an untrained
    one and DIET would answer alone), and parses come out of the blend."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        agent = Agent.load(str(trained_model()))
    nodes = agent.processor.graph_runner._instantiated_nodes  # Rasa's runner
    blends = [node._component for node in nodes.values()
              if isinstance(node._component, BlendedIntentClassifier)]
    assert len(blends) == 1 and hasattr(blends[0].clf, "classes_")
    assert "check_application_status" in set(blends[0].clf.classes_)
    parsed = asyncio.run(agent.parse_message("is the bin collection running?"))
    assert parsed["intent"]["name"] == "check_service_status"
    assert len(parsed["intent_ranking"]) == 10
    assert asyncio.run(agent.parse_message(""))["text"] == ""  # no features: no failure


LOG_LEVEL_PROBE = ("import logging, sys, warnings\n"
                   "warnings.simplefilter('ignore')\n"
                   "logging.basicConfig(level=logging.INFO)\n"
                   "from rasa.core.agent import Agent\n"
                   "Agent.load(sys.argv[1])\n"
                   "print(logging.getLevelName(logging.getLogger().level))")


@pytest.mark.stack  # the trained model
def test_loading_the_model_keeps_the_servers_info_logs() -> None:
    """skops' import (through numpy.distutils) set the root logger to WARNING: the server's
    INFO lines vanished once the model loaded. A fresh process, as the server's is."""
    done = subprocess.run([sys.executable, "-c", LOG_LEVEL_PROBE, str(trained_model())],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "INFO"
