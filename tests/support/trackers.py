"""Trackers as Rasa sends them to the action server, and running an action on one."""

from __future__ import annotations

import asyncio
import re
import warnings
from typing import Any

from rasa.shared.core.domain import Domain
from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecuted
from rasa_sdk.executor import CollectingDispatcher

from tests.support.environment import ROOT

MESSAGE_KEYS = {"text", "buttons", "elements", "custom", "template", "response", "image",
                "attachment"}


def load_domain() -> dict[str, Any]:
    """The project's Rasa domain, as the action server receives it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Rasa's "slot auto-fill removed" notice
        return Domain.load(str(ROOT / "domain")).as_dict()


def user_event(text: str, intent: str = "inform", entities: list[dict] | None = None,
               channel: str = "sms", confidence: float = 0.95) -> dict[str, Any]:
    parse_data = {"text": text, "intent": {"name": intent, "confidence": confidence},
                  "entities": entities or []}
    return {"event": "user", "timestamp": None, "text": text, "input_channel": channel,
            "parse_data": parse_data}


def make_tracker(domain: dict[str, Any], sender: str, text: str, *, intent: str = "inform",
                 entities: list[dict] | None = None, channel: str = "sms",
                 slots: dict[str, Any] | None = None, before: list[dict] | None = None,
                 after: list[dict] | None = None, active_loop: str | None = None) -> Tracker:
    """A tracker whose latest user message is ``text``; ``after`` follows that message."""
    latest = user_event(text, intent, entities, channel)
    events = [*(before or []), ActionExecuted("action_listen"), latest, *(after or [])]
    all_slots = {name: None for name in domain["slots"]}
    all_slots.update(slots or {})
    return Tracker(sender, all_slots, latest["parse_data"], events, False, None,
                   {"name": active_loop} if active_loop else {}, "action_listen")


def run(action: Any, domain: dict[str, Any], tracker: Tracker
        ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The action's messages (each checked against the domain) and events."""
    dispatcher = CollectingDispatcher()
    result = action.run(dispatcher, tracker, domain)
    if asyncio.iscoroutine(result):
        result = asyncio.run(result)
    check_messages(dispatcher.messages, domain, tracker)
    return dispatcher.messages, result


def check_messages(messages: list[dict[str, Any]], domain: dict[str, Any],
                   tracker: Tracker) -> None:
    """Each response exists and every {placeholder} in every variation gets a value."""
    for message in messages:
        name = message["response"]
        assert name in domain["responses"], name
        given = {key for key in message if key not in MESSAGE_KEYS} | set(tracker.slots)
        for variation in domain["responses"][name]:
            wanted = set(re.findall(r"{(\w+)}", variation.get("text", "")))
            assert wanted <= given, (name, wanted - given)
        for button in message["buttons"]:
            assert button["title"] and button["payload"].startswith("/")


def responses(messages: list[dict[str, Any]]) -> list[str]:
    return [message["response"] for message in messages]


def details(message: dict[str, Any]) -> dict[str, Any]:
    """A dispatched message without the empty standard keys."""
    return {k: v for k, v in message.items() if k not in MESSAGE_KEYS or k == "response"}


def slot_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {event["name"]: event["value"] for event in events if event["event"] == "slot"}
