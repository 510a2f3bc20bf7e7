"""The policies' dialogue states for the recent turns only (issue 12 §5: a faster turn).

Before each prediction every policy asks Rasa 3.6 for the state of the conversation before
each action of the session (``Domain.states_for_tracker_history``): slots, intent, entities,
previous action, active form, built anew for every action since the session started, then
mostly thrown away: the memoization and TED policies keep the last ``max_history`` (4 in
config.yml) and the rule policy compares the last few with its rules (the longest rule of the
model is 3 states). 400 turns in, that was a third of a turn's time.

Here the same loop runs over the same prior trackers, with every cheap piece of its state (which
turns are hidden from the ML policies, the previous ML action) carried from the start exactly as
Rasa does, but the expensive state is built only for the last :data:`WINDOW` states the list
would hold, and the list holds only those. So that the first state built is exactly Rasa's, the
window starts at a state that directly follows a user message (``action_listen`` before it):
only such a state does not copy the user input of the state before it. Where no such state
exists the whole history is built as before. Training (`rasa train`) is not changed: the patch
is installed by the Rasa server only (server/platform.py).
"""

from __future__ import annotations

from typing import Any

from rasa.shared.core.constants import ACTION_LISTEN_NAME, PREVIOUS_ACTION
from rasa.shared.core.domain import Domain, State
from rasa.shared.core.trackers import DialogueStateTracker

# States kept: more than any policy's max_history (config.yml: 4) and any rule (3 states).
WINDOW = 12


def _built_from(tracker: DialogueStateTracker, ignore_rule_only_turns: bool) -> int:
    """The index of the prior tracker from which states are built."""
    kept: list[tuple[int, bool]] = []  # (prior tracker index, follows a user message)
    turn_was_hidden = False
    for index, (prior, hide_rule_turn) in enumerate(tracker.generate_all_prior_trackers()):
        if ignore_rule_only_turns:
            if not prior.followup_action and \
                    prior.latest_action_name != prior.active_loop_name:
                turn_was_hidden = hide_rule_turn
            if turn_was_hidden:
                continue
        kept.append((index, prior.latest_action_name == ACTION_LISTEN_NAME))
    if len(kept) <= WINDOW:
        return 0
    if not ignore_rule_only_turns:  # each state stands alone
        return kept[-WINDOW][0]
    for index, after_user in reversed(kept[:len(kept) - WINDOW + 1]):
        if after_user:
            return index
    return 0


def states_for_tracker_history(self: Domain, tracker: DialogueStateTracker,
                               omit_unset_slots: bool = False,
                               ignore_rule_only_turns: bool = False,
                               rule_only_data: dict[str, Any] | None = None) -> list[State]:
    """Rasa's ``Domain.states_for_tracker_history``, the states of the recent turns only."""
    start = _built_from(tracker, ignore_rule_only_turns)
    states: list[State] = []
    last_ml_action_sub_state = None
    turn_was_hidden = False
    for index, (prior, hide_rule_turn) in enumerate(tracker.generate_all_prior_trackers()):
        if ignore_rule_only_turns:
            if not turn_was_hidden:
                last_ml_action_sub_state = self._get_prev_action_sub_state(prior)
            if not prior.followup_action and \
                    prior.latest_action_name != prior.active_loop_name:
                turn_was_hidden = hide_rule_turn
            if turn_was_hidden:
                continue
        if index < start:
            continue
        state = self.get_active_state(prior, omit_unset_slots=omit_unset_slots)
        if ignore_rule_only_turns:
            self._remove_rule_only_features(state, rule_only_data)
            if states:
                self._substitute_rule_only_user_input(state, states[-1])
            if last_ml_action_sub_state:
                state[PREVIOUS_ACTION] = last_ml_action_sub_state  # type: ignore[typeddict-item]
        states.append(self._clean_state(state))
    return states


_rasa_states_for_tracker_history = Domain.states_for_tracker_history


def install() -> None:
    Domain.states_for_tracker_history = states_for_tracker_history  # type: ignore[method-assign]


def rasa_states(domain: Domain, tracker: DialogueStateTracker, **options: Any) -> list[State]:
    """Rasa's own, whole-history states (to compare with)."""
    return _rasa_states_for_tracker_history(domain, tracker, **options)
