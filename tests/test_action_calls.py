"""Cheaper action calls (server/action_calls.py): the body decodes to what Rasa would have sent
(the domain encoded once, and only for the actions that read it), the events from a few user
messages back, one kept connection to the action server instead of one per call, and no slot
validation call while the conversation is not paused (where CivicLine's does nothing)."""

from __future__ import annotations

import asyncio
import json
import warnings

import pytest
from aiohttp import web
from rasa.core.actions.action import ActionExtractSlots, RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    ConversationPaused,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig, read_endpoint_config

from actions.handoff import ActionValidateSlotMappings
from server import action_calls, action_server
from tests.support.environment import ROOT

pytestmark = pytest.mark.slow  # Rasa's domain: seconds to load


@pytest.fixture(scope="module")
def installed() -> object:
    original = (RemoteAction._action_call_format, RemoteAction._validate_action_result,
                EndpointConfig.session, ActionExtractSlots._execute_validation_action)
    action_calls.install()
    yield
    (RemoteAction._action_call_format, RemoteAction._validate_action_result,
     EndpointConfig.session, ActionExtractSlots._execute_validation_action) = original


@pytest.fixture(scope="module")
def loaded_domain() -> Domain:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Domain.load(str(ROOT / "domain"))


async def stand_in_action_server(calls: list[tuple[str | None, int]]
                                 ) -> tuple[web.AppRunner, EndpointConfig]:
    """An action server on a free port that answers nothing and records each call's action
    and the client's port (one port: one connection)."""
    async def answer(request: web.Request) -> web.Response:
        calls.append(((await request.json()).get("next_action"),
                      request.transport.get_extra_info("peername")[1]))
        return web.json_response({"events": [], "responses": []})

    app = web.Application()
    app.router.add_post("/webhook", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    return runner, EndpointConfig(f"http://127.0.0.1:{port}/webhook")


def test_a_body_decodes_to_what_json_would_give_and_the_domain_is_encoded_once() -> None:
    domain = {"responses": {"utter_x": [{"text": "¿Dónde? https://a.gov/x — مرحبا"}]}}
    body = {"next_action": "validate_x", "tracker": {"events": [{"event": "user",
                                                                  "text": "a/b \"c\" é",
                                                                  "timestamp": 1.25e9}]},
            "domain": domain}
    assert json.loads(action_calls.serialize(body)) == json.loads(json.dumps(body))
    encoded = action_calls._EncodedDomain.text
    assert json.loads(action_calls.serialize({**body, "sender_id": "+34600"}))["domain"] == \
        domain
    assert action_calls._EncodedDomain.text is encoded  # spliced, not encoded again
    assert json.loads(action_calls.serialize([1, "x"])) == [1, "x"]


def test_only_the_actions_that_read_the_domain_get_it_and_events_start_a_few_turns_back(
        installed: object, loaded_domain: Domain, monkeypatch: pytest.MonkeyPatch) -> None:
    domain = loaded_domain
    monkeypatch.setenv("ACTION_ENDPOINT_URL", "http://127.0.0.1:1/webhook")
    monkeypatch.setenv("CIVICLINE_ACTION_SECRET", "s")
    endpoint = read_endpoint_config(str(ROOT / "endpoints.yml"), "action_endpoint")
    events = [ActionExecuted("action_listen")]
    for turn in range(10):
        events += [UserUttered(f"message {turn}", {"name": "affirm", "confidence": 1.0}),
                   SlotSet("language", "en"), BotUttered(f"reply {turn}"),
                   ActionExecuted("action_listen")]
    tracker = DialogueStateTracker.from_events("calls", events, domain.slots)
    bodies = {name: RemoteAction(name, endpoint)._action_call_format(tracker, domain)
              for name in ("action_detect_language", "validate_report_problem_form",
                           "action_session_start")}
    assert "domain" not in bodies["action_detect_language"]
    assert bodies["validate_report_problem_form"]["domain"] is domain.as_dict()
    assert bodies["action_session_start"]["domain"] is domain.as_dict()
    sent = bodies["action_detect_language"]["tracker"]["events"]
    said = [event["text"] for event in sent if event["event"] == "user"]
    assert said == [f"message {turn}" for turn in range(10 - action_calls.DEFAULT_EVENT_TURNS,
                                                         10)]
    assert sent[-1] == events[-1].as_dict()
    whole = bodies["action_detect_language"]["tracker"]
    assert whole["slots"]["language"] == "en" and whole["latest_message"]["text"] == "message 9"


def test_calls_share_one_kept_connection(installed: object) -> None:
    async def scenario() -> tuple[set[int], list[object]]:
        calls: list[tuple[str | None, int]] = []
        runner, endpoint = await stand_in_action_server(calls)
        answers = [await endpoint.request(json={"n": n}, method="post") for n in range(5)]
        sessions = {id(endpoint.session().session) for _ in range(3)}
        await runner.cleanup()
        for _loop, _endpoint, kept in list(action_calls._KEPT.values()):
            await kept.close()
        return {port for _action, port in calls}, [*answers, len(sessions)]

    peers, results = asyncio.run(scenario())
    assert results[:5] == [{"events": [], "responses": []}] * 5
    assert results[5] == 1  # one session for the endpoint in this loop
    assert len(peers) == 1  # five calls, one connection


def test_the_action_server_keeps_idle_connections_longer_than_the_rasa_server() -> None:
    """Else the action server could close a kept connection as a call goes out on it."""
    app = action_server.build_app(secret="s")
    assert app.config.KEEP_ALIVE_TIMEOUT == action_server.KEEP_ALIVE_SECONDS
    assert action_calls.CLIENT_KEEP_ALIVE_SECONDS < action_server.KEEP_ALIVE_SECONDS


def test_slot_validation_is_called_only_while_the_conversation_is_paused(
        installed: object, loaded_domain: Domain) -> None:
    """Skipping the call is right only because CivicLine's validation action does nothing
    then: no event, no message (checked here on the action itself)."""
    extracted = [SlotSet("language", "es"), BotUttered("dropped by Rasa"),
                 SlotSet("urgency", None)]
    events = [ActionExecuted("action_listen"),
              UserUttered("hola", {"name": "greet", "confidence": 1.0})]

    async def scenario(paused: bool) -> tuple[list[object], list[str | None]]:
        calls: list[tuple[str | None, int]] = []
        runner, endpoint = await stand_in_action_server(calls)
        tracker = DialogueStateTracker.from_events(
            "paused" if paused else "talking",
            [ConversationPaused(), *events] if paused else events, loaded_domain.slots)
        try:
            kept = await ActionExtractSlots(endpoint)._execute_validation_action(
                extracted, None, None, tracker, loaded_domain)
        finally:
            await runner.cleanup()
            for _loop, _endpoint, session in list(action_calls._KEPT.values()):
                await session.close()
        return kept, [action for action, _port in calls]

    slots_only = [event for event in extracted if isinstance(event, SlotSet)]
    assert asyncio.run(scenario(paused=False)) == (slots_only, [])
    assert asyncio.run(scenario(paused=True)) == (slots_only, ["action_validate_slot_mappings"])

    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    dispatcher = CollectingDispatcher()
    talking = Tracker("talking", {"language": "es"}, {"text": "ayuda", "intent": {
        "name": "request_human"}, "entities": [{"entity": "urgency", "value": "urgent"}]},
        [], False, None, {}, "action_listen")
    assert ActionValidateSlotMappings().run(dispatcher, talking, {}) == []
    assert dispatcher.messages == []
