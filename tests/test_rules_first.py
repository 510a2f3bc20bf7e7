"""TEDPolicy skipped when a rule decides (server/rules_first.py): on the trained model, the next
action, its policy, its confidence and the ranking are Rasa's own at every step of many
conversations (citizens' short answers, forms started and left, rejected actions, odd actions
in between), TED really skipped on a good share of them and still deciding where no rule or
story does."""

from __future__ import annotations

import asyncio
import random
import warnings

import pytest
from rasa.core.agent import Agent
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActiveLoop,
    SessionStarted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from server import rules_first
from tests.support.stack import trained_model

pytestmark = pytest.mark.stack  # the trained model

MESSAGES = ["hello", "yes", "ok", "no", "1", "2", "I don't know", "monday", "",
            "my application 1234 5674", "is the bin collection running?", "report a pothole",
            "book an appointment", "talk to a person", "cancel", "thanks", "bye", "help",
            "zzz qqq", "10:30", "tomorrow", "¿dónde hay wifi gratis?", "sí", "vale", "mañana",
            "no sé", "oui", "d'accord", "lundi", "je ne sais pas", "نعم", "لا", "مرحبا",
            "لا أعرف", "wakha", "salam"]


def prediction(agent: Agent, tracker: DialogueStateTracker) -> object:
    found = agent.processor.predict_next_with_tracker(tracker)
    return found and (found["policy"], round(found["confidence"], 6),
                      [(s["action"], round(s["score"], 6)) for s in found["scores"]])


@pytest.fixture(scope="module")
def agent() -> Agent:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Agent.load(str(trained_model()))


def test_every_prediction_is_rasas_and_ted_is_skipped_when_a_rule_decides(agent: Agent
                                                                          ) -> None:
    parsed = {text: asyncio.run(agent.parse_message(text)) for text in MESSAGES}
    forms = set(agent.domain.form_names)
    odd = [name for name in agent.domain.action_names_or_texts
           if name.startswith(("utter_", "action_"))]
    rng = random.Random(5)
    policies: dict[str, int] = {}
    before = rules_first.COUNTS.skipped, rules_first.COUNTS.ran
    compared = 0
    try:
        for number in range(30):
            tracker = DialogueStateTracker.from_events(
                f"rules-first-{number}", [ActionExecuted("action_session_start"),
                                          SessionStarted(), ActionExecuted("action_listen")],
                agent.domain.slots)
            for _ in range(20):
                if tracker.latest_action_name == "action_listen" and \
                        not isinstance(tracker.events[-1], UserUttered):
                    text = rng.choice(MESSAGES)
                    data = parsed[text]
                    tracker.update(UserUttered(text, data["intent"], data["entities"],
                                               parse_data=data))
                    continue
                rules_first.uninstall()
                rasas = prediction(agent, tracker)
                rules_first.install()
                assert prediction(agent, tracker) == rasas, list(tracker.events)[-4:]
                compared += 1
                policies[rasas[0]] = policies.get(rasas[0], 0) + 1
                # Mostly what was predicted; now and then a listen, any action (states no
                # rule or story has: TED decides there), a rejection or a form.
                roll = rng.random()
                action = (rasas[2][0][0] if roll > 0.25 else
                          "action_listen" if roll > 0.15 else rng.choice(odd))
                roll = rng.random()
                if action in forms and roll < 0.5:
                    tracker.update(ActionExecuted(action))
                    tracker.update(ActiveLoop(action))
                elif roll < 0.06:
                    tracker.update(ActionExecutionRejected(action))
                else:
                    tracker.update(ActionExecuted(action))
    finally:
        rules_first.uninstall()
    skipped = rules_first.COUNTS.skipped - before[0]
    ran = rules_first.COUNTS.ran - before[1]
    assert compared >= 250 and skipped + ran == compared
    assert skipped >= compared // 4, (skipped, ran)  # the shortcut really is taken
    assert ran >= compared // 10, (skipped, ran)  # and TED still runs when rules do not decide
    assert policies.get("TEDPolicy", 0) >= 5, policies  # and is what decides, now and then


def test_a_rule_for_the_action_just_rejected_does_not_decide() -> None:
    """The ensemble zeroes the action just rejected (a form that would not take the message),
    so a rule for it at 1.0 no longer wins on its own: TED must run."""
    from rasa.core.policies.policy import PolicyPrediction
    from rasa.shared.core.domain import Domain

    domain = Domain.from_dict({"intents": ["greet"], "actions": ["action_a", "action_b"]})
    sure = [0.0] * domain.num_actions
    sure[domain.index_for_action("action_a")] = 1.0
    rule = PolicyPrediction(sure, "RulePolicy")
    asked = [ActionExecuted("action_listen"), UserUttered("hi", {"name": "greet"})]

    def tracker(*events: object) -> DialogueStateTracker:
        return DialogueStateTracker.from_events("r", [*asked, *events], domain.slots)

    assert rules_first.rule_decides(rule, tracker(), domain)
    assert not rules_first.rule_decides(rule, tracker(ActionExecutionRejected("action_a")),
                                        domain)
    assert rules_first.rule_decides(  # another action's rejection leaves this rule deciding
        rule, tracker(ActionExecutionRejected("action_b")), domain)
    assert rules_first.rule_decides(  # an action ran after the rejection: nothing zeroed
        rule, tracker(ActionExecutionRejected("action_a"), ActionExecuted("action_b")), domain)
    unsure = PolicyPrediction([0.9 if p else 0.0 for p in sure], "RulePolicy")
    assert not rules_first.rule_decides(unsure, tracker(), domain)
    assert rules_first.rule_decides(
        PolicyPrediction(sure, "RulePolicy", is_no_user_prediction=True),
        tracker(ActionExecutionRejected("action_a")), domain)
