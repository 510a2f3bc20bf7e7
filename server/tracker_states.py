"""The policies' view of a conversation, computed once per event instead of once per prediction
(issue 12: turn 400 of a conversation no slower than 1.5x turn 1).

Rasa 3.6's policies each ask for the states of the whole session (``Domain.
states_for_tracker_history``) on every prediction: it replays every applied event of the
session into a new tracker and builds a state before each action, so a turn's cost grew with
the conversation (a third of a turn at turn 200). Here each conversation's replay is kept:
the prior tracker after the events seen so far, the states built from them and the loop's two
variables. The next call replays only the events added since, when the session's applied
events still start with exactly the events (the same objects) the kept replay was built from;
anything else (a rewind, a restart, a new session, a rebuilt tracker) starts again from the
first event, as Rasa does. The result is the same list of states Rasa builds, copied (callers
edit states in place), so every policy predicts what it did before.

RulePolicy then matches its rules against every state of the session, though a rule of n
states decides on the last n only: it is given the last states its longest rule can look at.
And it formats every state of the session as text for a debug line on each prediction, logged
or not: the text now shows the last ``SHOWN_STATES`` states and how many came before.
"""

from __future__ import annotations

import itertools
import operator
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from rasa.core.policies.policy import Policy
from rasa.core.policies.rule_policy import RulePolicy
from rasa.shared.core.constants import PREVIOUS_ACTION
from rasa.shared.core.domain import Domain, State
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    Event,
    Restarted,
    SessionStarted,
    UserUtteranceReverted,
)
from rasa.shared.core.trackers import DialogueStateTracker

# How many replays (one per conversation and kind of call) a process keeps.
CAPACITY = 256
# How many of the latest states the policies' debug lines show.
SHOWN_STATES = 12


# Events after which Rasa's applied events are not the earlier ones plus the new ones.
REWINDS = (Restarted, SessionStarted, ActionReverted, UserUtteranceReverted)


@dataclass
class _Replay:
    domain: Domain
    options: tuple[Any, ...]
    tracker: DialogueStateTracker  # the prior tracker after ``events``
    events: list[Event] = field(default_factory=list)  # the applied events replayed so far
    raw: list[Event] = field(default_factory=list)  # the tracker's events they came from
    loops: frozenset[str] = frozenset()  # the loop names among ``raw``
    states: list[State] = field(default_factory=list)
    last_ml_action: dict[str, Any] | None = None
    turn_was_hidden: bool = False

    def continues(self, domain: Domain, options: tuple[Any, ...], applied: list[Event]) -> bool:
        return (domain is self.domain and options == self.options
                and len(applied) >= len(self.events)
                and all(map(operator.is_, self.events, applied)))

    def step(self, hide_rule_turn: bool, omit_unset_slots: bool, ignore_rule_only_turns: bool,
             rule_only_data: dict[str, Any] | None) -> None:
        """The body of Rasa's loop in ``Domain.states_for_tracker_history``, for the prior
        tracker as it is now."""
        domain, tracker = self.domain, self.tracker
        if ignore_rule_only_turns:
            if not self.turn_was_hidden:
                self.last_ml_action = domain._get_prev_action_sub_state(tracker)
            if not tracker.followup_action and \
                    tracker.latest_action_name != tracker.active_loop_name:
                self.turn_was_hidden = hide_rule_turn
            if self.turn_was_hidden:
                return
        state = domain.get_active_state(tracker, omit_unset_slots=omit_unset_slots)
        if ignore_rule_only_turns:
            domain._remove_rule_only_features(state, rule_only_data)
            if self.states:
                domain._substitute_rule_only_user_input(state, self.states[-1])
            if self.last_ml_action:
                state[PREVIOUS_ACTION] = self.last_ml_action  # type: ignore[assignment]
        self.states.append(domain._clean_state(state))


def _loop_names(events: Iterable[Event]) -> set[str]:
    return {e.name for e in events if isinstance(e, ActiveLoop) and e.name}


def applied_events(tracker: DialogueStateTracker, replay: _Replay | None
                   ) -> tuple[list[Event], list[Event] | None]:
    """``tracker.applied_events()``, without going through the whole conversation again when
    the tracker's events are those ``replay`` saw plus new ones that rewind nothing (no
    restart, new session, revert, loop action undone or new loop name): then they are the
    applied events seen plus the new ones, as Rasa's loop would find. With them, the new
    events (None when Rasa's loop went through them all)."""
    events = tracker.events
    if replay is not None and replay.raw and len(events) >= len(replay.raw) \
            and all(map(operator.is_, replay.raw, events)):
        new = list(itertools.islice(events, len(replay.raw), None))
        if _loop_names(new) <= replay.loops and not any(
                isinstance(e, REWINDS) or (isinstance(e, ActionExecuted)
                                           and e.action_name in replay.loops) for e in new):
            return replay.events + new, new
    return tracker.applied_events(), None


class _Replays:
    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self._kept: OrderedDict[tuple[Any, ...], _Replay] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: tuple[Any, ...]) -> _Replay | None:
        with self._lock:
            return self._kept.pop(key, None)

    def keep(self, key: tuple[Any, ...], replay: _Replay) -> None:
        with self._lock:
            self._kept[key] = replay
            while len(self._kept) > self.capacity:
                self._kept.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()


REPLAYS = _Replays()


def _frozen(rule_only_data: dict[str, Any] | None) -> tuple[Any, ...]:
    return tuple(sorted((key, tuple(value) if isinstance(value, list) else value)
                        for key, value in (rule_only_data or {}).items()))


def _copy(state: State) -> State:
    return {kind: dict(sub) if isinstance(sub, dict) else sub  # type: ignore[misc]
            for kind, sub in state.items()}


def states_for_tracker_history(domain: Domain, tracker: DialogueStateTracker,
                               omit_unset_slots: bool = False,
                               ignore_rule_only_turns: bool = False,
                               rule_only_data: dict[str, Any] | None = None) -> list[State]:
    """``Domain.states_for_tracker_history``, continuing the conversation's kept replay."""
    options = (omit_unset_slots, ignore_rule_only_turns, _frozen(rule_only_data),
               tracker.is_rule_tracker, tuple(tracker.slots))
    key = (tracker.sender_id, options)
    replay = REPLAYS.take(key)
    applied, new = applied_events(tracker, replay)
    if replay is None or not replay.continues(domain, options, applied):
        replay, new = _Replay(domain, options, tracker.init_copy()), None
    replay.loops = frozenset(replay.loops | _loop_names(new) if new is not None
                             else _loop_names(tracker.events))
    replay.raw = list(tracker.events)
    for event in applied[len(replay.events):]:
        if isinstance(event, ActionExecuted):
            replay.step(event.hide_rule_turn, omit_unset_slots, ignore_rule_only_turns,
                        rule_only_data)
        replay.tracker.update(event)
        replay.events.append(event)
    # Rasa's last state: the tracker after every event. Not kept: the next event changes it.
    kept = (len(replay.states), replay.last_ml_action, replay.turn_was_hidden)
    replay.step(False, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
    states = [_copy(state) for state in replay.states]
    del replay.states[kept[0]:]
    replay.last_ml_action, replay.turn_was_hidden = kept[1], kept[2]
    REPLAYS.keep(key, replay)
    return states


_rule_lengths: dict[int, tuple[dict[str, str], int, int]] = {}


def _longest_rule(policy: RulePolicy, lookup: dict[str, str]) -> int:
    """The number of states of the longest rule in ``lookup`` (parsed once per lookup)."""
    known = _rule_lengths.get(id(lookup))
    if known is None or known[0] is not lookup or known[1] != len(lookup):
        known = (lookup, len(lookup), max((len(policy._rule_key_to_state(key))
                                           for key in lookup), default=0))
        _rule_lengths[id(lookup)] = known
    return known[2]


_rasa_get_possible_keys = RulePolicy._get_possible_keys
_rasa_states_for_tracker_history = Domain.states_for_tracker_history


def _get_possible_keys(self: RulePolicy, lookup: dict[str, str], states: list[State]
                       ) -> set[str]:
    """Rasa's, on the last states the longest rule can look at: a rule of n states is
    applicable at every turn index from n on, so earlier states change nothing."""
    longest = _longest_rule(self, lookup)
    if longest and len(states) > longest:
        states = states[-longest:]
    return _rasa_get_possible_keys(self, lookup, states)


_rasa_format_tracker_states = Policy.format_tracker_states


def format_tracker_states(states: list[dict]) -> str:
    """Rasa's text of the states for a debug line, of the last ``SHOWN_STATES`` only."""
    if len(states) <= SHOWN_STATES:
        return _rasa_format_tracker_states(states)
    text = _rasa_format_tracker_states(states[-SHOWN_STATES:])
    return f"\n({len(states) - SHOWN_STATES} earlier states not shown){text}"


def install() -> None:
    """Put these in place of Rasa's (in the serving process: the tracker store imports this)."""
    Domain.states_for_tracker_history = states_for_tracker_history  # type: ignore[method-assign]
    RulePolicy._get_possible_keys = _get_possible_keys  # type: ignore[method-assign]
    Policy.format_tracker_states = staticmethod(format_tracker_states)  # type: ignore[method-assign]
