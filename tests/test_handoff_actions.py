"""The hand-off actions against the real seeded database, with trackers as Rasa sends them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from rasa_sdk.events import (
    ActionExecuted,
    ActiveLoop,
    ConversationPaused,
    SessionStarted,
    SlotSet,
)
from sqlalchemy import func, select

from actions.handoff import (
    ActionHuman,
    ActionSessionStart,
    ActionValidateSlotMappings,
    ActionWatchHandoff,
    when_back,
)
from bot.callcentre import handoffs, staffed_hours
from bot.store.db import session_scope
from bot.store.models import AuditEntry, Handoff
from tests.support.providers import Providers
from tests.support.trackers import details, make_tracker, run, slot_events, user_event

SENDER = "+15559990001"
URGENT = [{"entity": "urgency", "value": "urgent"}]


def staff_hours(opens: str | None, closes: str | None, only: int | None = None) -> None:
    """Set every weekday (or every day but ``only``, which gets 09:00-17:00) in the database."""
    with session_scope() as session:
        for day in range(7):
            if only is not None and day == only:
                staffed_hours.set_day(session, day, "09:00", "17:00")
            else:
                staffed_hours.set_day(session, day, opens, closes)


@pytest.fixture
def round_the_clock(database: str) -> None:
    staff_hours("00:00", "24:00")


def the_handoff(sender: str = SENDER) -> Handoff:
    with session_scope() as session:
        handoff = handoffs.open_for(session, sender)
        assert handoff is not None
        session.expunge(handoff)
        return handoff


def audit_actions() -> list[str]:
    with session_scope() as session:
        return [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def test_asking_for_a_person_queues_and_pauses(round_the_clock: None, domain: dict) -> None:
    tracker = make_tracker(domain, SENDER, "I want to talk to a person", intent="request_human",
                           active_loop="status_form",
                           slots={"language": "en", "case_reference": "40217382"})
    messages, events = run(ActionHuman(), domain, tracker)
    assert [details(m) for m in messages] == [
        {"response": "utter_handoff_queued", "position": 1, "minutes": 6}]
    assert events[0] == ActiveLoop(None) and events[-1] == ConversationPaused()
    assert slot_events(events)["case_reference"] is None
    handoff = the_handoff()
    assert (handoff.status, handoff.reason, handoff.channel, handoff.language, handoff.paused,
            handoff.urgent) == ("waiting", "request_human", "sms", "en", True, False)
    assert audit_actions() == ["handoff.open"]


def test_distress_words_make_it_urgent_with_emergency_numbers(round_the_clock: None,
                                                              domain: dict) -> None:
    tracker = make_tracker(domain, SENDER, "quiero suicidarme", intent="request_human",
                           entities=URGENT, slots={"language": "es"})
    messages, events = run(ActionHuman(), domain, tracker)
    assert [details(m) for m in messages] == [
        {"response": "utter_handoff_urgent", "emergency": "911", "crisis_line": "988"},
        {"response": "utter_handoff_queued", "position": 1, "minutes": 6}]
    handoff = the_handoff()
    assert (handoff.reason, handoff.urgent, handoff.language) == ("distress", True, "es")
    assert ConversationPaused() in events


def test_yes_to_the_offer_after_two_misses_is_a_fallback_hand_off(round_the_clock: None,
                                                                  domain: dict) -> None:
    offer = {"event": "bot", "text": "Shall I get a person?", "timestamp": None,
             "metadata": {"utter_action": "utter_offer_human"}}
    before = [ActionExecuted("action_listen"), user_event("blorp", "nlu_fallback"),
              ActionExecuted("action_fallback"), offer]
    tracker = make_tracker(domain, SENDER, "yes", intent="affirm", before=before,
                           slots={"language": "en"})
    run(ActionHuman(), domain, tracker)
    assert the_handoff().reason == "fallback"


def test_a_silent_caller_is_put_through(round_the_clock: None, domain: dict) -> None:
    tracker = make_tracker(domain, SENDER, "", intent="request_human", channel="voice",
                           slots={"language": "fr"})
    tracker.events[-1]["metadata"] = {"handoff_reason": "voice_no_input"}
    messages, events = run(ActionHuman(), domain, tracker)
    assert [details(m) for m in messages] == [{"response": "utter_handoff_transfer"}]
    assert messages[0]["custom"] == {"dial": "+15550109999"}
    assert ConversationPaused() not in events
    handoff = the_handoff()
    assert (handoff.reason, handoff.channel, handoff.paused) == ("voice_no_input", "voice",
                                                                 False)


def test_outside_staffed_hours_says_when_staff_are_back(database: str, domain: dict) -> None:
    now = dt.datetime(2026, 12, 2, 20, 0)  # a Wednesday evening
    staff_hours(None, None, only=now.weekday() + 1)  # staff on Thursdays only
    tracker = make_tracker(domain, SENDER, "una persona por favor", intent="request_human",
                           slots={"language": "es"})
    messages, events = run(ActionHuman(now=lambda: now), domain, tracker)
    assert [details(m) for m in messages] == [
        {"response": "utter_handoff_after_hours", "day": "mañana", "time": "09:00"}]
    assert ConversationPaused() not in events  # the bot keeps helping meanwhile
    handoff = the_handoff()
    assert handoff.contact_later and not handoff.paused


def test_no_staffed_hours_at_all_still_promises_contact(database: str, domain: dict) -> None:
    staff_hours(None, None)
    tracker = make_tracker(domain, SENDER, "a person", intent="request_human",
                           slots={"language": "en"})
    messages, _ = run(ActionHuman(), domain, tracker)
    assert [details(m) for m in messages] == [{"response": "utter_handoff_after_hours_later"}]


@pytest.mark.parametrize(("language", "offset", "expected"), [
    ("en", 0, "today"), ("en", 1, "tomorrow"), ("en", 3, "on Thursday"),
    ("es", 3, "el jueves"), ("fr", 3, "jeudi"), ("ar", 3, "يوم الخميس"), ("fr", 0, "aujourd'hui"),
])
def test_when_staff_are_back_in_words(language: str, offset: int, expected: str) -> None:
    monday = dt.date(2030, 1, 7)
    back = dt.datetime.combine(monday + dt.timedelta(days=offset), dt.time(8, 30))
    assert when_back(back, language, today=monday) == (expected, "08:30")


def paused(tracker: Any) -> Any:
    tracker._paused = True
    return tracker


def notes(sender: str = SENDER) -> list[str]:
    with session_scope() as session:
        return [n.text for n in handoffs.open_for(session, sender).notes]


MARKED = SlotSet("urgency", "urgent")


def test_distress_while_waiting_marks_the_hand_off_urgent(round_the_clock: None, domain: dict,
                                                          twilio: Providers) -> None:
    run(ActionHuman(), domain, make_tracker(domain, SENDER, "a person please",
                                            intent="request_human", slots={"language": "en"}))
    tracker = paused(make_tracker(domain, SENDER, "I want to kill myself",
                                  intent="request_human", entities=URGENT,
                                  slots={"language": "fr"}))
    assert run(ActionWatchHandoff(), domain, tracker) == ([], [MARKED])
    assert the_handoff().urgent
    assert notes() == ["The assistant gave the emergency numbers (911, 988) in the "
                       "conversation."]
    # The numbers are said in the conversation, by the validation step Rasa runs next (the
    # one whose messages it keeps while paused), with the slot the watch has just set.
    said = paused(make_tracker(domain, SENDER, "I want to kill myself", intent="request_human",
                               entities=URGENT, slots={"language": "fr"}, after=[MARKED]))
    messages, events = run(ActionValidateSlotMappings(), domain, said)
    assert [details(m) for m in messages] == [
        {"response": "utter_handoff_urgent", "emergency": "911", "crisis_line": "988"}]
    assert events == []
    assert run(ActionWatchHandoff(), domain, tracker) == ([], [])  # once is enough
    # Never a new SMS to the number the sender claimed (nor to anyone: Twilio's stand-in, this
    # test's own, received nothing).
    assert twilio.sms_to(SENDER) == [] and twilio.messages("Messages") == []
    assert audit_actions() == ["handoff.open", "handoff.urgent"]
    with session_scope() as session:  # and no second queue entry
        assert session.scalar(select(func.count()).select_from(Handoff)
                              .where(Handoff.sender_id == SENDER)) == 1


def test_the_validation_step_is_silent_otherwise(round_the_clock: None, domain: dict) -> None:
    run(ActionHuman(), domain, make_tracker(domain, SENDER, "a person please",
                                            intent="request_human", slots={"language": "en"}))
    not_marked = paused(make_tracker(domain, SENDER, "hello", intent="greet",
                                     slots={"language": "en"}))
    assert run(ActionValidateSlotMappings(), domain, not_marked) == ([], [])
    marked_before = paused(make_tracker(domain, SENDER, "hello", intent="greet",
                                        slots={"language": "en"}, before=[MARKED]))
    assert run(ActionValidateSlotMappings(), domain, marked_before) == ([], [])
    not_paused = make_tracker(domain, SENDER, "help", intent="request_human",
                              slots={"language": "en"}, after=[MARKED])
    assert run(ActionValidateSlotMappings(), domain, not_paused) == ([], [])


def test_watch_does_nothing_unless_paused_and_urgent(round_the_clock: None, domain: dict) -> None:
    urgent = make_tracker(domain, SENDER, "I want to kill myself", intent="request_human",
                          entities=URGENT, slots={"language": "en"})
    assert run(ActionWatchHandoff(), domain, urgent) == ([], [])  # action_human does it
    calm = paused(make_tracker(domain, SENDER, "a person", intent="request_human",
                               slots={"language": "en"}))
    assert run(ActionWatchHandoff(), domain, calm) == ([], [])


def test_a_new_session_stays_paused_while_handed_off(round_the_clock: None, domain: dict) -> None:
    tracker = make_tracker(domain, SENDER, "hello", intent="greet", slots={"language": "en"})
    assert run(ActionSessionStart(), domain, tracker)[1] == [
        SessionStarted(), ActionExecuted("action_listen")]
    run(ActionHuman(), domain, make_tracker(domain, SENDER, "a person please",
                                            intent="request_human", slots={"language": "en"}))
    messages, events = run(ActionSessionStart(), domain, tracker)
    assert messages == []
    assert events == [SessionStarted(), ConversationPaused(), ActionExecuted("action_listen")]
