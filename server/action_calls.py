"""Cheaper calls from the Rasa server to the action server (issue 12 §5: a faster turn).

Every custom action (and the ``language`` slot's mapping action runs on every message) is an
HTTP call that carries the tracker and the domain as JSON. Profiled in Rasa 3.6, that call
cost more than NLU and grew with the conversation:

- **The tracker's events.** Rasa sends every event of the session, so 200 turns in each call
  encoded (and the action server parsed) a megabyte. CivicLine's actions read the events of
  the latest few user messages only (what was said since the person's message, the turn
  before it, misses in a row: actions/conversation.py, handoff.py, status.py, forms.py), and
  rasa_sdk's forms the events since the latest user message; slots, the latest message, the
  active loop and the pause are fields of their own. The furthest any of them looks back is
  three user messages (two misses in a row, and the offer made before the latest message).
  So the events sent start at the ``CIVICLINE_ACTION_EVENT_TURNS``-th latest user message
  (default 6, twice that), and the whole session while it is shorter.
- **The domain.** 200 kB of JSON (four languages of responses), encoded again for each call on
  the event loop (10–25 ms here). Only the actions that read it get it (endpoints.yml,
  ``enable_selective_domain``: the forms' ``validate_*`` actions and
  ``action_session_start``), and it does not change while the server runs: it is encoded
  once and spliced into each body.
- **JSON.** The rest of the body is encoded with ``ujson`` (installed with Sanic), about 2.5
  times faster than ``json`` on an action call's events; it decodes to the same objects.
- **A connection per call.** Rasa opens a new HTTP session and connection for every call;
  here each process keeps one session (and its connections) per event loop for the action
  server, which keeps idle connections longer than the client does
  (server/action_server.py), so a kept connection is not closed under a request.
- **A call that would do nothing.** After every message's slot mappings Rasa calls
  ``action_validate_slot_mappings`` (CivicLine's is in actions/handoff.py), first rebuilding
  a tracker from every event of the conversation. That action acts only while the
  conversation is paused (handed off to staff); otherwise it returns no event and says
  nothing. So while a conversation is not paused the slots are taken as Rasa takes an empty
  answer, without the call (``tests/test_action_calls.py`` holds both sides to it).
- **Validating the answer.** Rasa checks each action server answer against its JSON schema
  with ``jsonschema.validate``, which checks the schema itself and builds a validator on every
  call; the validator is built once here and raises the same ``ValidationError``.

:func:`install` patches Rasa's ``RemoteAction`` and ``EndpointConfig`` (Rasa 3.6 has no
setting for any of this); the Rasa server calls it on start-up (server/platform.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import aiohttp
import rasa
import ujson
from rasa.core.actions.action import ActionExtractSlots, RemoteAction
from rasa.shared.core.events import Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa.utils.endpoints import EndpointConfig

from bot.config import tunable

DEFAULT_EVENT_TURNS = 6


def event_turns() -> int:
    return int(tunable("CIVICLINE_ACTION_EVENT_TURNS", DEFAULT_EVENT_TURNS))


def recent_events(events: Iterable[Event], turns: int) -> list[Event]:
    """The events from the ``turns``-th latest user message on (all of them if fewer)."""
    listed = list(events)
    seen = 0
    for index in range(len(listed) - 1, -1, -1):
        if isinstance(listed[index], UserUttered):
            seen += 1
            if seen == turns:
                return listed[index:]
    return listed


def action_call_format(self: RemoteAction, tracker: DialogueStateTracker,
                       domain: Any) -> dict[str, Any]:
    """Rasa's ``RemoteAction._action_call_format`` with the recent events only."""
    state = tracker.current_state(EventVerbosity.NONE)
    state["events"] = [event.as_dict() for event in recent_events(tracker.events,
                                                                   event_turns())]
    result = {"next_action": self._name, "sender_id": tracker.sender_id, "tracker": state,
              "version": rasa.__version__}
    if not self._is_selective_domain_enabled() or \
            domain.does_custom_action_explicitly_need_domain(self.name()):
        result["domain"] = domain.as_dict()
    return result


class _EncodedDomain:
    """The last domain encoded: Rasa's ``Domain.as_dict()`` is one dict for the model's life."""

    source: dict[str, Any] | None = None
    text: str = ""


def dumps(value: Any) -> str:
    return ujson.dumps(value, ensure_ascii=False, escape_forward_slashes=False)


def serialize(body: Any) -> str:
    """``body`` as JSON, with a domain already encoded spliced in rather than encoded again
    (an action call's ``domain``)."""
    if not isinstance(body, dict) or not isinstance(body.get("domain"), dict):
        return dumps(body)
    domain = body["domain"]
    if _EncodedDomain.source is not domain:
        _EncodedDomain.text, _EncodedDomain.source = dumps(domain), domain
    rest = dumps({key: value for key, value in body.items() if key != "domain"})
    separator = "" if rest == "{}" else ", "
    return f'{rest[:-1]}{separator}"domain": {_EncodedDomain.text}}}'


# Seconds a kept connection to the action server may stay idle; the action server keeps them
# longer (server/action_server.py: KEEP_ALIVE_SECONDS), so it never closes one first.
CLIENT_KEEP_ALIVE_SECONDS = 30


def new_session(self: EndpointConfig) -> aiohttp.ClientSession:
    """Rasa's ``EndpointConfig.session``, encoding JSON bodies with :func:`serialize`."""
    auth = (aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"])
            if self.basic_auth else None)
    from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT

    connector = aiohttp.TCPConnector(keepalive_timeout=CLIENT_KEEP_ALIVE_SECONDS)
    return aiohttp.ClientSession(headers=self.headers, auth=auth, json_serialize=serialize,
                                 connector=connector,
                                 timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT))


class KeptSession:
    """An open session used as ``async with`` (as Rasa uses ``session()``) without closing it."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def __aenter__(self) -> aiohttp.ClientSession:
        return self.session

    async def __aexit__(self, *_exc: object) -> None:
        return None


_KEPT: dict[tuple[int, int],
            tuple[asyncio.AbstractEventLoop, EndpointConfig, aiohttp.ClientSession]] = {}


def session(self: EndpointConfig) -> KeptSession | aiohttp.ClientSession:
    """One session per endpoint and event loop, kept open between requests; outside a running
    loop (or once its loop or session is closed), a new one as Rasa does."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return new_session(self)
    key = (id(self), id(loop))
    kept = _KEPT.get(key)
    if kept is None or kept[0] is not loop or kept[1] is not self or kept[2].closed:
        for stale in [k for k, (old, _, _) in _KEPT.items() if old.is_closed()]:
            del _KEPT[stale]
        kept = _KEPT[key] = (loop, self, new_session(self))
    return KeptSession(kept[2])


class _Validator:
    built: Any = None


def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    """Rasa's ``RemoteAction._validate_action_result`` with the validator built once."""
    from jsonschema import ValidationError
    from jsonschema.exceptions import best_match
    from jsonschema.validators import validator_for
    from rasa.shared.constants import DOCS_BASE_URL

    if _Validator.built is None:
        schema = self.action_response_format_spec()
        cls = validator_for(schema)
        cls.check_schema(schema)
        _Validator.built = cls(schema)
    error = best_match(_Validator.built.iter_errors(result))
    if error is None:
        return True
    if isinstance(error, ValidationError):
        error.message += (". Failed to validate Action server response from API, make sure "
                          "your response from the Action endpoint is valid. For more "
                          f"information about the format visit {DOCS_BASE_URL}/custom-actions")
    raise error


_RASA_EXECUTE_VALIDATION = ActionExtractSlots._execute_validation_action


async def execute_validation_action(self: ActionExtractSlots, extraction_events: list[Event],
                                    output_channel: Any, nlg: Any,
                                    tracker: DialogueStateTracker, domain: Any) -> list[Event]:
    """Rasa's ``ActionExtractSlots._execute_validation_action``, calling the validation action
    only while the conversation is paused: otherwise CivicLine's returns nothing, and Rasa
    keeps every extracted slot of an empty answer (the slot events, in order)."""
    if tracker.is_paused():
        return await _RASA_EXECUTE_VALIDATION(self, extraction_events, output_channel, nlg,
                                              tracker, domain)
    return [event for event in extraction_events if isinstance(event, SlotSet)]


def install() -> None:
    ActionExtractSlots._execute_validation_action = (  # type: ignore[method-assign]
        execute_validation_action)
    RemoteAction._action_call_format = action_call_format  # type: ignore[method-assign]
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]
    EndpointConfig.session = session  # type: ignore[method-assign]
