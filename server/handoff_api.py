"""The hand-off API (SPEC §7), with the same bearer token and error style as server/api.py.

- ``GET /api/handoffs?status=waiting|active|resolved`` (default: waiting and active)
- ``GET /api/handoffs/{id}``: one hand-off with its transcript
- ``POST /api/handoffs/{id}/messages`` ``{text}``: delivered to the citizen on their channel
  (200; 502 with the provider's error when delivery fails — the text is kept)
- ``POST /api/handoffs/{id}/release`` (back to the bot), ``POST /api/handoffs/{id}/resolve``
- ``POST /api/outreach`` ``{phone, task, language?}``: staff to bot, by SMS

Unknown ids are 404, a hand-off already resolved is 409, bad bodies 400/422, a model not
loaded yet 503 (all as ``InputError``). Writes are audited as actor ``api``.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sanic import Blueprint, response
from sanic.request import Request

from bot.callcentre import handoffs
from bot.store.db import session_scope
from server import conversations
from server.api import API_ACTOR, InputError, in_thread, json_object, require_token


def _statuses(raw: str | None) -> tuple[str, ...]:
    if not raw:
        return handoffs.OPEN
    wanted = tuple(part.strip() for part in raw.split(",") if part.strip())
    wrong = [s for s in wanted if s not in ("waiting", "active", "resolved")]
    if wrong or not wanted:
        raise InputError("'status' must be waiting, active or resolved",
                         fields={"status": "not allowed"})
    return wanted


def _list(raw_status: str | None) -> list[dict[str, Any]]:
    statuses = _statuses(raw_status)
    with session_scope() as session:
        return [handoffs.to_json(h) for h in handoffs.listing(session, statuses)]


def _one(handoff_id: int) -> dict[str, Any]:
    with session_scope() as session:
        handoff = handoffs.get(session, handoff_id)
        if handoff is None:
            raise InputError(f"no hand-off {handoff_id}", status=404)
        notes = list(handoff.notes)
        return {**handoffs.to_json(handoff), "_notes": notes}


def _only(body: dict, *allowed: str) -> None:
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise InputError(f"unknown field(s): {', '.join(unknown)}",
                         fields={name: "unknown" for name in unknown})


def _agent(request: Request):
    return getattr(request.app.ctx, "agent", None)


def add_routes(bp: Blueprint) -> None:
    """Attach the hand-off endpoints to the platform blueprint."""

    @bp.get("/api/handoffs")
    @require_token
    async def list_handoffs(request: Request) -> response.HTTPResponse:
        return response.json(await in_thread(_list, request.args.get("status")))

    @bp.get("/api/handoffs/<handoff_id:int>")
    @require_token
    async def get_handoff(request: Request, handoff_id: int) -> response.HTTPResponse:
        found = await in_thread(_one, handoff_id)
        notes = found.pop("_notes")
        events = await conversations.transcript_events(found["sender_id"])
        found["transcript"] = [
            {**asdict(entry), "at": handoffs.iso(entry.at)}
            for entry in handoffs.transcript(events, notes)]
        return response.json(found)

    @bp.post("/api/handoffs/<handoff_id:int>/messages")
    @require_token
    async def post_message(request: Request, handoff_id: int) -> response.HTTPResponse:
        body = json_object(request)
        _only(body, "text")
        delivery = await conversations.reply(_agent(request), handoff_id, body.get("text"),
                                             API_ACTOR)
        if not delivery.delivered:
            return response.json({"delivered": False, "error": "; ".join(delivery.errors)},
                                 status=502)
        return response.json({"delivered": True})

    async def _close(request: Request, handoff_id: int, resolution: str
                     ) -> response.HTTPResponse:
        delivery = await conversations.close(_agent(request), handoff_id, API_ACTOR, resolution)
        body: dict[str, Any] = {"id": handoff_id, "status": "resolved",
                                "resolution": resolution, "citizen_told": delivery.delivered}
        if delivery.errors:
            body["delivery_error"] = "; ".join(delivery.errors)
        return response.json(body)

    @bp.post("/api/handoffs/<handoff_id:int>/release")
    @require_token
    async def release(request: Request, handoff_id: int) -> response.HTTPResponse:
        return await _close(request, handoff_id, "released")

    @bp.post("/api/handoffs/<handoff_id:int>/resolve")
    @require_token
    async def resolve(request: Request, handoff_id: int) -> response.HTTPResponse:
        return await _close(request, handoff_id, "resolved")

    @bp.post("/api/outreach")
    @require_token
    async def outreach(request: Request) -> response.HTTPResponse:
        body = json_object(request)
        _only(body, "phone", "task", "language")
        done = await conversations.send_to_bot(
            _agent(request), str(body.get("phone") or ""), str(body.get("task") or ""),
            body.get("language"), API_ACTOR)
        result = {"phone": done.phone, "task": done.task, "language": done.language,
                  "messages": done.messages, "delivered": done.delivery.delivered}
        if not done.delivery.delivered:
            result["error"] = "; ".join(done.delivery.errors)
        return response.json(result, status=200 if done.delivery.delivered else 502)
