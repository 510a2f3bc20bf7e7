"""The staff console at /console (SPEC §7): server-rendered pages, a little JavaScript.

Security: argon2 passwords and database sessions (bot.callcentre.staff); the session cookie is
HttpOnly,
SameSite=Strict, limited to /console and Secure when PUBLIC_BASE_URL is https; every POST
carries the session's CSRF token (the login form a double-submit token); a strict Content
Security Policy allows only our own script and style. No session: a redirect to the login
page (a 401 for the pages' background refreshes). Agents get 403 on the admin pages.

Forms post and redirect back (303) with a fixed notice key; on an error the page is rendered
again with the message and what was typed, so an agent's reply is never lost.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sanic import Blueprint, response
from sanic.request import Request
from sqlalchemy import select

from bot.callcentre import handoffs, staff, staffed_hours
from bot.config import get_settings
from bot.domain import audit, people, ratelimit
from bot.language.detect import SUPPORTED
from bot.language.vocabulary import DAY_NAMES
from bot.language.vocabulary import ENGLISH_NAMES as LANGUAGE_NAMES
from bot.store.db import session_scope
from bot.store.models import STAFF_ROLES, StaffUser, VerificationAttempt, utcnow
from server import conversations
from server.api import InputError, in_thread

HERE = Path(__file__).resolve().parent
COOKIE = "civicline_staff"
LOGIN_COOKIE = "civicline_login"
# a trusted device (bot.callcentre.staff): a year, login page only
DEVICE_COOKIE = "civicline_device"
DEVICE_LIFETIME = 365 * 24 * 3600
HSTS = "max-age=31536000; includeSubDomains"
PREFIX = "/console"
CHANNEL_NAMES = {"sms": "SMS", "telegram": "Telegram", "voice": "Phone call", "rest": "Web"}
REASON_NAMES = {"request_human": "Asked for a person", "fallback": "Bot did not understand",
                "voice_no_input": "Silent on a call", "distress": "Distress words"}
SLOT_NAMES = {"case_reference": "Case reference", "date_of_birth": "Date of birth"}
NOTICES = {
    "claimed": "You have taken this conversation. The assistant is silent.",
    "replied": "Your reply was sent.",
    "noted": "Note saved.",
    "released": "The conversation is back with the assistant.",
    "resolved": "The conversation is resolved.",
    "hours": "Staffed hours saved.",
    "holiday": "Holidays saved.",
    "canned": "Canned replies saved.",
    "staff": "Account saved.",
}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
                               "img-src 'self' data:; frame-ancestors 'none'; form-action "
                               "'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _local(moment: dt.datetime | None) -> str:
    """A stored UTC time shown in the server's local time."""
    if moment is None:
        return ""
    return moment.replace(tzinfo=dt.timezone.utc).astimezone().strftime("%Y-%m-%d %H:%M")


def _clock(moment: dt.datetime | None) -> str:
    if moment is None:
        return ""
    return moment.replace(tzinfo=dt.timezone.utc).astimezone().strftime("%H:%M")


def _iso_local(stamp: str | None) -> str:
    """An API timestamp ("2026-11-29T11:58:49Z") in the server's local time."""
    if not stamp:
        return ""
    return _local(dt.datetime.fromisoformat(stamp.removesuffix("Z")))


def _waited(seconds: int) -> str:
    minutes = max(0, seconds) // 60
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h {minutes % 60} min"


templates = Environment(loader=FileSystemLoader(HERE / "templates"),
                        autoescape=select_autoescape(["html"]), trim_blocks=True,
                        lstrip_blocks=True)
templates.filters.update(local=_local, clock=_clock, waited=_waited, iso_local=_iso_local)
templates.globals.update(languages=LANGUAGE_NAMES, channels=CHANNEL_NAMES, reasons=REASON_NAMES,
                         slot_names=SLOT_NAMES, prefix=PREFIX)


@dataclass(frozen=True)
class Viewer:
    """The logged-in staff member, as the pages need them."""

    staff_id: int
    username: str
    role: str
    csrf: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


# --- responses ---------------------------------------------------------------------------------


def page(name: str, status: int = 200, **context: Any) -> response.HTTPResponse:
    html = templates.get_template(name).render(**context)
    return response.html(html, status=status, headers=dict(SECURITY_HEADERS))


def redirect(location: str) -> response.HTTPResponse:
    return response.redirect(location, status=303, headers=dict(SECURITY_HEADERS))


def _set_cookie(resp: response.HTTPResponse, name: str, value: str, path: str,
                max_age: int) -> None:
    resp.cookies[name] = value
    cookie = resp.cookies[name]
    cookie["path"] = path
    cookie["httponly"] = True
    cookie["samesite"] = "Strict"
    cookie["max-age"] = max_age
    if get_settings().public_base_url.startswith("https://"):
        cookie["secure"] = True


def _client_ip(request: Request) -> str:
    """The caller's address; X-Forwarded-For only from CIVICLINE_TRUSTED_PROXIES."""
    return ratelimit.client_address(request.ip, request.headers.get("x-forwarded-for"))


def _safe_next(target: str | None) -> str:
    """Only our own console pages, never another site (no open redirect)."""
    if target and target.startswith(PREFIX) and not target.startswith("//") and "\\" not in target:
        return target
    return PREFIX


def _notice(request: Request) -> str | None:
    return NOTICES.get(request.args.get("done", ""))


# --- sessions ----------------------------------------------------------------------------------


def _viewer(token: str | None) -> Viewer | None:
    with session_scope() as session:
        found = staff.session_for(session, token)
        if found is None:
            return None
        return Viewer(found.staff.id, found.staff.username, found.staff.role, found.csrf_token)


def staff_only(admin: bool = False) -> Callable:
    """Pages for logged-in staff (``admin``: administrators only), CSRF-checked on POST."""

    def decorate(handler: Callable) -> Callable:
        @wraps(handler)
        async def wrapper(request: Request, *args: Any, **kwargs: Any) -> response.HTTPResponse:
            viewer = await in_thread(_viewer, request.cookies.get(COOKIE))
            if viewer is None:
                if request.headers.get("x-requested-with") == "fetch":
                    return response.text("log in again", status=401, headers=SECURITY_HEADERS)
                target = request.path if request.method == "GET" else PREFIX
                return redirect(f"{PREFIX}/login?next={quote(target)}")
            if admin and not viewer.is_admin:
                return page("forbidden.html", 403, viewer=viewer,
                            message="This page is for administrators.")
            if request.method == "POST":
                given = request.form.get("csrf_token") or request.headers.get("x-csrf-token")
                if not given or not hmac.compare_digest(given.encode(), viewer.csrf.encode()):
                    return page("forbidden.html", 403, viewer=viewer,
                                message="This form has expired. Go back, reload the page "
                                        "and try again.")
            request.ctx.viewer = viewer
            return await handler(request, *args, **kwargs)

        return wrapper

    return decorate


def _login(username: str, password: str, ip: str, device: str | None) -> staff.LoginResult:
    with session_scope() as session:
        result = staff.login(session, username, password, ip, device_cookie=device)
        name = staff.normalise_username(username)[:64] or "-"
        if result.token:
            audit.record(session, name, "staff.login", name, ip=ip)
        else:
            audit.record(session, name, "staff.login_refused", name, ip=ip,
                         why=result.problem)
        return result


def _logout(token: str | None, username: str) -> None:
    with session_scope() as session:
        staff.logout(session, token)
        audit.record(session, username, "staff.logout", username)


# --- data for the pages (worker threads) ------------------------------------------------------


def _queue_data() -> dict[str, Any]:
    with session_scope() as session:
        rows = [handoffs.to_json(h) for h in handoffs.listing(session)]
        return {"waiting": [r for r in rows if r["status"] == "waiting"],
                "active": [r for r in rows if r["status"] == "active"],
                "counts": handoffs.counts(session),
                "staffed": staffed_hours.is_staffed(session)}


def _conversation_data(handoff_id: int) -> dict[str, Any] | None:
    with session_scope() as session:
        handoff = handoffs.get(session, handoff_id)
        if handoff is None:
            return None
        person = handoff.person
        attempts = list(session.scalars(select(VerificationAttempt).where(
            VerificationAttempt.person_id == person.id))) if person else []
        return {
            "handoff": handoffs.to_json(handoff),
            "notes": list(handoff.notes),
            "canned": handoffs.canned_replies(session, handoff.language),
            "person": {
                "phone": person.phone if person else None,
                "telegram": person.telegram_user_id if person else None,
                "phone_verified": bool(person and people.verified_phone(person)),
                "language": person.language if person else None,
                "locks": [{"reference": a.reference, "failures": a.failures,
                           "locked_until": a.locked_until} for a in attempts],
            },
        }


def _record_view(username: str, handoff_id: int) -> None:
    """Who read which transcript (the live refreshes are not counted again)."""
    with session_scope() as session:
        audit.record(session, username, "handoff.view", str(handoff_id))


def _admin_data() -> dict[str, Any]:
    with session_scope() as session:
        return {"staff": staff.all_staff(session),
                "hours": staffed_hours.weekly(session),
                "holidays": staffed_hours.holidays(session, dt.date.today()),
                "canned": handoffs.canned_replies(session),
                "day_names": DAY_NAMES["en"],
                "roles": STAFF_ROLES}


# --- admin writes (worker threads) ------------------------------------------------------------


def _create_staff(actor: str, username: str, role: str, password: str) -> str:
    generated = not password
    password = password or staff.generate_password()
    with session_scope() as session:
        try:
            user = staff.create(session, username, password, role)
        except staff.StaffError as exc:
            raise InputError(str(exc)) from exc
        audit.record(session, actor, "staff.create", user.username, role=role)
    return password if generated else ""


def _update_staff(actor: str, actor_id: int, staff_id: int, role: str | None,
                  active: bool | None) -> None:
    with session_scope() as session:
        user = session.get(StaffUser, staff_id)
        if user is None:
            raise InputError("no such account", status=404)
        if user.id == actor_id and (active is False or (role and role != "admin")):
            raise InputError("you cannot lock yourself out: ask another administrator")
        try:
            staff.set_role(session, user, role=role, active=active)
        except staff.StaffError as exc:
            raise InputError(str(exc)) from exc
        audit.record(session, actor, "staff.update", user.username, role=user.role,
                     active=user.active)


def _reset_password(actor: str, staff_id: int) -> tuple[str, str]:
    password = staff.generate_password()
    with session_scope() as session:
        user = session.get(StaffUser, staff_id)
        if user is None:
            raise InputError("no such account", status=404)
        staff.set_password(session, user, password)
        audit.record(session, actor, "staff.password_reset", user.username)
        return user.username, password


def _save_hours(actor: str, form: dict[str, str]) -> None:
    with session_scope() as session:
        try:
            for day in range(7):
                staffed_hours.set_day(session, day, form.get(f"opens_{day}"),
                                      form.get(f"closes_{day}"))
        except staffed_hours.HoursError as exc:
            raise InputError(f"{DAY_NAMES['en'][day]}: {exc}") from exc
        audit.record(session, actor, "hours.update", "staffed_hours",
                     hours={str(k): v for k, v in staffed_hours.weekly(session).items()})


def _add_holiday(actor: str, day: str, name: str) -> None:
    try:
        when = dt.date.fromisoformat(day or "")
    except ValueError as exc:
        raise InputError("the date must look like 2026-12-25") from exc
    with session_scope() as session:
        try:
            staffed_hours.add_holiday(session, when, name)
        except staffed_hours.HoursError as exc:
            raise InputError(str(exc)) from exc
        audit.record(session, actor, "holiday.add", when.isoformat(), name=name)


def _remove_holiday(actor: str, holiday_id: int) -> None:
    with session_scope() as session:
        if not staffed_hours.remove_holiday(session, holiday_id):
            raise InputError("no such holiday", status=404)
        audit.record(session, actor, "holiday.remove", str(holiday_id))


def _add_canned(actor: str, language: str, title: str, text: str) -> None:
    with session_scope() as session:
        try:
            reply = handoffs.add_canned_reply(session, language, title, text)
        except handoffs.HandoffError as exc:
            raise InputError(str(exc)) from exc
        audit.record(session, actor, "canned.add", str(reply.id), language=language)


def _remove_canned(actor: str, reply_id: int) -> None:
    with session_scope() as session:
        if not handoffs.remove_canned_reply(session, reply_id):
            raise InputError("no such canned reply", status=404)
        audit.record(session, actor, "canned.remove", str(reply_id))


def _held_data() -> dict[str, Any]:
    """What the held-back SMS page shows: counts per reason (24 h) and the newest rows."""
    with session_scope() as session:
        counts = ratelimit.held_counts(session, utcnow() - dt.timedelta(days=1))
        held = ratelimit.held_messages(session)
        session.expunge_all()
    return {"counts": counts, "held": held, "countries": sorted(ratelimit.allowed_countries()),
            "budget": ratelimit.sms_budget()}


# --- routes ------------------------------------------------------------------------------------


def _agent(request: Request):
    return getattr(request.app.ctx, "agent", None)


def add_routes(bp: Blueprint) -> None:
    """Attach the console's pages to the platform blueprint."""
    bp.static(f"{PREFIX}/static", str(HERE / "static"), name="console_static")

    @bp.middleware("response")
    async def strict_transport(request: Request, resp: response.HTTPResponse) -> None:
        """HSTS on https responses (X-Forwarded-Proto only from a trusted proxy)."""
        if resp is not None and ratelimit.is_https(
                request.scheme, request.ip, request.headers.get("x-forwarded-proto")):
            resp.headers["Strict-Transport-Security"] = HSTS

    @bp.get(f"{PREFIX}/login")
    async def login_form(request: Request) -> response.HTTPResponse:
        return _login_page(request)

    def _login_page(request: Request, status: int = 200, error: str | None = None,
                    username: str = "") -> response.HTTPResponse:
        token = secrets.token_urlsafe(24)
        wanted = request.form.get("next") if request.method == "POST" else request.args.get("next")
        resp = page("login.html", status, csrf=token, error=error, username=username,
                    next=_safe_next(wanted))
        _set_cookie(resp, LOGIN_COOKIE, token, f"{PREFIX}/login", 3600)
        return resp

    @bp.post(f"{PREFIX}/login")
    async def login_submit(request: Request) -> response.HTTPResponse:
        form_token = request.form.get("csrf_token") or ""
        cookie_token = request.cookies.get(LOGIN_COOKIE) or ""
        username = (request.form.get("username") or "").strip()
        if not form_token or not hmac.compare_digest(form_token.encode(), cookie_token.encode()):
            return _login_page(request, 403, "The form expired. Please try again.", username)
        result = await in_thread(_login, username, request.form.get("password") or "",
                                 _client_ip(request), request.cookies.get(DEVICE_COOKIE))
        if result.problem == "throttled":
            minutes = -(-result.retry_after // 60)
            return _login_page(request, 429, f"Too many failed attempts. Try again in "
                                             f"{minutes} minutes.", username)
        if result.token is None:
            return _login_page(request, 401, "Wrong username or password.", username)
        resp = redirect(_safe_next(request.form.get("next")))
        _set_cookie(resp, COOKIE, result.token, PREFIX, int(staff.SESSION_LIFETIME.total_seconds()))
        del resp.cookies[LOGIN_COOKIE]
        if result.device_token:
            _set_cookie(resp, DEVICE_COOKIE, result.device_token, f"{PREFIX}/login",
                        DEVICE_LIFETIME)
        return resp

    @bp.post(f"{PREFIX}/logout")
    @staff_only()
    async def logout(request: Request) -> response.HTTPResponse:
        await in_thread(_logout, request.cookies.get(COOKIE), request.ctx.viewer.username)
        resp = redirect(f"{PREFIX}/login")
        del resp.cookies[COOKIE]
        return resp

    @bp.get(PREFIX)
    @staff_only()
    async def queue(request: Request) -> response.HTTPResponse:
        return page("queue.html", viewer=request.ctx.viewer, notice=_notice(request),
                    **await in_thread(_queue_data))

    @bp.get(f"{PREFIX}/queue")
    @staff_only()
    async def queue_fragment(request: Request) -> response.HTTPResponse:
        return page("_queue.html", viewer=request.ctx.viewer, **await in_thread(_queue_data))

    async def conversation_page(request: Request, handoff_id: int, status: int = 200,
                                error: str | None = None, draft: str = "",
                                note_draft: str = "", template: str = "conversation.html"
                                ) -> response.HTTPResponse:
        data = await in_thread(_conversation_data, handoff_id)
        if data is None:
            return page("forbidden.html", 404, viewer=request.ctx.viewer,
                        message=f"There is no conversation {handoff_id}.")
        events = await conversations.transcript_events(data["handoff"]["sender_id"])
        entries = handoffs.transcript(events, data.pop("notes"))
        return page(template, status, viewer=request.ctx.viewer, entries=entries,
                    notice=_notice(request), error=error, draft=draft, note_draft=note_draft,
                    **data)

    @bp.get(f"{PREFIX}/handoffs/<handoff_id:int>")
    @staff_only()
    async def conversation(request: Request, handoff_id: int) -> response.HTTPResponse:
        await in_thread(_record_view, request.ctx.viewer.username, handoff_id)
        return await conversation_page(request, handoff_id)

    @bp.get(f"{PREFIX}/handoffs/<handoff_id:int>/transcript")
    @staff_only()
    async def transcript_fragment(request: Request, handoff_id: int) -> response.HTTPResponse:
        return await conversation_page(request, handoff_id, template="_transcript.html")

    async def act(request: Request, handoff_id: int, operation: Callable, done: str,
                  **drafts: str) -> response.HTTPResponse:
        """Run a conversation action; errors re-render the page with what was typed."""
        try:
            await operation()
        except InputError as exc:  # conversations.NotReady too (503)
            return await conversation_page(request, handoff_id, exc.status, str(exc), **drafts)
        return redirect(f"{PREFIX}/handoffs/{handoff_id}?done={done}#main")

    @bp.post(f"{PREFIX}/handoffs/<handoff_id:int>/claim")
    @staff_only()
    async def claim(request: Request, handoff_id: int) -> response.HTTPResponse:
        viewer = request.ctx.viewer
        return await act(request, handoff_id, lambda: conversations.claim(
            _agent(request), handoff_id, viewer.username, viewer.staff_id), "claimed")

    @bp.post(f"{PREFIX}/handoffs/<handoff_id:int>/reply")
    @staff_only()
    async def reply(request: Request, handoff_id: int) -> response.HTTPResponse:
        viewer, text = request.ctx.viewer, request.form.get("text") or ""
        try:
            delivery = await conversations.reply(_agent(request), handoff_id, text,
                                                 viewer.username, viewer.staff_id)
        except InputError as exc:  # conversations.NotReady too (503)
            return await conversation_page(request, handoff_id, exc.status, str(exc), text)
        if not delivery.delivered:
            return await conversation_page(
                request, handoff_id, 502, "Your reply was not delivered: "
                + "; ".join(delivery.errors) + ". It is kept below: try again, or phone "
                "the person.", text)
        return redirect(f"{PREFIX}/handoffs/{handoff_id}?done=replied#reply")

    @bp.post(f"{PREFIX}/handoffs/<handoff_id:int>/note")
    @staff_only()
    async def note(request: Request, handoff_id: int) -> response.HTTPResponse:
        viewer, text = request.ctx.viewer, request.form.get("text") or ""
        return await act(request, handoff_id, lambda: conversations.note(
            handoff_id, text, viewer.username), "noted", note_draft=text)

    @bp.post(f"{PREFIX}/handoffs/<handoff_id:int>/release")
    @staff_only()
    async def release(request: Request, handoff_id: int) -> response.HTTPResponse:
        return await act(request, handoff_id, lambda: conversations.close(
            _agent(request), handoff_id, request.ctx.viewer.username, "released"), "released")

    @bp.post(f"{PREFIX}/handoffs/<handoff_id:int>/resolve")
    @staff_only()
    async def resolve(request: Request, handoff_id: int) -> response.HTTPResponse:
        return await act(request, handoff_id, lambda: conversations.close(
            _agent(request), handoff_id, request.ctx.viewer.username, "resolved"), "resolved")

    # --- staff to bot ---

    @bp.get(f"{PREFIX}/send")
    @staff_only()
    async def send_form(request: Request) -> response.HTTPResponse:
        return page("send.html", viewer=request.ctx.viewer, tasks=conversations.TASKS,
                    form={}, result=None, error=None)

    @bp.post(f"{PREFIX}/send")
    @staff_only()
    async def send_submit(request: Request) -> response.HTTPResponse:
        form = {key: request.form.get(key) or "" for key in ("phone", "task", "language")}
        try:
            result = await conversations.send_to_bot(
                _agent(request), form["phone"], form["task"], form["language"] or None,
                request.ctx.viewer.username)
        except InputError as exc:  # conversations.NotReady too (503)
            return page("send.html", exc.status, viewer=request.ctx.viewer,
                        tasks=conversations.TASKS, form=form, result=None, error=str(exc))
        status = 200 if result.delivery.delivered else 502
        return page("send.html", status, viewer=request.ctx.viewer, tasks=conversations.TASKS,
                    form={}, result=result, error=None)

    @bp.get(f"{PREFIX}/held")
    @staff_only()
    async def held(request: Request) -> response.HTTPResponse:
        return page("held.html", viewer=request.ctx.viewer, **await in_thread(_held_data))

    # --- administration ---

    async def admin_page(request: Request, status: int = 200, error: str | None = None,
                         secret: tuple[str, str] | None = None) -> response.HTTPResponse:
        return page("admin.html", status, viewer=request.ctx.viewer, notice=_notice(request),
                    error=error, secret=secret, supported=SUPPORTED,
                    **await in_thread(_admin_data))

    async def admin_act(request: Request, operation: Callable, done: str
                        ) -> response.HTTPResponse:
        try:
            secret = await in_thread(operation)
        except InputError as exc:
            return await admin_page(request, exc.status, str(exc))
        if secret:
            return await admin_page(request, secret=secret)
        return redirect(f"{PREFIX}/admin?done={done}")

    @bp.get(f"{PREFIX}/admin")
    @staff_only(admin=True)
    async def admin(request: Request) -> response.HTTPResponse:
        return await admin_page(request)

    @bp.post(f"{PREFIX}/admin/staff")
    @staff_only(admin=True)
    async def admin_create_staff(request: Request) -> response.HTTPResponse:
        actor, form = request.ctx.viewer.username, request.form
        username = (form.get("username") or "").strip()

        def create() -> tuple[str, str] | None:
            password = _create_staff(actor, username, form.get("role") or "agent",
                                     form.get("password") or "")
            return (staff.normalise_username(username), password) if password else None
        return await admin_act(request, create, "staff")

    @bp.post(f"{PREFIX}/admin/staff/<staff_id:int>")
    @staff_only(admin=True)
    async def admin_update_staff(request: Request, staff_id: int) -> response.HTTPResponse:
        viewer, form = request.ctx.viewer, request.form
        active = {"yes": True, "no": False}.get(form.get("active") or "")
        return await admin_act(request, lambda: _update_staff(
            viewer.username, viewer.staff_id, staff_id, form.get("role") or None, active),
            "staff")

    @bp.post(f"{PREFIX}/admin/staff/<staff_id:int>/password")
    @staff_only(admin=True)
    async def admin_reset_password(request: Request, staff_id: int) -> response.HTTPResponse:
        actor = request.ctx.viewer.username
        return await admin_act(request, lambda: _reset_password(actor, staff_id), "staff")

    @bp.post(f"{PREFIX}/admin/hours")
    @staff_only(admin=True)
    async def admin_hours(request: Request) -> response.HTTPResponse:
        form = {key: request.form.get(key) or "" for key in request.form}
        actor = request.ctx.viewer.username
        return await admin_act(request, lambda: _save_hours(actor, form), "hours")

    @bp.post(f"{PREFIX}/admin/holidays")
    @staff_only(admin=True)
    async def admin_add_holiday(request: Request) -> response.HTTPResponse:
        actor, form = request.ctx.viewer.username, request.form
        return await admin_act(request, lambda: _add_holiday(
            actor, form.get("day") or "", form.get("name") or ""), "holiday")

    @bp.post(f"{PREFIX}/admin/holidays/<holiday_id:int>/delete")
    @staff_only(admin=True)
    async def admin_remove_holiday(request: Request, holiday_id: int) -> response.HTTPResponse:
        actor = request.ctx.viewer.username
        return await admin_act(request, lambda: _remove_holiday(actor, holiday_id), "holiday")

    @bp.post(f"{PREFIX}/admin/canned")
    @staff_only(admin=True)
    async def admin_add_canned(request: Request) -> response.HTTPResponse:
        actor, form = request.ctx.viewer.username, request.form
        return await admin_act(request, lambda: _add_canned(
            actor, form.get("language") or "", form.get("title") or "", form.get("text") or ""),
            "canned")

    @bp.post(f"{PREFIX}/admin/canned/<reply_id:int>/delete")
    @staff_only(admin=True)
    async def admin_remove_canned(request: Request, reply_id: int) -> response.HTTPResponse:
        actor = request.ctx.viewer.username
        return await admin_act(request, lambda: _remove_canned(actor, reply_id), "canned")
