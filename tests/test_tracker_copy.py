"""A tracker's copy without the replay (server/tracker_copy.py): after every event of a
conversation with rewinds, a form, a pause, a restart and a new session, the same tracker as
Rasa's copy by replay, and one the original's later events do not touch."""

from __future__ import annotations

from typing import Any

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ConversationPaused,
    ConversationResumed,
    FollowupAction,
    LoopInterrupted,
    SlotSet,
)
from rasa.shared.core.trackers import DialogueStateTracker

from server import tracker_copy
from tests.support.rasa_events import conversation

pytestmark = pytest.mark.slow  # Rasa's domain and TensorFlow's import: seconds


def state(tracker: DialogueStateTracker) -> dict[str, Any]:
    """Everything a tracker holds: its attributes, its events (the objects), its slots."""
    found = {key: value for key, value in vars(tracker).items()
             if key not in ("events", "slots")}
    found["events"] = [id(event) for event in tracker.events]
    found["slots"] = {name: (type(slot), vars(slot)) for name, slot in tracker.slots.items()}
    return found


def test_after_every_event_the_copy_is_rasas(project: Domain) -> None:
    events = conversation(project)
    form = next(iter(project.form_names), None)
    events[20:20] = [ConversationPaused(), ConversationResumed(), FollowupAction("utter_default"),
                     ActionExecuted("utter_default")]
    if form:
        events[40:40] = [LoopInterrupted(True)]
    tracker = DialogueStateTracker("copy-1", project.slots)
    tracker.model_id, tracker.assistant_id = "model", "civicline"
    for event in events:
        tracker.update(event)
        ours = tracker_copy.copy_tracker(tracker)
        assert state(ours) == state(tracker_copy._rasa_copy(tracker)), event
    language = next(s.name for s in project.slots if s.name == "language")
    before = state(ours)
    tracker.update(SlotSet(language, "fr"))
    tracker.update(ActionExecuted("utter_default"))
    assert state(ours) == before
