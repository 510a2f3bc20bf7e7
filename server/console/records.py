"""Past conversations and the audit log: ``/console/search`` (by phone, case reference or
day; every staff member) and ``/console/audit`` (administrators)."""

from __future__ import annotations

from typing import Any

from sanic import response
from sanic.request import Request
from sqlalchemy import select

from bot.callcentre import handoffs, search
from bot.domain import audit
from bot.store.db import session_scope
from bot.store.models import AuditEntry
from server.console.auth import staff_only
from server.console.templating import page
from server.http import in_thread

AUDIT_PAGE = 50


def _search(text: str, day: str, actor: str) -> dict[str, Any]:
    wanted = search.parse(text, day)
    with session_scope() as session:
        return {"results": [handoffs.to_json(h) for h in search.find(session, wanted,
                                                                     actor=actor)]}


@staff_only()
async def search_page(request: Request) -> response.HTTPResponse:
    viewer = request.ctx.viewer
    text, day = request.args.get("q", ""), request.args.get("day", "")
    form = {"q": text, "day": day}
    if not text and not day:
        return page("search.html", viewer=viewer, form=form, results=None)
    try:
        data = await in_thread(_search, text, day, viewer.username)
    except search.SearchError as exc:
        return page("search.html", 422, viewer=viewer, form=form, results=None, error=str(exc))
    return page("search.html", viewer=viewer, form=form, **data)


def _audit_data(before: int | None, actor: str, action: str) -> dict[str, Any]:
    with session_scope() as session:
        query = select(AuditEntry)
        if before:
            query = query.where(AuditEntry.id < before)
        if actor:
            query = query.where(AuditEntry.actor == actor)
        if action:
            query = query.where(AuditEntry.action.startswith(action))
        rows = list(session.scalars(query.order_by(AuditEntry.id.desc()).limit(AUDIT_PAGE + 1)))
        verdict = audit.verify(session)
        session.expunge_all()
    return {"entries": rows[:AUDIT_PAGE], "older": rows[AUDIT_PAGE - 1].id
            if len(rows) > AUDIT_PAGE else None, "verdict": verdict}


@staff_only(admin=True)
async def audit_page(request: Request) -> response.HTTPResponse:
    before = request.args.get("before", "")
    actor, action = request.args.get("actor", "").strip(), request.args.get("action", "").strip()
    data = await in_thread(_audit_data, int(before) if before.isdigit() else None, actor, action)
    return page("audit.html", viewer=request.ctx.viewer, form={"actor": actor, "action": action},
                **data)
