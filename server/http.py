"""What every CivicLine HTTP handler shares: the input error, worker threads, JSON bodies, the
API's bearer token, and the loaded Rasa agent.

The console (server/console/), the case API (server/api.py), the hand-off API
(server/handoff_api.py) and the staff actions they share (server/conversations.py) import these
from here. The channels (channels/) do not: they are Rasa input channels that the server mounts,
so they depend on nothing in ``server`` and run their database work with ``asyncio.to_thread``
themselves.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, TypeVar

from sanic import Blueprint, response
from sanic.request import Request
from sqlalchemy.exc import SQLAlchemyError

from bot.config import get_settings

logger = logging.getLogger(__name__)
T = TypeVar("T")

API_ACTOR = "api"  # who API writes are audited as
Route = tuple[str, str, Callable]  # (method, URI, handler): each module's ROUTES table


class InputError(Exception):
    """A request that cannot be done: ``status`` (400 or 422 for bad input, 404, 409, 503...),
    a message and optional per-field errors; ``require_token`` turns it into the JSON error."""

    def __init__(self, message: str, status: int = 422, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.fields = fields or {}


async def in_thread(function: Callable[..., T], *args: Any) -> T:
    """Database work off the event loop, so a slow query never stalls the webhooks."""
    return await asyncio.to_thread(function, *args)


def mount(bp: Blueprint, routes: Iterable[Route], group: str) -> None:
    """Attach a module's route table to the platform blueprint (route names: group_handler,
    unique across the modules that share the blueprint)."""
    for method, uri, handler in routes:
        bp.add_route(handler, uri, methods=[method], name=f"{group}_{handler.__name__}")


def agent_of(request: Request) -> Any:
    """The Rasa agent the server loaded (None until its model is loaded)."""
    return getattr(request.app.ctx, "agent", None)


def json_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON object, or a 400 saying what is wrong with it."""
    try:
        body = request.json
    except Exception as exc:  # Sanic raises InvalidUsage for malformed JSON
        raise InputError("the body must be valid JSON", status=400) from exc
    if not isinstance(body, dict):
        raise InputError("the body must be a JSON object", status=400)
    return body


def only_fields(body: dict, *allowed: str) -> None:
    """A 422 naming every field of ``body`` that is not ``allowed``."""
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise InputError(f"unknown field(s): {', '.join(unknown)}",
                         fields={name: "unknown" for name in unknown})


def _token_matches(request: Request) -> bool:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    expected = get_settings().api_token
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(),
                                                               expected.encode())


def _input_error(exc: InputError) -> response.HTTPResponse:
    body: dict[str, Any] = {"error": str(exc)}
    if exc.fields:
        body["fields"] = exc.fields
    return response.json(body, status=exc.status)


def require_token(handler: Callable) -> Callable:
    """401 unless the bearer token matches (compared in constant time); an
    :class:`InputError` becomes its JSON error, a database failure a 503 (never a 500)."""

    @wraps(handler)
    async def wrapper(request: Request, *args: Any, **kwargs: Any) -> response.HTTPResponse:
        if not _token_matches(request):
            return response.json({"error": "missing or wrong bearer token"}, status=401,
                                 headers={"WWW-Authenticate": 'Bearer realm="civicline"'})
        try:
            return await handler(request, *args, **kwargs)
        except InputError as exc:
            return _input_error(exc)
        except SQLAlchemyError:  # the database is down or locked: say so, never a 500
            logger.exception("api: %s %s: database error", request.method, request.path)
            return response.json({"error": "the database is unavailable; try again shortly"},
                                 status=503, headers={"Retry-After": "5"})

    return wrapper
