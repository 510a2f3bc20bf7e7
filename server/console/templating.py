"""The console's pages: the Jinja environment, its filters and names, and every response with
the security headers (a strict Content Security Policy: only our own script and style; no
framing; no caching) and HSTS on https.

The templates and the static files are in server/templates and server/static.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sanic import response
from sanic.request import Request

from bot.domain import ratelimit
from bot.language.vocabulary import ENGLISH_NAMES

SERVER = Path(__file__).resolve().parent.parent
TEMPLATES = SERVER / "templates"
STATIC = SERVER / "static"
PREFIX = "/console"
HSTS = "max-age=31536000; includeSubDomains"
LANGUAGE_NAMES = ENGLISH_NAMES
CHANNEL_NAMES = {"sms": "SMS", "whatsapp": "WhatsApp", "telegram": "Telegram",
                 "voice": "Phone call", "ussd": "USSD", "rest": "Web"}
REASON_NAMES = {"request_human": "Asked for a person", "fallback": "Bot did not understand",
                "voice_no_input": "Silent on a call", "distress": "Distress words"}
SLOT_NAMES = {"case_reference": "Case reference", "date_of_birth": "Date of birth"}
# Forms post and redirect back (303) with one of these keys in ``?done=``.
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


templates = Environment(loader=FileSystemLoader(TEMPLATES),
                        autoescape=select_autoescape(["html"]), trim_blocks=True,
                        lstrip_blocks=True)
templates.filters.update(local=_local, clock=_clock, waited=_waited, iso_local=_iso_local)
templates.globals.update(languages=LANGUAGE_NAMES, channels=CHANNEL_NAMES, reasons=REASON_NAMES,
                         slot_names=SLOT_NAMES, prefix=PREFIX)


def page(name: str, status: int = 200, **context: Any) -> response.HTTPResponse:
    html = templates.get_template(name).render(**context)
    return response.html(html, status=status, headers=dict(SECURITY_HEADERS))


def redirect(location: str) -> response.HTTPResponse:
    return response.redirect(location, status=303, headers=dict(SECURITY_HEADERS))


def notice(request: Request) -> str | None:
    """The message of a form that has just succeeded (``?done=``), if any."""
    return NOTICES.get(request.args.get("done", ""))


async def strict_transport(request: Request, resp: response.HTTPResponse) -> None:
    """HSTS on https responses (X-Forwarded-Proto only from a trusted proxy)."""
    if resp is not None and ratelimit.is_https(
            request.scheme, request.ip, request.headers.get("x-forwarded-proto")):
        resp.headers["Strict-Transport-Security"] = HSTS
