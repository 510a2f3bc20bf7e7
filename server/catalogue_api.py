"""The catalogue API (SPEC §7, docs/catalogue.md): read and change services, offices and
digital-help places, with the same bearer tokens, errors, pagination and ``Idempotency-Key`` as
server/api.py.

- ``POST /api/services``, ``GET|PATCH|DELETE /api/services/{slug}`` (the list and the status
  are in server/api.py); ``GET|POST /api/offices``, ``GET|PATCH|DELETE /api/offices/{slug}``;
  ``GET|POST /api/digital-places``, ``GET|PATCH|DELETE /api/digital-places/{slug}``.
- DELETE *retires* the entry (bot/domain/catalogue.py ``retire``): kept for the cases and
  bookings that refer to it, offered to citizens no more, gone from lists and reads (404).
- A body is a catalogue entry (bot/domain/catalogue_schema.py); PATCH changes the fields it
  names (null removes an optional one) and the whole entry is checked again. A bad entry is a
  422 whose ``fields`` name each wrong field; an existing slug on create a 409.
- Every change is audited as the API client (``catalogue.<kind>.create|update|retire``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sanic import response
from sanic.request import Request
from sqlalchemy.orm import Session

from bot.domain import catalogue, services
from bot.domain.catalogue_schema import CatalogueError
from bot.store.db import session_scope
from server.http import (
    InputError,
    Route,
    api_actor,
    create,
    in_thread,
    json_object,
    page_args,
    paged,
    require_token,
)

KIND = {"services": "service", "offices": "office", "digital_places": "digital-help place"}


def as_json(section: str, row: Any) -> dict[str, Any]:
    """A catalogue row as the API shows it (a service with its live status)."""
    return services.to_json(row) if section == "services" else catalogue.ENTRIES[section](row)


def _invalid(exc: CatalogueError) -> InputError:
    status = 409 if any("exists already" in p.message for p in exc.problems) else 422
    return InputError("; ".join(exc.describe()), status=status, fields=exc.fields())


def _creator(section: str) -> Callable[[Session, dict, str], tuple[int, Any]]:
    def work(session: Session, body: dict, actor: str) -> tuple[int, Any]:
        try:
            return 201, as_json(section, catalogue.create(session, section, body, actor))
        except CatalogueError as exc:
            raise _invalid(exc) from exc

    return work


def _found(session: Session, section: str, slug: str) -> Any:
    row = catalogue.get(session, section, slug)
    if row is None:
        raise InputError(f"no {KIND[section]} '{slug}'", status=404)
    return row


def _list(section: str, limit: int, cursor: str | None) -> dict[str, Any]:
    model = catalogue.MODELS[section]
    with session_scope() as session:
        return paged(session, catalogue.active(model), [(model.slug, True)], section, limit,
                     cursor, lambda row: as_json(section, row))


def _one(section: str, slug: str) -> dict[str, Any]:
    with session_scope() as session:
        return as_json(section, _found(session, section, slug))


def _patch(section: str, slug: str, body: dict, actor: str) -> dict[str, Any]:
    with session_scope() as session:
        row = _found(session, section, slug)
        try:
            catalogue.update(session, section, row, body, actor)
        except CatalogueError as exc:
            raise _invalid(exc) from exc
        return as_json(section, row)


def _retire(section: str, slug: str, actor: str) -> dict[str, Any]:
    with session_scope() as session:
        row = _found(session, section, slug)
        catalogue.retire(session, section, row, actor)
        return {"slug": row.slug, "retired_at": row.retired_at.isoformat() + "Z"}


def _handlers(section: str) -> tuple[Callable, ...]:
    name = section.removesuffix("s") if section != "services" else "service"

    @require_token
    async def listing(request: Request) -> response.HTTPResponse:
        return response.json(await in_thread(_list, section, *page_args(request)))

    @require_token
    async def adding(request: Request) -> response.HTTPResponse:
        return await create(request, _creator(section))

    @require_token
    async def reading(_request: Request, slug: str) -> response.HTTPResponse:
        return response.json(await in_thread(_one, section, slug))

    @require_token
    async def changing(request: Request, slug: str) -> response.HTTPResponse:
        return response.json(await in_thread(_patch, section, slug, json_object(request),
                                             api_actor(request)))

    @require_token
    async def retiring(request: Request, slug: str) -> response.HTTPResponse:
        return response.json(await in_thread(_retire, section, slug, api_actor(request)))

    for handler, verb in ((listing, "list"), (adding, "create"), (reading, "get"),
                          (changing, "patch"), (retiring, "retire")):
        handler.__name__ = handler.__qualname__ = f"{verb}_{name}"
    return listing, adding, reading, changing, retiring


_, create_service, get_service, patch_service, retire_service = _handlers("services")
list_offices, create_office, get_office, patch_office, retire_office = _handlers("offices")
list_places, create_place, get_place, patch_place, retire_place = _handlers("digital_places")

ROUTES: tuple[Route, ...] = (
    ("POST", "/api/services", create_service),
    ("GET", "/api/services/<slug>", get_service),
    ("PATCH", "/api/services/<slug>", patch_service),
    ("DELETE", "/api/services/<slug>", retire_service),
    ("GET", "/api/offices", list_offices),
    ("POST", "/api/offices", create_office),
    ("GET", "/api/offices/<slug>", get_office),
    ("PATCH", "/api/offices/<slug>", patch_office),
    ("DELETE", "/api/offices/<slug>", retire_office),
    ("GET", "/api/digital-places", list_places),
    ("POST", "/api/digital-places", create_place),
    ("GET", "/api/digital-places/<slug>", get_place),
    ("PATCH", "/api/digital-places/<slug>", patch_place),
    ("DELETE", "/api/digital-places/<slug>", retire_place),
)
