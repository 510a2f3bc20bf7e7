"""A conversation's Rasa events with what makes a tracker's state tricky (tests of
server/tracker_states.py and server/tracker_copy.py)."""

from __future__ import annotations

import itertools

from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    BotUttered,
    Event,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)


def conversation(domain: Domain) -> list[Event]:
    """A session with what makes states tricky: a hidden rule turn, a rewind, an undone
    action, a form's loop, a slot, a restart and a new session."""
    intents = [name for name in domain.intents if not name.startswith("nlu_")][:6]
    slot = next(s.name for s in domain.slots if s.name == "language")
    form = next(iter(domain.form_names), None)
    events: list[Event] = [ActionExecuted("action_session_start"), SessionStarted(),
                           ActionExecuted(ACTION_LISTEN_NAME)]
    for turn, intent in enumerate(itertools.islice(itertools.cycle(intents), 18)):
        events.append(UserUttered(f"text {turn}", {"name": intent, "confidence": 0.9}))
        events.append(SlotSet(slot, ["en", "es", "fr", "ar"][turn % 4]))
        events.append(ActionExecuted("action_detect_language", hide_rule_turn=turn % 3 == 0))
        if turn == 5:
            events.append(UserUtteranceReverted())
            events.append(ActionExecuted(ACTION_LISTEN_NAME))
            events.append(UserUttered("again", {"name": intents[0], "confidence": 0.8}))
        if turn == 7:
            events.append(ActionExecuted("utter_default"))
            events.append(ActionReverted())
        if form and turn == 9:
            events += [ActionExecuted(form), ActiveLoop(form), ActionExecuted(form)]
        if form and turn == 11:
            events += [ActionExecuted(form), ActiveLoop(None)]
        events.append(ActionExecuted("utter_default"))
        events.append(BotUttered("a reply"))
        if turn == 13:
            events.append(Restarted())
        if turn == 15:
            events += [ActionExecuted("action_session_start"), SessionStarted()]
        events.append(ActionExecuted(ACTION_LISTEN_NAME))
    return events
