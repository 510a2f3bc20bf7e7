"""The case API under /api (SPEC §7) and the health checks.

Every /api route checks ``Authorization: Bearer`` with CIVICLINE_API_TOKEN or a named client's
token (bot/domain/api_clients.py; 401 otherwise). Bad input
gets 400 (not JSON / not an object) or 422 (a field is wrong) with a message naming the field;
every write goes to the audit log in the same transaction as the change (the domain operation
writes it, as the client: ``api`` for CIVICLINE_API_TOKEN, ``api:NAME`` for a named client).
Lists are paginated (``?limit=&cursor=``, server/http.py ``paged``); creates honour
``Idempotency-Key`` (server/http.py ``create``). The handlers are listed in :data:`ROUTES`
(mounted by server/platform.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sanic import response
from sanic.request import Request
from sqlalchemy import select

from bot.domain import case_detail, cases, notifications, references, services
from bot.domain.phones import to_e164
from bot.language.detect import SUPPORTED
from bot.store.db import session_scope
from bot.store.models import CASE_STATUSES, SERVICE_STATUSES, Service
from server import readiness
from server.http import (
    API_ACTOR,
    InputError,
    Route,
    agent_of,
    api_actor,
    create,
    in_thread,
    json_object,
    only_fields,
    page_args,
    paged,
    require_token,
)

MAX_DETAIL = 2000


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
    only_fields(body, "service", "status", "phone", "date_of_birth", "language", "detail")
    return fields


def _create_case(session: Any, body: dict, actor: str) -> tuple[int, dict]:
    kwargs = parse_new_case(body)
    slug = kwargs["service_slug"]
    service = session.scalar(select(Service).where(Service.slug == slug))
    if service is not None and service.retired_at is not None:
        # Kept for the cases it has, offered no more: no new case (the catalogue brings it back).
        raise InputError(f"service '{slug}' is retired: it takes no new cases",
                         fields={"service": "retired"})
    try:
        case = cases.create_case(session, actor=actor, **kwargs)
    except cases.CaseError as exc:
        raise InputError(str(exc)) from exc
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


def _patch_case(raw: str, body: dict, actor: str = API_ACTOR) -> tuple[int, dict]:
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
        if "detail" in body:
            cases.set_detail(session, case, detail, actor=actor)
        cases.change_status(session, case, status, note, actor=actor)
        return 200, _case_json(session, case)


def _list_services(limit: int, cursor: str | None) -> tuple[int, Any]:
    with session_scope() as session:
        return 200, paged(session, select(Service).where(Service.retired_at.is_(None)),
                          [(Service.slug, True)], "services", limit, cursor, services.to_json)


def _put_service_status(slug: str, body: dict, actor: str) -> tuple[int, dict]:
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
        services.set_status(session, service, status, message, actor=actor)
        return 200, services.to_json(service)


def _reply(result: tuple[int, Any]) -> response.HTTPResponse:
    status, body = result
    return response.json(body, status=status)


# --- handlers ----------------------------------------------------------------------------------


async def health(_request: Request) -> response.HTTPResponse:
    return response.json({"status": "ok"})


async def ready(request: Request) -> response.HTTPResponse:
    status, body = await readiness.report(agent_of(request))
    return response.json(body, status=status)


@require_token
async def create_case(request: Request) -> response.HTTPResponse:
    return await create(request, _create_case)


@require_token
async def get_case(_request: Request, reference: str) -> response.HTTPResponse:
    return _reply(await in_thread(_get_case, reference))


@require_token
async def patch_case(request: Request, reference: str) -> response.HTTPResponse:
    return _reply(await in_thread(_patch_case, reference, json_object(request),
                                  api_actor(request)))


@require_token
async def list_services(request: Request) -> response.HTTPResponse:
    return _reply(await in_thread(_list_services, *page_args(request)))


@require_token
async def put_service_status(request: Request, slug: str) -> response.HTTPResponse:
    return _reply(await in_thread(_put_service_status, slug, json_object(request),
                                  api_actor(request)))


ROUTES: tuple[Route, ...] = (
    ("GET", "/health", health),
    ("GET", "/ready", ready),
    ("POST", "/api/cases", create_case),
    ("GET", "/api/cases/<reference>", get_case),
    ("PATCH", "/api/cases/<reference>", patch_case),
    ("GET", "/api/services", list_services),
    ("PUT", "/api/services/<slug>/status", put_service_status),
)
