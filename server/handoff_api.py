"""The hand-off API (SPEC §7), with the same bearer token and error style as server/api.py.

- ``GET /api/handoffs?status=waiting|active|resolved`` (default: waiting and active), paginated
  (``limit``, ``cursor``)
- ``GET /api/handoffs/{id}``: one hand-off with its transcript
- ``POST /api/handoffs/{id}/messages`` ``{text}``: delivered to the citizen on their channel
  (200; 502 with the provider's error when delivery fails — the text is kept)
- ``POST /api/handoffs/{id}/release`` (back to the bot), ``POST /api/handoffs/{id}/resolve``
- ``POST /api/outreach`` ``{phone, task, language?}``: staff to bot, by SMS

The two sends accept ``Idempotency-Key`` (server/http.py ``send_once``): a retried request with
the same key and body is answered from the first, and nothing is sent twice.

Unknown ids are 404, a hand-off already resolved is 409, bad bodies 400/422, a model not
loaded yet 503 (all as ``InputError``). Writes are audited as the API client (``api`` or
``api:NAME``, by the operations themselves). The handlers are listed in :data:`ROUTES`
(mounted by server/platform.py).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sanic import response
from sanic.request import Request
from sqlalchemy import select

from bot.callcentre import handoffs, transcript
from bot.store.db import session_scope
from bot.store.models import Handoff
from server import conversations
from server.http import (
    InputError,
    Route,
    agent_of,
    api_actor,
    in_thread,
    only_fields,
    page_args,
    paged,
    require_token,
    send_once,
)


def _statuses(raw: str | None) -> tuple[str, ...]:
    if not raw:
        return handoffs.OPEN
    wanted = tuple(part.strip() for part in raw.split(",") if part.strip())
    wrong = [s for s in wanted if s not in ("waiting", "active", "resolved")]
    if wrong or not wanted:
        raise InputError("'status' must be waiting, active or resolved",
                         fields={"status": "not allowed"})
    return wanted


def _list(raw_status: str | None, limit: int, cursor: str | None) -> dict[str, Any]:
    """Queue order, as the console shows it: waiting before active, urgent first, then oldest;
    resolved alone: most recently closed first."""
    statuses = _statuses(raw_status)
    query = select(Handoff).where(Handoff.status.in_(statuses))
    with session_scope() as session:
        return paged(session, query, handoffs.page_order(statuses), handoffs.page_scope(statuses),
                     limit, cursor, handoffs.to_json)


def _one(handoff_id: int) -> dict[str, Any]:
    with session_scope() as session:
        handoff = handoffs.get(session, handoff_id)
        if handoff is None:
            raise InputError(f"no hand-off {handoff_id}", status=404)
        notes = list(handoff.notes)
        return {**handoffs.to_json(handoff), "_notes": notes,
                "_states": handoffs.reply_states(session, handoff)}


# --- handlers ----------------------------------------------------------------------------------


@require_token
async def list_handoffs(request: Request) -> response.HTTPResponse:
    return response.json(await in_thread(_list, request.args.get("status"),
                                         *page_args(request)))


@require_token
async def get_handoff(_request: Request, handoff_id: int) -> response.HTTPResponse:
    found = await in_thread(_one, handoff_id)
    notes, states = found.pop("_notes"), found.pop("_states")
    events = await conversations.transcript_events(found["sender_id"])
    found["transcript"] = [{**asdict(entry), "at": handoffs.iso(entry.at)}
                           for entry in transcript.entries(
                               events, notes, states=states,
                               default_language=found["language"])]
    return response.json(found)


@require_token
async def post_message(request: Request, handoff_id: int) -> response.HTTPResponse:
    async def work(body: dict, actor: str) -> tuple[int, dict[str, Any]]:
        only_fields(body, "text")
        delivery = await conversations.reply(agent_of(request), handoff_id, body.get("text"),
                                             actor)
        if not delivery.delivered:
            return 502, {"delivered": False, "error": "; ".join(delivery.errors)}
        return 200, {"delivered": True}

    return await send_once(request, work)


async def _close(request: Request, handoff_id: int, resolution: str) -> response.HTTPResponse:
    delivery = await conversations.close(agent_of(request), handoff_id, api_actor(request),
                                          resolution)
    body: dict[str, Any] = {"id": handoff_id, "status": "resolved",
                            "resolution": resolution, "citizen_told": delivery.delivered}
    if delivery.errors:
        body["delivery_error"] = "; ".join(delivery.errors)
    return response.json(body)


@require_token
async def release(request: Request, handoff_id: int) -> response.HTTPResponse:
    return await _close(request, handoff_id, "released")


@require_token
async def resolve(request: Request, handoff_id: int) -> response.HTTPResponse:
    return await _close(request, handoff_id, "resolved")


@require_token
async def outreach(request: Request) -> response.HTTPResponse:
    async def work(body: dict, actor: str) -> tuple[int, dict[str, Any]]:
        only_fields(body, "phone", "task", "language")
        done = await conversations.send_to_bot(
            agent_of(request), str(body.get("phone") or ""), str(body.get("task") or ""),
            body.get("language"), actor)
        result = {"phone": done.phone, "task": done.task, "language": done.language,
                  "messages": done.messages, "delivered": done.delivery.delivered}
        if not done.delivery.delivered:
            result["error"] = "; ".join(done.delivery.errors)
        return (200 if done.delivery.delivered else 502), result

    return await send_once(request, work)


ROUTES: tuple[Route, ...] = (
    ("GET", "/api/handoffs", list_handoffs),
    ("GET", "/api/handoffs/<handoff_id:int>", get_handoff),
    ("POST", "/api/handoffs/<handoff_id:int>/messages", post_message),
    ("POST", "/api/handoffs/<handoff_id:int>/release", release),
    ("POST", "/api/handoffs/<handoff_id:int>/resolve", resolve),
    ("POST", "/api/outreach", outreach),
)
