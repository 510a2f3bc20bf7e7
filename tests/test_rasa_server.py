"""The Rasa server's lighter process (server/rasa_server.py): the trained model loaded for
prediction only answers exactly as Rasa's own load of it, DIET's intent ranking and the
policies' next action alike; JAX is not imported; and the server still starts and answers
(every stack test runs through it)."""

from __future__ import annotations

import asyncio
import gc
import re
import subprocess
import sys
import warnings

import pytest
from rasa.core.agent import Agent
from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.language import texts
from server import heap, rasa_server
from tests.support import unique
from tests.support.environment import ROOT
from tests.support.stack import Stack, trained_model

pytestmark = pytest.mark.stack  # the trained model

MESSAGES = ["hello", "is the bin collection running?", "¿dónde hay wifi gratis?",
            "quels sont les horaires de la mairie ?", "أريد التحدث مع شخص",
            "my application 1234 5674", "zzz qqq", "I need the place on Elm Street"]


def answers(agent: Agent) -> list[tuple[object, ...]]:
    """DIET's ranking of each message, and the policies' next action after it."""
    found = []
    for text in MESSAGES:
        parsed = asyncio.run(agent.parse_message(text))
        tracker = DialogueStateTracker.from_events(
            "compare", [ActionExecuted("action_session_start"), SessionStarted(),
                        ActionExecuted("action_listen"), UserUttered(text, parsed["intent"],
                                                                     parsed["entities"],
                                                                     parse_data=parsed)],
            agent.domain.slots)
        prediction = agent.processor.predict_next_with_tracker(tracker)
        found.append((text, [(i["name"], round(i["confidence"], 5))
                             for i in parsed["intent_ranking"]],
                      prediction and prediction["policy"],
                      prediction and [(s["action"], round(s["score"], 5))
                                      for s in prediction["scores"]]))
    return found


def test_the_model_loaded_for_prediction_answers_as_rasas_own_load() -> None:
    from rasa.utils.tensorflow.models import RasaModel

    model = str(trained_model())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rasas = answers(Agent.load(model))
        rasa_server.install()
        try:
            assert RasaModel.load.__func__ is rasa_server.load_for_prediction
            ours = answers(Agent.load(model))
        finally:
            RasaModel.load = rasa_server._rasa_load  # type: ignore[method-assign]
            for name in rasa_server.BLOCKED:
                if sys.modules.get(name, 0) is None:
                    del sys.modules[name]
    assert ours == rasas


def test_the_server_process_never_imports_jax() -> None:
    probe = ("import sys; from server import rasa_server; rasa_server.install(); "
             "import tensorflow, rasa.core.agent; "
             "print(sorted(m for m in sys.modules if m.split('.')[0] in ('jax', 'jaxlib') "
             "and sys.modules[m] is not None))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_the_running_server_keeps_its_loaded_model_out_of_the_garbage_collector(
        stack: Stack) -> None:
    """server/heap.py: frozen once the agent is loaded, so a full collection no longer walks
    the model's half a million objects (a 300-400 ms pause of every conversation)."""
    frozen = re.search(r"heap: (\d+) objects frozen", stack.full_logs())
    assert frozen is not None, "the Rasa server never froze its heap"
    assert int(frozen.group(1)) > 100_000  # the model's objects, not an empty process's
    assert stack.texts(unique.sender("heap"), "hello") == [texts.text("utter_greet", "en")]


def test_freezing_takes_every_live_object_out_of_the_collector() -> None:
    alive = [object() for _ in range(1000)]
    try:
        frozen = heap.freeze_loaded_heap()
        assert frozen >= len(alive) and gc.get_freeze_count() >= len(alive)
    finally:
        gc.unfreeze()
    assert gc.get_freeze_count() == 0
