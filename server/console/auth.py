"""Who may use the console: login, logout, sessions, CSRF and the trusted-device cookie.

Argon2 passwords, database sessions and login throttling live in bot.callcentre.staff (which
also audits every login, refused login and logout). The session cookie is HttpOnly,
SameSite=Strict, limited to /console and Secure when PUBLIC_BASE_URL is https; every POST
carries the session's CSRF token (the login form a double-submit token). No session: a redirect
to the login page (a 401 for the pages' background refreshes). Agents get 403 on the admin
pages.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any
from urllib.parse import quote

from sanic import response
from sanic.request import Request

from bot.callcentre import staff
from bot.config import get_settings
from bot.domain import ratelimit
from bot.store.db import session_scope
from server.console.templating import PREFIX, SECURITY_HEADERS, page, redirect
from server.http import in_thread

COOKIE = "civicline_staff"
LOGIN_COOKIE = "civicline_login"
# a trusted device (bot.callcentre.staff): a year, login page only
DEVICE_COOKIE = "civicline_device"
DEVICE_LIFETIME = 365 * 24 * 3600
EXPIRED_FORM = "This form has expired. Go back, reload the page and try again."


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


def set_cookie(resp: response.HTTPResponse, name: str, value: str, path: str,
               max_age: int) -> None:
    resp.cookies[name] = value
    cookie = resp.cookies[name]
    cookie["path"] = path
    cookie["httponly"] = True
    cookie["samesite"] = "Strict"
    cookie["max-age"] = max_age
    if get_settings().public_base_url.startswith("https://"):
        cookie["secure"] = True


def client_ip(request: Request) -> str:
    """The caller's address; X-Forwarded-For only from CIVICLINE_TRUSTED_PROXIES."""
    return ratelimit.client_address(request.ip, request.headers.get("x-forwarded-for"))


def safe_next(target: str | None) -> str:
    """Only our own console pages, never another site (no open redirect)."""
    if target and target.startswith(PREFIX) and not target.startswith("//") and "\\" not in target:
        return target
    return PREFIX


def _same_token(given: str | None, expected: str) -> bool:
    return bool(given) and hmac.compare_digest(given.encode(), expected.encode())


# --- sessions ----------------------------------------------------------------------------------


def _viewer(token: str | None) -> Viewer | None:
    with session_scope() as session:
        found = staff.session_for(session, token)
        if found is None:
            return None
        return Viewer(found.staff.id, found.staff.username, found.staff.role, found.csrf_token)


def _refusal(request: Request, viewer: Viewer | None,
             admin: bool) -> response.HTTPResponse | None:
    """Why this request may not go on (no session, not an admin, no CSRF token), or None."""
    if viewer is None:
        if request.headers.get("x-requested-with") == "fetch":
            return response.text("log in again", status=401, headers=SECURITY_HEADERS)
        target = request.path if request.method == "GET" else PREFIX
        return redirect(f"{PREFIX}/login?next={quote(target)}")
    if admin and not viewer.is_admin:
        return page("forbidden.html", 403, viewer=viewer,
                    message="This page is for administrators.")
    if request.method == "POST" and not _same_token(
            request.form.get("csrf_token") or request.headers.get("x-csrf-token"),
            viewer.csrf):
        return page("forbidden.html", 403, viewer=viewer, message=EXPIRED_FORM)
    return None


def staff_only(admin: bool = False) -> Callable:
    """Pages for logged-in staff (``admin``: administrators only), CSRF-checked on POST; the
    handler finds the staff member in ``request.ctx.viewer``."""

    def decorate(handler: Callable) -> Callable:
        @wraps(handler)
        async def wrapper(request: Request, *args: Any, **kwargs: Any) -> response.HTTPResponse:
            viewer = await in_thread(_viewer, request.cookies.get(COOKIE))
            refused = _refusal(request, viewer, admin)
            if refused is not None:
                return refused
            request.ctx.viewer = viewer
            return await handler(request, *args, **kwargs)

        return wrapper

    return decorate


# --- login and logout --------------------------------------------------------------------------


def _login(username: str, password: str, ip: str, device: str | None) -> staff.LoginResult:
    with session_scope() as session:
        return staff.login(session, username, password, ip, device_cookie=device)


def _logout(token: str | None, username: str) -> None:
    with session_scope() as session:
        staff.logout(session, token, actor=username)


def login_page(request: Request, status: int = 200, error: str | None = None,
               username: str = "") -> response.HTTPResponse:
    token = secrets.token_urlsafe(24)
    wanted = request.form.get("next") if request.method == "POST" else request.args.get("next")
    resp = page("login.html", status, csrf=token, error=error, username=username,
                next=safe_next(wanted))
    set_cookie(resp, LOGIN_COOKIE, token, f"{PREFIX}/login", 3600)
    return resp


async def login_form(request: Request) -> response.HTTPResponse:
    return login_page(request)


def _logged_in(request: Request, result: staff.LoginResult) -> response.HTTPResponse:
    """Back to the page asked for, with the session cookie (and the trusted-device one)."""
    resp = redirect(safe_next(request.form.get("next")))
    set_cookie(resp, COOKIE, result.token or "", PREFIX,
               int(staff.SESSION_LIFETIME.total_seconds()))
    del resp.cookies[LOGIN_COOKIE]
    if result.device_token:
        set_cookie(resp, DEVICE_COOKIE, result.device_token, f"{PREFIX}/login",
                   DEVICE_LIFETIME)
    return resp


async def login_submit(request: Request) -> response.HTTPResponse:
    username = (request.form.get("username") or "").strip()
    if not _same_token(request.form.get("csrf_token") or "",
                       request.cookies.get(LOGIN_COOKIE) or ""):
        return login_page(request, 403, "The form expired. Please try again.", username)
    result = await in_thread(_login, username, request.form.get("password") or "",
                             client_ip(request), request.cookies.get(DEVICE_COOKIE))
    if result.problem == "throttled":
        minutes = -(-result.retry_after // 60)
        return login_page(request, 429, f"Too many failed attempts. Try again in "
                                        f"{minutes} minutes.", username)
    if result.token is None:
        return login_page(request, 401, "Wrong username or password.", username)
    return _logged_in(request, result)


@staff_only()
async def logout(request: Request) -> response.HTTPResponse:
    await in_thread(_logout, request.cookies.get(COOKIE), request.ctx.viewer.username)
    resp = redirect(f"{PREFIX}/login")
    del resp.cookies[COOKIE]
    return resp
