"""The policies' states of a conversation, continued instead of replayed
(server/tracker_states.py): after every event of a conversation with rewinds, a form, a
restart and a new session, the same states as Rasa's own replay from the first event, for every
kind of call the policies make; and RulePolicy finds the same rules on the last states."""

from __future__ import annotations

import json
import random

import pytest
from rasa.core.policies.rule_policy import RulePolicy
from rasa.shared.core.constants import (
    ACTION_LISTEN_NAME,
    PREVIOUS_ACTION,
    RULE_ONLY_LOOPS,
    RULE_ONLY_SLOTS,
    USER,
)
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from server import tracker_states
from tests.support.rasa_events import conversation

pytestmark = pytest.mark.slow  # Rasa's domain and TensorFlow's import: seconds


def rasa_states(domain: Domain, tracker: DialogueStateTracker, **options: object) -> list:
    """Rasa 3.6's own ``Domain.states_for_tracker_history`` (kept aside by install())."""
    return tracker_states._rasa_states_for_tracker_history(domain, tracker, **options)


OPTIONS = [
    {},
    {"omit_unset_slots": True},
    {"ignore_rule_only_turns": True, "rule_only_data": None},
    {"ignore_rule_only_turns": True,
     "rule_only_data": {RULE_ONLY_SLOTS: ["language"], RULE_ONLY_LOOPS: []}},
]


@pytest.mark.parametrize("options", OPTIONS, ids=["plain", "omit", "ml", "ml-rule-only"])
def test_after_every_event_the_states_are_rasas(project: Domain, options: dict) -> None:
    tracker_states.REPLAYS.clear()
    tracker = DialogueStateTracker("states-1", project.slots)
    for event in conversation(project):
        tracker.update(event)
        ours = tracker_states.states_for_tracker_history(project, tracker, **options)
        assert ours == rasa_states(project, tracker, **options), event


def test_edited_states_rewinds_and_rebuilt_trackers_change_nothing(project: Domain) -> None:
    """A caller deleting parts of the states it was given (as Rasa's featurisers do) leaves
    the kept ones whole; a rewind followed by more events than were undone, and a tracker
    rebuilt from the rows (new event objects), start the replay again."""
    tracker_states.REPLAYS.clear()
    events = conversation(project)
    tracker = DialogueStateTracker.from_events("states-2", events[:30], project.slots)
    for state in tracker_states.states_for_tracker_history(project, tracker):
        state.get(USER, {}).clear()
        state.pop(PREVIOUS_ACTION, None)
    tracker.update(events[30])
    assert tracker_states.states_for_tracker_history(project, tracker) == \
        rasa_states(project, tracker)
    intent = {"name": project.intents[0], "confidence": 0.7}
    for event in [UserUtteranceReverted(), ActionExecuted(ACTION_LISTEN_NAME),
                  UserUttered("instead", intent), ActionExecuted("utter_default"),
                  ActionExecuted(ACTION_LISTEN_NAME), UserUttered("more", intent),
                  ActionExecuted("utter_default"), ActionExecuted(ACTION_LISTEN_NAME)]:
        tracker.update(event)
    assert tracker_states.states_for_tracker_history(project, tracker) == \
        rasa_states(project, tracker)
    rebuilt = DialogueStateTracker.from_dict(
        "states-2", [e.as_dict() for e in events[:40]], project.slots)
    assert tracker_states.states_for_tracker_history(project, rebuilt) == \
        rasa_states(project, rebuilt)


def test_rules_are_found_on_the_last_states_as_on_all() -> None:
    """RulePolicy's rule lookup on the last states its longest rule can see: the same rules
    as on the whole history, for rules of 1 to 4 states and conversations of 0 to 30."""
    policy = RulePolicy.__new__(RulePolicy)  # only its matching methods are used
    shuffled = random.Random(12)
    intents, actions = ["greet", "bye", "ask"], [ACTION_LISTEN_NAME, "utter_a", "act_b"]

    def state(first: bool = False) -> dict:
        user = {"intent": shuffled.choice(intents)}
        return {USER: user} if first else {USER: user, PREVIOUS_ACTION: {
            "action_name": shuffled.choice(actions)}}

    lookup = {}
    for length in (1, 2, 3, 4):
        for _ in range(8):
            rule = [state(first=shuffled.random() < 0.3)] + [state() for _ in range(length - 1)]
            lookup[json.dumps(rule, sort_keys=True)] = "utter_a"
    for size in range(31):
        for _ in range(5):
            states = [state(first=True)] + [state() for _ in range(size)] if size else []
            assert tracker_states._get_possible_keys(policy, lookup, states) == \
                tracker_states._rasa_get_possible_keys(policy, lookup, states)
