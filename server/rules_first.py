"""TEDPolicy is not run when a rule already decides the next action (issue 12 §5: a faster turn).

Rasa 3.6 runs every policy on every prediction and then picks one
(``DefaultPolicyPredictionEnsemble``). Profiled, TEDPolicy's inference (featurising the
states, a TensorFlow call) was most of a prediction's cost, and a turn makes two or three
predictions. In this assistant rules and stories decide nearly all of them, and TED's answer
cannot change the pick when:

- RulePolicy predicts the active form's next step (a "no user" prediction): it overrules every
  prediction based on the user's input, and TED never makes one of those; or
- RulePolicy predicts an action with confidence 1.0 that was not just rejected: TED's
  confidence is at most 1.0 and its priority is lower, so on a tie the rule wins.

Both hold only while TED cannot make an end-to-end prediction (it was trained without story
text; otherwise its text-based predictions would overrule the rule's): checked on the loaded
policy, and without it TED always runs. TED adds no event of its own unless it wins. So the
next action, its policy, its confidence and the events are what Rasa would give; only the
losing TED prediction is not computed (tests/test_rules_first.py compares both on many
conversations).

The prediction graph makes TED's node depend on RulePolicy's (so the rule runs first) and runs
it through :class:`RulesFirst`. :func:`install` patches Rasa's ``DaskGraphRunner`` (Rasa has
no setting for this); the Rasa server calls it on start-up (server/platform.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rasa.core.policies.policy import PolicyPrediction
from rasa.core.policies.rule_policy import RulePolicy
from rasa.core.policies.ted_policy import TEDPolicy
from rasa.engine.graph import GraphNode, GraphSchema
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActionExecutionRejected
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import TEXT

PREDICT = "predict_action_probabilities"


@dataclass
class Counts:
    """Predictions since start-up: TED skipped (a rule decided) or run."""

    skipped: int = 0
    ran: int = 0


COUNTS = Counts()
_WRAPPERS: dict[str, RulesFirst] = {}  # by TED's node name, for as long as that node lives


def rejected_action(tracker: DialogueStateTracker) -> str | None:
    """The action the ensemble zeroes in every prediction: the latest action event, when it
    is a rejection (as ``DefaultPolicyPredictionEnsemble._best_policy_prediction``)."""
    for event in reversed(tracker.events):
        if isinstance(event, ActionExecutionRejected):
            return event.action_name
        if isinstance(event, ActionExecuted):
            return None
    return None


def rule_decides(rule: PolicyPrediction, tracker: DialogueStateTracker, domain: Domain) -> bool:
    """Whether the ensemble picks ``rule`` whatever a TED that cannot predict end to end says."""
    if rule.is_no_user_prediction:
        return True
    probabilities = list(rule.probabilities)
    rejected = rejected_action(tracker)
    if rejected is not None:
        index = domain.index_for_action(rejected)
        if index is not None and index < len(probabilities):
            probabilities[index] = 0.0
    return bool(probabilities) and max(probabilities) >= 1.0


class RulesFirst:
    """TED's graph node, called after RulePolicy's: TED's prediction, or an empty one (all
    zeros, as a TED without a model gives) when the rule decides."""

    def __init__(self, ted: GraphNode, rule_node: str) -> None:
        self.ted = ted
        self.rule_node = rule_node
        self.tracker_node = ted._inputs.get("tracker")
        self.domain_node = ted._inputs.get("domain")
        # Fixed by the loaded model (prediction graphs load their components at once).
        policy = ted._component
        self.ted_may_predict_end_to_end = (not isinstance(policy, TEDPolicy)
                                           or TEXT in policy.fake_features)

    def __call__(self, *inputs: Any) -> tuple[str, Any]:
        received = dict(item for item in inputs if isinstance(item, tuple))
        rule = received.get(self.rule_node)
        tracker = received.get(self.tracker_node)
        domain = received.get(self.domain_node)
        if (isinstance(rule, PolicyPrediction) and isinstance(tracker, DialogueStateTracker)
                and isinstance(domain, Domain) and not self.ted_may_predict_end_to_end
                and rule_decides(rule, tracker, domain)):
            COUNTS.skipped += 1
            policy: TEDPolicy = self.ted._component
            return self.ted._node_name, policy._prediction(policy._default_predictions(domain))
        COUNTS.ran += 1
        return self.ted(*inputs)


def _policy_nodes(schema: GraphSchema, kind: type) -> list[str]:
    return [name for name, node in schema.nodes.items()
            if node.fn == PREDICT and isinstance(node.uses, type) and issubclass(node.uses, kind)]


_rasa_build_dask_graph = DaskGraphRunner._build_dask_graph


def build_dask_graph(self: DaskGraphRunner, schema: GraphSchema) -> dict[str, Any]:
    """Rasa's graph, TED's node run after RulePolicy's through :class:`RulesFirst`."""
    graph = _rasa_build_dask_graph(self, schema)
    rules, teds = _policy_nodes(schema, RulePolicy), _policy_nodes(schema, TEDPolicy)
    if len(rules) != 1:
        return graph
    for name in teds:
        node, *needs = graph[name]
        wrapper = _WRAPPERS.get(name)
        if wrapper is None or wrapper.ted is not node:
            wrapper = _WRAPPERS[name] = RulesFirst(node, rules[0])
        graph[name] = (wrapper, *needs, rules[0])
    return graph


def install() -> None:
    DaskGraphRunner._build_dask_graph = build_dask_graph  # type: ignore[method-assign]


def uninstall() -> None:
    DaskGraphRunner._build_dask_graph = _rasa_build_dask_graph  # type: ignore[method-assign]
