"""The console's conversation pages: the queue, one conversation with its live transcript, and
what an agent does with it (take it, reply, note, hand back, resolve), plus "send to the bot".

The staff actions themselves are shared with the hand-off API (server/conversations.py). Forms
post and redirect back (303) with a notice; on an error the page is rendered again with the
message and what was typed, so an agent's reply is never lost.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sanic import response
from sanic.request import Request
from sqlalchemy import select

from bot.callcentre import handoffs, staffed_hours, transcript
from bot.domain import people
from bot.store import pages
from bot.store.db import session_scope
from bot.store.models import VerificationAttempt
from server import conversations as operations
from server.console.auth import staff_only
from server.console.sms_counter import sms_count
from server.console.templating import PREFIX, notice, page, redirect
from server.http import InputError, agent_of, in_thread

# --- data for the pages (worker threads) ------------------------------------------------------


QUEUE_PAGE = 100  # rows of each table on one page of the queue
LISTS = ("waiting", "active")


def _queue_data(cursors: dict[str, str | None]) -> dict[str, Any]:
    """The queue's two tables, each one page (``cursors``: the API's cursor per table, None
    for its first page) with the cursor of its next page."""
    with session_scope() as session:
        data: dict[str, Any] = {"counts": handoffs.counts(session),
                                "staffed": staffed_hours.is_staffed(session),
                                "page_size": QUEUE_PAGE, "cursors": cursors, "next": {}}
        for name in LISTS:
            found = handoffs.page(session, (name,), QUEUE_PAGE, cursors[name])
            data[name] = [handoffs.to_json(h) for h in found.rows]
            data["next"][name] = found.next_cursor
        return data


def _cursors(request: Request) -> dict[str, str | None]:
    return {name: request.args.get(name) or None for name in LISTS}


async def _queue(request: Request, template: str) -> response.HTTPResponse:
    cursors = _cursors(request)
    try:
        data = await in_thread(_queue_data, cursors)
    except pages.CursorError as exc:
        return page("forbidden.html", 422, viewer=request.ctx.viewer,
                    message=f"That page of the queue cannot be shown: {exc}.")
    query = {name: cursor for name, cursor in cursors.items() if cursor}
    return page(template, viewer=request.ctx.viewer, notice=notice(request), query=query,
                **data)


def _person_data(session: Any, handoff: Any) -> dict[str, Any]:
    person = handoff.person
    attempts = list(session.scalars(select(VerificationAttempt).where(
        VerificationAttempt.person_id == person.id))) if person else []
    return {
        "phone": person.phone if person else None,
        "telegram": person.telegram_user_id if person else None,
        "phone_verified": bool(person and people.verified_phone(person)),
        "language": person.language if person else None,
        "locks": [{"reference": a.reference, "failures": a.failures,
                   "locked_until": a.locked_until} for a in attempts],
    }


def _conversation_data(handoff_id: int, viewer: str | None) -> dict[str, Any] | None:
    """The conversation page's data; ``viewer`` opening the page is audited (the live
    refreshes, with no ``viewer``, are not counted again)."""
    with session_scope() as session:
        if viewer is None:
            handoff = handoffs.get(session, handoff_id)
        else:
            handoff = handoffs.view(session, handoff_id, actor=viewer)
        if handoff is None:
            return None
        return {"handoff": handoffs.to_json(handoff), "notes": list(handoff.notes),
                "states": handoffs.reply_states(session, handoff),
                "canned": handoffs.canned_replies(session, handoff.language),
                "person": _person_data(session, handoff)}


# --- pages -------------------------------------------------------------------------------------


@staff_only()
async def queue(request: Request) -> response.HTTPResponse:
    """The queue, a page of each table at a time (``?waiting=&active=``: the API's cursors)."""
    return await _queue(request, "queue.html")


@staff_only()
async def queue_fragment(request: Request) -> response.HTTPResponse:
    return await _queue(request, "_queue.html")


async def conversation_page(request: Request, handoff_id: int, status: int = 200,
                            error: str | None = None, draft: str = "", note_draft: str = "",
                            template: str = "conversation.html", viewed: bool = False
                            ) -> response.HTTPResponse:
    viewer = request.ctx.viewer
    data = await in_thread(_conversation_data, handoff_id, viewer.username if viewed else None)
    if data is None:
        return page("forbidden.html", 404, viewer=viewer,
                    message=f"There is no conversation {handoff_id}.")
    events = await operations.transcript_events(data["handoff"]["sender_id"])
    entries = transcript.entries(events, data.pop("notes"), states=data.pop("states"),
                                 default_language=data["handoff"]["language"])
    return page(template, status, viewer=viewer, entries=entries, notice=notice(request),
                error=error, draft=draft, note_draft=note_draft, count=sms_count(draft), **data)


@staff_only()
async def conversation(request: Request, handoff_id: int) -> response.HTTPResponse:
    return await conversation_page(request, handoff_id, viewed=True)


@staff_only()
async def transcript_fragment(request: Request, handoff_id: int) -> response.HTTPResponse:
    return await conversation_page(request, handoff_id, template="_transcript.html")


# --- what an agent does ------------------------------------------------------------------------


async def _act(request: Request, handoff_id: int, operation: Callable[[], Awaitable[Any]],
               done: str, **drafts: str) -> response.HTTPResponse:
    """Run a conversation action; errors re-render the page with what was typed."""
    try:
        await operation()
    except InputError as exc:  # operations.NotReady too (503)
        return await conversation_page(request, handoff_id, exc.status, str(exc), **drafts)
    return redirect(f"{PREFIX}/handoffs/{handoff_id}?done={done}#main")


@staff_only()
async def claim(request: Request, handoff_id: int) -> response.HTTPResponse:
    viewer = request.ctx.viewer
    return await _act(request, handoff_id, lambda: operations.claim(
        agent_of(request), handoff_id, viewer.username, viewer.staff_id), "claimed")


@staff_only()
async def reply(request: Request, handoff_id: int) -> response.HTTPResponse:
    viewer, text = request.ctx.viewer, request.form.get("text") or ""
    try:
        delivery = await operations.reply(agent_of(request), handoff_id, text,
                                          viewer.username, viewer.staff_id)
    except InputError as exc:  # operations.NotReady too (503)
        return await conversation_page(request, handoff_id, exc.status, str(exc), text)
    if not delivery.delivered:
        return await conversation_page(
            request, handoff_id, 502, "Your reply was not delivered: "
            + "; ".join(delivery.errors) + ". It is kept below: try again, or phone "
            "the person.", text)
    return redirect(f"{PREFIX}/handoffs/{handoff_id}?done=replied#reply")


@staff_only()
async def note(request: Request, handoff_id: int) -> response.HTTPResponse:
    viewer, text = request.ctx.viewer, request.form.get("text") or ""
    return await _act(request, handoff_id, lambda: operations.note(
        handoff_id, text, viewer.username), "noted", note_draft=text)


@staff_only()
async def release(request: Request, handoff_id: int) -> response.HTTPResponse:
    return await _act(request, handoff_id, lambda: operations.close(
        agent_of(request), handoff_id, request.ctx.viewer.username, "released"), "released")


@staff_only()
async def resolve(request: Request, handoff_id: int) -> response.HTTPResponse:
    return await _act(request, handoff_id, lambda: operations.close(
        agent_of(request), handoff_id, request.ctx.viewer.username, "resolved"), "resolved")


# --- staff to bot ------------------------------------------------------------------------------


@staff_only()
async def send_form(request: Request) -> response.HTTPResponse:
    return page("send.html", viewer=request.ctx.viewer, tasks=operations.TASKS,
                form={}, result=None, error=None)


@staff_only()
async def send_submit(request: Request) -> response.HTTPResponse:
    form = {key: request.form.get(key) or "" for key in ("phone", "task", "language")}
    viewer = request.ctx.viewer
    try:
        result = await operations.send_to_bot(
            agent_of(request), form["phone"], form["task"], form["language"] or None,
            viewer.username)
    except InputError as exc:  # operations.NotReady too (503)
        return page("send.html", exc.status, viewer=viewer, tasks=operations.TASKS,
                    form=form, result=None, error=str(exc))
    status = 200 if result.delivery.delivered else 502
    return page("send.html", status, viewer=viewer, tasks=operations.TASKS, form={},
                result=result, error=None)
