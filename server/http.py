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
import time
from collections.abc import Awaitable, Callable, Iterable
from functools import wraps
from typing import Any, TypeVar

from sanic import Blueprint, response
from sanic.request import Request
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from bot.config import get_settings
from bot.domain import api_clients, idempotency
from bot.store import pages
from bot.store.db import session_scope

logger = logging.getLogger(__name__)
T = TypeVar("T")

API_ACTOR = api_clients.LEGACY_ACTOR  # who writes with CIVICLINE_API_TOKEN are audited as
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


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def _named_client(token: str) -> str | None:
    with session_scope() as session:
        return api_clients.authenticate(session, token)


async def _client_of(request: Request) -> str | None:
    """The audit actor of the request's bearer token: ``api`` for CIVICLINE_API_TOKEN (compared
    in constant time), ``api:NAME`` for a live named client, or None."""
    token = _bearer(request)
    if token is None:
        return None
    expected = get_settings().api_token
    if expected and hmac.compare_digest(token.encode(), expected.encode()):
        return API_ACTOR
    return await in_thread(_named_client, token)


def api_actor(request: Request) -> str:
    """Who this API request's writes are audited as (set by :func:`require_token`)."""
    return request.ctx.api_actor


def _input_error(exc: InputError) -> response.HTTPResponse:
    body: dict[str, Any] = {"error": str(exc)}
    if exc.fields:
        body["fields"] = exc.fields
    return response.json(body, status=exc.status)


def require_token(handler: Callable) -> Callable:
    """401 unless the bearer token is CIVICLINE_API_TOKEN or a live named client's (the client
    is then ``api_actor(request)``); an :class:`InputError` becomes its JSON error, a database
    failure a 503 (never a 500)."""

    @wraps(handler)
    async def wrapper(request: Request, *args: Any, **kwargs: Any) -> response.HTTPResponse:
        try:
            request.ctx.api_actor = await _client_of(request)
            if request.ctx.api_actor is None:
                return response.json({"error": "missing or wrong bearer token"}, status=401,
                                     headers={"WWW-Authenticate": 'Bearer realm="civicline"'})
            return await handler(request, *args, **kwargs)
        except InputError as exc:
            return _input_error(exc)
        except SQLAlchemyError:  # the database is down or locked: say so, never a 500
            logger.exception("api: %s %s: database error", request.method, request.path)
            return response.json({"error": "the database is unavailable; try again shortly"},
                                 status=503, headers={"Retry-After": "5"})

    return wrapper


def page_args(request: Request) -> tuple[int, str | None]:
    """``?limit=&cursor=`` of a list request: limit 1..200 (default 50), or a 422 naming it."""
    raw = request.args.get("limit")
    limit = pages.DEFAULT_LIMIT
    if raw is not None:
        if not raw.isdigit() or not 1 <= int(raw) <= pages.MAX_LIMIT:
            raise InputError(f"'limit' must be a whole number from 1 to {pages.MAX_LIMIT}",
                             fields={"limit": "invalid"})
        limit = int(raw)
    return limit, request.args.get("cursor") or None  # an empty cursor: the first page


def paged(session: Session, query: Any, order: pages.Order, scope: str, limit: int,
          cursor: str | None, to_json: Callable[[Any], dict]) -> dict[str, Any]:
    """One page of a list as the API answers it: ``{"items": [...], "next_cursor": ...}``."""
    try:
        found = pages.page(session, query, order, scope, limit, cursor)
    except pages.CursorError as exc:
        raise InputError(str(exc), fields={"cursor": "invalid"}) from exc
    return {"items": [to_json(row) for row in found.rows], "next_cursor": found.next_cursor}


CreateWork = Callable[[Session, dict, str], tuple[int, Any]]  # (session, body, actor)


def _create_once(work: CreateWork, body: dict, actor: str, key: str | None,
                 print_: str) -> tuple[int, Any, bool]:
    """Run a create in one transaction with its idempotency record; (status, body, replayed)."""
    for attempt in (1, 2):
        try:
            with session_scope() as session:
                stored = idempotency.recall(session, actor, key, print_) if key else None
                if stored is not None:
                    return stored.status, stored.body, True
                status, result = work(session, body, actor)
                if key and 200 <= status < 300:
                    idempotency.remember(session, actor, key, print_, status, result)
                return status, result, False
        except idempotency.KeyReused as exc:
            raise InputError(str(exc), fields={"Idempotency-Key": "reused"}) from exc
        except (IntegrityError, OperationalError):
            # With a key, the likeliest cause is the same key committed a moment ago by another
            # request: once more, and its stored answer is found.
            if attempt == 2 or not key:
                raise
    raise AssertionError("unreachable")


def _key_of(request: Request, body: dict) -> tuple[str | None, str]:
    """The request's ``Idempotency-Key`` (None without one; 400 when malformed) and its
    fingerprint."""
    key = request.headers.get("idempotency-key")
    if key is not None and not idempotency.valid_key(key):
        raise InputError(f"'Idempotency-Key' must be 1 to {idempotency.MAX_KEY} printable ASCII "
                         "characters", status=400, fields={"Idempotency-Key": "invalid"})
    return key, idempotency.fingerprint(request.method, request.path, body)


REPLAYED = {"Idempotent-Replayed": "true"}


async def create(request: Request, work: CreateWork) -> response.HTTPResponse:
    """A POST that creates, with ``Idempotency-Key`` honoured (bot.domain.idempotency): the same
    key and body again get the stored answer (header ``Idempotent-Replayed: true``)."""
    body = json_object(request)
    key, print_ = _key_of(request, body)
    status, result, replayed = await in_thread(_create_once, work, body, api_actor(request),
                                               key, print_)
    return response.json(result, status=status, headers=REPLAYED if replayed else {})


SendWork = Callable[[dict, str], Awaitable[tuple[int, Any]]]  # (body, actor) -> (status, body)
WAIT_FOR_ANSWER = 30.0  # seconds a request waits for another one holding its key
WAIT_STEP = 0.05


def _reserve(actor: str, key: str, print_: str) -> idempotency.Stored | None:
    try:
        with session_scope() as session:
            return idempotency.reserve(session, actor, key, print_)
    except idempotency.KeyReused as exc:
        raise InputError(str(exc), fields={"Idempotency-Key": "reused"}) from exc
    except IntegrityError:  # another request took the key a moment ago
        return idempotency.Stored(idempotency.PENDING, None)
    except OperationalError as exc:
        if "locked" not in str(exc):  # the database is down: a 503, not a wait
            raise
        return idempotency.Stored(idempotency.PENDING, None)  # SQLite: another writer


def _settle(actor: str, key: str, status: int | None, result: Any) -> None:
    with session_scope() as session:
        idempotency.settle(session, actor, key, status, result)


async def once_outside(actor: str, key: str, print_: str,
                       work: Callable[[], Awaitable[tuple[int, Any]]]
                       ) -> tuple[int, Any, bool]:
    """Do ``work`` once for this client's key: (status, body, replayed). The key is taken
    first (one request of a burst does the work; the others wait up to
    :data:`WAIT_FOR_ANSWER` for its answer, then 409), its answer stored after; a failed work
    (not 2xx, or raised) frees the key for a retry."""
    deadline = time.monotonic() + WAIT_FOR_ANSWER
    while (stored := await in_thread(_reserve, actor, key, print_)) is not None:
        if stored.status != idempotency.PENDING:
            return stored.status, stored.body, True
        if time.monotonic() > deadline:
            raise InputError("another request with this Idempotency-Key is still being "
                             "answered: try again shortly", status=409,
                             fields={"Idempotency-Key": "in use"})
        await asyncio.sleep(WAIT_STEP)
    try:
        status, result = await work()
    except BaseException:
        await in_thread(_settle, actor, key, None, None)
        raise
    await in_thread(_settle, actor, key, status, result)
    return status, result, False


async def send_once(request: Request, work: SendWork) -> response.HTTPResponse:
    """A POST whose effect leaves the database (a message to a citizen), with
    ``Idempotency-Key`` honoured as by :func:`create` (:func:`once_outside`): the same key and
    body again get the first answer, and nothing is sent twice."""
    body = json_object(request)
    key, print_ = _key_of(request, body)
    actor = api_actor(request)
    if key is None:
        status, result = await work(body, actor)
        return response.json(result, status=status)
    status, result, replayed = await once_outside(actor, key, print_,
                                                  lambda: work(body, actor))
    return response.json(result, status=status, headers=REPLAYED if replayed else {})
