"""The policies' states of the recent turns (server/recent_states.py) are exactly the last states
of Rasa's whole-history ones, on long conversations of the project's own domain: forms, rule-only
(hidden) turns, follow-up actions, slots, a rule-only slot and form."""

from __future__ import annotations

import random
import warnings

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    Event,
    FollowupAction,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from server.recent_states import WINDOW, rasa_states, states_for_tracker_history
from tests.support.environment import ROOT

pytestmark = pytest.mark.slow  # Rasa's domain and TensorFlow's import: seconds

RULE_ONLY = {"rule_only_slots": ["requested_slot"], "rule_only_loops": ["status_form"]}


@pytest.fixture(scope="module")
def project() -> Domain:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return Domain.load(str(ROOT / "domain"))


def conversation(project: Domain, turns: int, seed: int) -> DialogueStateTracker:
    """A conversation of ``turns`` user messages, each answered in one of several shapes."""
    chance = random.Random(seed)
    intents = [i for i in project.intents if not i.startswith("nlu_")][:12]
    slots = [s.name for s in project.slots if s.name != "requested_slot"][:8]
    forms = [*list(project.forms)[:2], "status_form"]
    events: list[Event] = [ActionExecuted("action_session_start"), SessionStarted(),
                           ActionExecuted("action_listen")]
    for number in range(turns):
        events.append(UserUttered(f"message {number}",
                                  {"name": chance.choice(intents), "confidence": 0.9}))
        shape = chance.randrange(5)
        if shape == 0:  # a rule-only turn, hidden from the ML policies
            events += [ActionExecuted("utter_greet", hide_rule_turn=True), BotUttered("hi"),
                       ActionExecuted("action_listen", hide_rule_turn=True)]
        elif shape == 1:  # a form opens and asks
            form = chance.choice(forms)
            events += [ActionExecuted(form), ActiveLoop(form),
                       SlotSet("requested_slot", slots[0]), BotUttered("which?"),
                       ActionExecuted("action_listen")]
        elif shape == 2:  # the form goes on, then closes
            events += [SlotSet(chance.choice(slots), f"value {number}"),
                       ActionExecuted(chance.choice(forms)), ActiveLoop(None),
                       SlotSet("requested_slot", None), ActionExecuted("action_listen")]
        elif shape == 3:  # a custom action with a follow-up
            events += [ActionExecuted("action_fallback"), FollowupAction("action_listen"),
                       BotUttered("sorry"), ActionExecuted("action_listen")]
        else:
            events += [SlotSet(chance.choice(slots), number),
                       ActionExecuted("utter_greet"), BotUttered("hello"),
                       ActionExecuted("action_listen", hide_rule_turn=chance.random() < 0.3)]
    return DialogueStateTracker.from_events(f"states-{seed}", events, project.slots)


@pytest.mark.parametrize("turns", [1, 3, 40, 150])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_recent_states_are_rasa_s_last_ones(project: Domain, turns: int, seed: int) -> None:
    tracker = conversation(project, turns, seed)
    for options in ({"ignore_rule_only_turns": True, "rule_only_data": RULE_ONLY},
                    {"ignore_rule_only_turns": False},
                    {"ignore_rule_only_turns": True, "rule_only_data": RULE_ONLY,
                     "omit_unset_slots": True}):
        whole = rasa_states(project, tracker, **options)
        recent = states_for_tracker_history(project, tracker, **options)
        assert recent == whole[-len(recent):]
        assert len(recent) >= min(len(whole), WINDOW)  # every state a policy looks at
        if turns <= 3:
            assert recent == whole
