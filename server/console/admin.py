"""The console's administration (administrators only): staff accounts, staffed hours, holidays
and canned replies; and the held-back SMS page (every staff member).

Each change is one domain operation that writes its own audit entry, naming the administrator.
A form posts and redirects back (303) with a notice; a new or reset password is shown once on
the page instead; an error renders the page again with the message (422, or 404 for a row that
is gone).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

from sanic import response
from sanic.request import Request
from sqlalchemy.orm import Session

from bot.callcentre import handoffs, staff, staffed_hours
from bot.domain import ratelimit
from bot.language.detect import SUPPORTED
from bot.language.vocabulary import DAY_NAMES
from bot.store.db import session_scope
from bot.store.models import STAFF_ROLES, StaffUser, utcnow
from server.console.auth import staff_only
from server.console.templating import PREFIX, notice, page, redirect
from server.http import InputError, in_thread

Secret = tuple[str, str]  # (username, password) shown once
T = TypeVar("T")

# --- data for the pages (worker threads) ------------------------------------------------------


def _admin_data() -> dict[str, Any]:
    with session_scope() as session:
        return {"staff": staff.all_staff(session),
                "hours": staffed_hours.weekly(session),
                "holidays": staffed_hours.holidays(session, dt.date.today()),
                "canned": handoffs.canned_replies(session),
                "day_names": DAY_NAMES["en"],
                "roles": STAFF_ROLES}


def _held_data() -> dict[str, Any]:
    """What the held-back SMS page shows: counts per reason (24 h) and the newest rows."""
    with session_scope() as session:
        counts = ratelimit.held_counts(session, utcnow() - dt.timedelta(days=1))
        held = ratelimit.held_messages(session)
        session.expunge_all()
    return {"counts": counts, "held": held, "countries": sorted(ratelimit.allowed_countries()),
            "budget": ratelimit.sms_budget()}


# --- writes (worker threads) -------------------------------------------------------------------


def _write(change: Callable[[Session], T], refused: type[Exception] | tuple[()] = ()) -> T:
    """``change(session)`` in one transaction; its domain error (``refused``) is a 422."""
    with session_scope() as session:
        try:
            return change(session)
        except refused as exc:
            raise InputError(str(exc)) from exc


def _create_staff(actor: str, username: str, role: str, password: str) -> str:
    """The new account's password when it was generated (shown once), else ''."""
    generated = not password
    password = password or staff.generate_password()
    _write(lambda s: staff.create(s, username, password, role, actor=actor), staff.StaffError)
    return password if generated else ""


def _account(session: Session, staff_id: int) -> StaffUser:
    user = session.get(StaffUser, staff_id)
    if user is None:
        raise InputError("no such account", status=404)
    return user


def _update_staff(actor: str, actor_id: int, staff_id: int, role: str | None,
                  active: bool | None) -> None:
    def change(session: Session) -> None:
        user = _account(session, staff_id)
        if user.id == actor_id and (active is False or (role and role != "admin")):
            raise InputError("you cannot lock yourself out: ask another administrator")
        staff.set_role(session, user, role=role, active=active, actor=actor)
    _write(change, staff.StaffError)


def _reset_password(actor: str, staff_id: int) -> Secret:
    password = staff.generate_password()

    def change(session: Session) -> Secret:
        user = _account(session, staff_id)
        staff.set_password(session, user, password, actor=actor)
        return user.username, password
    return _write(change)


def _save_hours(actor: str, form: dict[str, str]) -> None:
    hours = {day: (form.get(f"opens_{day}"), form.get(f"closes_{day}")) for day in range(7)}
    _write(lambda s: staffed_hours.set_week(s, hours, actor=actor), staffed_hours.HoursError)


def _add_holiday(actor: str, day: str, name: str) -> None:
    try:
        when = dt.date.fromisoformat(day or "")
    except ValueError as exc:
        raise InputError("the date must look like 2026-12-25") from exc
    _write(lambda s: staffed_hours.add_holiday(s, when, name, actor=actor),
           staffed_hours.HoursError)


def _remove_holiday(actor: str, holiday_id: int) -> None:
    if not _write(lambda s: staffed_hours.remove_holiday(s, holiday_id, actor=actor)):
        raise InputError("no such holiday", status=404)


def _add_canned(actor: str, language: str, title: str, text: str) -> None:
    _write(lambda s: handoffs.add_canned_reply(s, language, title, text, actor=actor),
           handoffs.HandoffError)


def _remove_canned(actor: str, reply_id: int) -> None:
    if not _write(lambda s: handoffs.remove_canned_reply(s, reply_id, actor=actor)):
        raise InputError("no such canned reply", status=404)


# --- pages -------------------------------------------------------------------------------------


async def _admin_page(request: Request, status: int = 200, error: str | None = None,
                      secret: Secret | None = None) -> response.HTTPResponse:
    return page("admin.html", status, viewer=request.ctx.viewer, notice=notice(request),
                error=error, secret=secret, supported=SUPPORTED, **await in_thread(_admin_data))


async def _admin_act(request: Request, operation: Callable[[str], Secret | None], done: str
                     ) -> response.HTTPResponse:
    """Run ``operation(actor)``, the administrator's change: back to the page with its notice,
    the password it made, or the error."""
    try:
        secret = await in_thread(operation, request.ctx.viewer.username)
    except InputError as exc:
        return await _admin_page(request, exc.status, str(exc))
    if secret:
        return await _admin_page(request, secret=secret)
    return redirect(f"{PREFIX}/admin?done={done}")


def _field(request: Request, name: str) -> str:
    return request.form.get(name) or ""


@staff_only()
async def held(request: Request) -> response.HTTPResponse:
    return page("held.html", viewer=request.ctx.viewer, **await in_thread(_held_data))


@staff_only(admin=True)
async def admin(request: Request) -> response.HTTPResponse:
    return await _admin_page(request)


@staff_only(admin=True)
async def create_staff(request: Request) -> response.HTTPResponse:
    username = _field(request, "username").strip()
    role, wanted = _field(request, "role") or "agent", _field(request, "password")

    def create(actor: str) -> Secret | None:
        password = _create_staff(actor, username, role, wanted)
        return (staff.normalise_username(username), password) if password else None
    return await _admin_act(request, create, "staff")


@staff_only(admin=True)
async def update_staff(request: Request, staff_id: int) -> response.HTTPResponse:
    viewer_id = request.ctx.viewer.staff_id
    active = {"yes": True, "no": False}.get(_field(request, "active"))
    role = _field(request, "role") or None
    return await _admin_act(request, lambda actor: _update_staff(
        actor, viewer_id, staff_id, role, active), "staff")


@staff_only(admin=True)
async def reset_password(request: Request, staff_id: int) -> response.HTTPResponse:
    return await _admin_act(request, lambda actor: _reset_password(actor, staff_id), "staff")


@staff_only(admin=True)
async def save_hours(request: Request) -> response.HTTPResponse:
    form = {key: _field(request, key) for key in request.form}
    return await _admin_act(request, lambda actor: _save_hours(actor, form), "hours")


@staff_only(admin=True)
async def add_holiday(request: Request) -> response.HTTPResponse:
    day, name = _field(request, "day"), _field(request, "name")
    return await _admin_act(request, lambda actor: _add_holiday(actor, day, name), "holiday")


@staff_only(admin=True)
async def remove_holiday(request: Request, holiday_id: int) -> response.HTTPResponse:
    return await _admin_act(request, lambda actor: _remove_holiday(actor, holiday_id),
                            "holiday")


@staff_only(admin=True)
async def add_canned(request: Request) -> response.HTTPResponse:
    language, title, text = (_field(request, k) for k in ("language", "title", "text"))
    return await _admin_act(request, lambda actor: _add_canned(actor, language, title, text),
                            "canned")


@staff_only(admin=True)
async def remove_canned(request: Request, reply_id: int) -> response.HTTPResponse:
    return await _admin_act(request, lambda actor: _remove_canned(actor, reply_id), "canned")
