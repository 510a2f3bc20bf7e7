"""The tracker kept between turns (server/tracker_cache.py): used only while the database
proves it is what Rasa's rebuild from the rows would give; otherwise rebuilt.

Two real CivicLineTrackerStores on one SQLite file stand for two workers (or replicas); the
project's own domain and slots; every comparison is against Rasa's own rebuild."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
import sqlalchemy as sa
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from server.tracker_store import CivicLineTrackerStore

pytestmark = pytest.mark.slow  # Rasa's domain and TensorFlow's import: seconds


def store(project: Domain) -> CivicLineTrackerStore:
    made = CivicLineTrackerStore(domain=project)
    made.domain = project
    return made


def complete(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def turn(tracker: DialogueStateTracker, text: str, language: str = "en") -> None:
    now = time.time()
    for event in (UserUttered(text, {"name": "greet", "confidence": 0.9}, timestamp=now),
                  SlotSet("language", language, timestamp=now),
                  ActionExecuted("utter_greet", timestamp=now),
                  BotUttered(f"reply to {text}", timestamp=now),
                  ActionExecuted("action_listen", timestamp=now)):
        tracker.update(event)


def started(sender: str, project: Domain) -> DialogueStateTracker:
    tracker = DialogueStateTracker(sender, project.slots)
    now = time.time()
    for event in (ActionExecuted("action_session_start", timestamp=now),
                  SessionStarted(timestamp=now), ActionExecuted("action_listen", timestamp=now)):
        tracker.update(event)
    return tracker


def rebuilt(sender: str, project: Domain) -> DialogueStateTracker:
    """Rasa's own rebuild of the latest session, by a store that kept nothing."""
    tracker = complete(store(project).retrieve(sender))
    assert tracker is not None
    return tracker


def same(a: DialogueStateTracker, b: DialogueStateTracker) -> bool:
    return [e.as_dict() for e in a.events] == [e.as_dict() for e in b.events] and \
        a.current_slot_values() == b.current_slot_values()


def test_a_saved_conversation_is_read_back_without_a_rebuild_and_matches_one(
        database: str, project: Domain) -> None:
    worker = store(project)
    tracker = started("+15550470001", project)
    turn(tracker, "hello")
    complete(worker.save(tracker))  # a first save holds the session start: not kept
    tracker = complete(worker.retrieve("+15550470001"))
    turn(tracker, "bonjour", "fr")
    complete(worker.save(tracker))
    again = complete(worker.retrieve("+15550470001"))
    assert again is tracker  # kept: no rows read, no replay
    assert same(again, rebuilt("+15550470001", project))
    assert again.get_slot("language") == "fr"
    assert complete(worker.retrieve("+15550470001")) is not tracker  # handed out once only


def test_rows_another_worker_added_are_applied_to_the_kept_tracker(
        database: str, project: Domain) -> None:
    one, two = store(project), store(project)
    tracker = started("+15550470002", project)
    complete(one.save(tracker))
    tracker = complete(one.retrieve("+15550470002"))
    turn(tracker, "hello")
    complete(one.save(tracker))  # kept by worker one
    other = complete(two.retrieve("+15550470002"))
    turn(other, "hola", "es")
    complete(two.save(other))  # worker two answers the next message
    caught_up = complete(one.retrieve("+15550470002"))
    assert caught_up is tracker  # the kept one, brought up to date
    assert same(caught_up, rebuilt("+15550470002", project))
    assert caught_up.get_slot("language") == "es"


def rows(url: str, statement: str, **params: Any) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text(statement), params)
    engine.dispose()


def kept_after_two_turns(worker: CivicLineTrackerStore, project: Domain,
                         sender: str) -> DialogueStateTracker:
    tracker = started(sender, project)
    complete(worker.save(tracker))
    tracker = complete(worker.retrieve(sender))
    turn(tracker, "hello")
    turn(tracker, "what are the opening hours")
    complete(worker.save(tracker))
    return tracker


def test_rows_deleted_or_edited_behind_its_back_mean_a_rebuild(
        database: str, project: Domain) -> None:
    worker = store(project)
    kept = kept_after_two_turns(worker, project, "+15550470003")
    rows(database, "DELETE FROM events WHERE sender_id = :s AND type_name = 'bot'",
         s="+15550470003")  # as `erase` or `purge` would, in part
    read = complete(worker.retrieve("+15550470003"))
    assert read is not kept and same(read, rebuilt("+15550470003", project))
    assert not any(isinstance(e, BotUttered) for e in read.events)

    kept = kept_after_two_turns(worker, project, "+15550470004")
    rows(database, "UPDATE events SET timestamp = timestamp - 7200 WHERE sender_id = :s",
         s="+15550470004")  # the conversation backdated in place (tests/support/stack_data.py)
    read = complete(worker.retrieve("+15550470004"))
    assert read is not kept and same(read, rebuilt("+15550470004", project))


def test_a_new_session_is_never_served_from_the_old_one(
        database: str, project: Domain) -> None:
    worker = store(project)
    tracker = kept_after_two_turns(worker, project, "+15550470005")
    tracker = complete(worker.retrieve("+15550470005"))
    now = time.time()
    new_session: list[Event] = [ActionExecuted("action_session_start", timestamp=now),
                                SessionStarted(timestamp=now),
                                ActionExecuted("action_listen", timestamp=now)]
    for event in new_session:
        tracker.update(event)
    turn(tracker, "hello again")
    complete(worker.save(tracker))
    read = complete(worker.retrieve("+15550470005"))
    assert read is not tracker
    assert same(read, rebuilt("+15550470005", project))
    assert sum(isinstance(e, UserUttered) for e in read.events) == 1  # this session only


def test_a_tracker_changed_in_memory_after_its_save_is_not_handed_out(
        database: str, project: Domain) -> None:
    worker = store(project)
    tracker = kept_after_two_turns(worker, project, "+15550470006")
    turn(tracker, "never saved")  # e.g. a turn that failed before its save
    read = complete(worker.retrieve("+15550470006"))
    assert read is not tracker
    assert not any(getattr(e, "text", None) == "never saved" for e in read.events)
