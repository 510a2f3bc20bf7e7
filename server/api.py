"""The JSON API under /api (SPEC §7) and the health checks.

Every route checks ``Authorization: Bearer $CIVICLINE_API_TOKEN`` (401 otherwise). Bad input
gets 400 (not JSON / not an object) or 422 (a field is wrong) with a message naming the field;
every write goes to the audit log in the same transaction as the change.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from sanic import Blueprint, response
from sanic.request import Request
from sqlalchemy.exc import SQLAlchemyError

from bot.config import get_settings
from bot.domain import audit, case_detail, cases, notifications, references, services
from bot.domain.phones import to_e164
from bot.language.detect import SUPPORTED
from bot.store.db import session_scope
from bot.store.models import CASE_STATUSES, SERVICE_STATUSES
from server import readiness

logger = logging.getLogger(__name__)

API_ACTOR = "api"
MAX_DETAIL = 2000


class InputError(Exception):
    """A request that cannot be done: ``status`` (400 or 422 for bad input, 404, 409, 503...),
    a message and optional per-field errors; ``require_token`` turns it into the JSON error."""

    def __init__(self, message: str, status: int = 422, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.fields = fields or {}


def error(status: int, message: str, **extra: Any) -> response.HTTPResponse:
    return response.json({"error": message, **extra}, status=status)


def require_token(handler: Callable) -> Callable:
    """401 unless the bearer token matches (compared in constant time)."""

    @wraps(handler)
    async def wrapper(request: Request, *args: Any, **kwargs: Any) -> response.HTTPResponse:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        expected = get_settings().api_token
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            token.strip().encode(), expected.encode()
        ):
            return response.json(
                {"error": "missing or wrong bearer token"},
                status=401,
                headers={"WWW-Authenticate": 'Bearer realm="civicline"'},
            )
        try:
            return await handler(request, *args, **kwargs)
        except InputError as exc:
            body: dict[str, Any] = {"error": str(exc)}
            if exc.fields:
                body["fields"] = exc.fields
            return response.json(body, status=exc.status)
        except SQLAlchemyError:  # the database is down or locked: say so, never a 500
            logger.exception("api: %s %s: database error", request.method, request.path)
            return response.json({"error": "the database is unavailable; try again shortly"},
                                 status=503, headers={"Retry-After": "5"})

    return wrapper


def json_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON object, or a 400 saying what is wrong with it."""
    try:
        body = request.json
    except Exception as exc:  # Sanic raises InvalidUsage for malformed JSON
        raise InputError("the body must be valid JSON", status=400) from exc
    if not isinstance(body, dict):
        raise InputError("the body must be a JSON object", status=400)
    return body


def _string(body: dict, name: str, required: bool = False, max_length: int = 200) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise InputError(f"'{name}' is required", fields={name: "required"})
        return None
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"'{name}' must be a non-empty string", fields={name: "not a string"})
    if len(value) > max_length:
        raise InputError(f"'{name}' is longer than {max_length} characters",
                         fields={name: "too long"})
    return value.strip()


def _choice(body: dict, name: str, choices: tuple[str, ...], required: bool) -> str | None:
    value = _string(body, name, required)
    if value is not None and value not in choices:
        raise InputError(f"'{name}' must be one of: {', '.join(choices)}",
                         fields={name: "not allowed"})
    return value


def _reference(raw: str) -> str:
    reference = references.clean(raw)
    if not references.is_valid(reference):
        raise InputError("the reference must be 8 digits with a valid check digit",
                         fields={"reference": "invalid"})
    return reference


def _detail(body: dict) -> str | dict[str, str] | None:
    """What the case waits for: a string (in the case's language) or, like a service message,
    an object of language code to text (bot.domain.case_detail)."""
    try:
        return case_detail.clean(body.get("detail"))
    except case_detail.DetailError as exc:
        raise InputError(str(exc), fields={"detail": "invalid"}) from exc


def parse_new_case(body: dict) -> dict[str, Any]:
    """Validate a POST /api/cases body into keyword arguments for ``cases.create_case``."""
    fields: dict[str, Any] = {
        "service_slug": _string(body, "service", required=True, max_length=64),
        "status": _choice(body, "status", CASE_STATUSES, required=True),
        "language": _choice(body, "language", SUPPORTED, required=False) or "en",
        "detail": _detail(body),
    }
    raw_phone = _string(body, "phone", max_length=32)
    if raw_phone is not None:
        fields["phone"] = to_e164(raw_phone)
        if fields["phone"] is None:
            raise InputError("'phone' is not a valid phone number (use +countrycode...)",
                             fields={"phone": "invalid"})
    raw_dob = _string(body, "date_of_birth", max_length=10)
    if raw_dob is not None:
        try:
            dob = dt.date.fromisoformat(raw_dob)
        except ValueError as exc:
            raise InputError("'date_of_birth' must be a date like 1980-12-31",
                             fields={"date_of_birth": "invalid"}) from exc
        if dob > dt.date.today():
            raise InputError("'date_of_birth' is in the future",
                             fields={"date_of_birth": "in the future"})
        fields["date_of_birth"] = dob
    unknown = set(body) - {"service", "status", "phone", "date_of_birth", "language", "detail"}
    if unknown:
        raise InputError(f"unknown field(s): {', '.join(sorted(unknown))}",
                         fields={name: "unknown" for name in unknown})
    return fields


async def in_thread(function: Callable, *args: Any) -> Any:
    """Database work off the event loop, so a slow query never stalls the webhooks."""
    return await asyncio.to_thread(function, *args)


def _create_case(body: dict) -> tuple[int, dict]:
    kwargs = parse_new_case(body)
    with session_scope() as session:
        try:
            case = cases.create_case(session, actor=API_ACTOR, **kwargs)
        except cases.CaseError as exc:
            raise InputError(str(exc)) from exc
        audit.record(session, API_ACTOR, "case.create", case.reference, status=case.status)
        return 201, cases.to_json(case)


def _case_json(session: Any, case: Any) -> dict:
    """A case as staff see it, with the delivery of its notifications (SPEC §5.7)."""
    return {**cases.to_json(case), "notifications": notifications.for_case(session, case),
            "verification": cases.verification_json(session, case.reference)}


def _get_case(raw: str) -> tuple[int, dict]:
    reference = _reference(raw)
    with session_scope() as session:
        case = cases.get_by_reference(session, reference)
        if case is None:
            return 404, {"error": f"no case with reference {reference}"}
        return 200, _case_json(session, case)


def _patch_case(raw: str, body: dict) -> tuple[int, dict]:
    reference = _reference(raw)
    status = _choice(body, "status", CASE_STATUSES, required=True)
    note = _string(body, "note", max_length=MAX_DETAIL)
    detail = _detail(body)  # present: replaces the detail in every language; null clears it
    unknown = set(body) - {"status", "note", "detail"}
    if unknown:
        raise InputError(f"unknown field(s): {', '.join(sorted(unknown))}")
    with session_scope() as session:
        case = cases.get_by_reference(session, reference)
        if case is None:
            return 404, {"error": f"no case with reference {reference}"}
        before = case.status
        if "detail" in body:
            cases.set_detail(case, detail)
        cases.change_status(session, case, status, note, actor=API_ACTOR)
        audit.record(session, API_ACTOR, "case.update", reference, before=before, after=status,
                     **({"detail_changed": True} if "detail" in body else {}))
        return 200, _case_json(session, case)


def _list_services() -> tuple[int, Any]:
    with session_scope() as session:
        return 200, [services.to_json(s) for s in services.all_services(session)]


def _put_service_status(slug: str, body: dict) -> tuple[int, dict]:
    status = _choice(body, "status", SERVICE_STATUSES, required=True)
    message = body.get("message")
    if message is not None:
        if not isinstance(message, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in message.items()
        ):
            raise InputError("'message' must be an object of language code to text",
                             fields={"message": "invalid"})
        wrong = sorted(set(message) - set(SUPPORTED))
        if wrong:
            raise InputError(f"'message' has unsupported language(s): {', '.join(wrong)}",
                             fields={"message": "unsupported language"})
        if any(len(v) > 300 for v in message.values()):
            raise InputError("each message must be at most 300 characters",
                             fields={"message": "too long"})
    with session_scope() as session:
        service = services.get(session, slug)
        if service is None:
            return 404, {"error": f"no service '{slug}'"}
        before = service.status
        services.set_status(session, service, status, message)
        audit.record(session, API_ACTOR, "service.status", slug, before=before, after=status)
        return 200, services.to_json(service)


def _reply(result: tuple[int, Any]) -> response.HTTPResponse:
    status, body = result
    return response.json(body, status=status)


def add_routes(bp: Blueprint) -> None:
    """Attach /api and the health checks to the platform blueprint."""

    @bp.get("/health")
    async def health(_request: Request) -> response.HTTPResponse:
        return response.json({"status": "ok"})

    @bp.get("/ready")
    async def ready(request: Request) -> response.HTTPResponse:
        status, body = await readiness.report(getattr(request.app.ctx, "agent", None))
        return response.json(body, status=status)

    @bp.post("/api/cases")
    @require_token
    async def create_case(request: Request) -> response.HTTPResponse:
        return _reply(await in_thread(_create_case, json_object(request)))

    @bp.get("/api/cases/<reference>")
    @require_token
    async def get_case(_request: Request, reference: str) -> response.HTTPResponse:
        return _reply(await in_thread(_get_case, reference))

    @bp.patch("/api/cases/<reference>")
    @require_token
    async def patch_case(request: Request, reference: str) -> response.HTTPResponse:
        return _reply(await in_thread(_patch_case, reference, json_object(request)))

    @bp.get("/api/services")
    @require_token
    async def list_services(_request: Request) -> response.HTTPResponse:
        return _reply(await in_thread(_list_services))

    @bp.put("/api/services/<slug>/status")
    @require_token
    async def put_service_status(request: Request, slug: str) -> response.HTTPResponse:
        return _reply(await in_thread(_put_service_status, slug, json_object(request)))

