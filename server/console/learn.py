"""The learning inbox at ``/console/learn`` (every staff member): the misunderstood messages of
the last days, masked and grouped (bot/learn/inbox.py), and the label a staff member gives a
group (audited)."""

from __future__ import annotations

from typing import Any

from sanic import response
from sanic.request import Request

from bot.learn import inbox
from bot.store.db import session_scope
from server.console.auth import staff_only
from server.console.templating import PREFIX, page, redirect
from server.http import in_thread

PERIODS = (7, 30, 90)
DEFAULT_DAYS = 30


def _days(value: str | None) -> int:
    return int(value) if value and value.isdigit() and int(value) in PERIODS else DEFAULT_DAYS


def _inbox(days: int) -> dict[str, Any]:
    with session_scope() as session:
        groups, reviewed = inbox.inbox(session, *inbox.period(days))
    return {"groups": groups, "reviewed": reviewed, "intents": inbox.intents(), "days": days}


@staff_only()
async def learn(request: Request, status: int = 200, error: str | None = None,
                days: int | None = None) -> response.HTTPResponse:
    days = days or _days(request.args.get("days"))
    notice = "Label saved." if request.args.get("done") == "labelled" else None
    return page("learn.html", status, viewer=request.ctx.viewer, error=error, notice=notice,
                **await in_thread(_inbox, days))


def _label(days: int, keys: list[str], intent: str, actor: str) -> int:
    with session_scope() as session:
        return inbox.label(session, *inbox.period(days), keys, intent, actor)


@staff_only()
async def label(request: Request) -> response.HTTPResponse:
    days = _days(request.form.get("days"))
    keys = request.form.getlist("key") or []
    intent = request.form.get("intent") or ""
    try:
        await in_thread(_label, days, keys, intent, request.ctx.viewer.username)
    except inbox.LabelError as exc:
        return await learn.__wrapped__(request, 422, str(exc), days)
    return redirect(f"{PREFIX}/learn?days={days}&done=labelled")
