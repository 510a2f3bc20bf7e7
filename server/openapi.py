"""``GET /api/openapi.json``: the OpenAPI 3.1 document of the API, built from the route tables
(server/api.py, handoff_api.py, catalogue_api.py and this module's) and what
server/openapi_spec.py says about each route. A route without an entry there, or an entry
without a route, stops the build (tests/test_openapi.py builds and validates it with
openapi-spec-validator, then calls every route it lists).
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from sanic import response
from sanic.request import Request

from server import api, catalogue_api, handoff_api, openapi_spec
from server.http import Route

VERSION = "1.0.0"
_PARAMETER = re.compile(r"<(\w+)(?::(\w+))?>")


def openapi_path(uri: str) -> str:
    """A Sanic route (``/api/handoffs/<handoff_id:int>``) as an OpenAPI path."""
    return _PARAMETER.sub(lambda m: "{" + m.group(1) + "}", uri)


def _path_parameters(uri: str) -> list[dict[str, Any]]:
    return [{"name": name, "in": "path", "required": True,
             "schema": {"type": "integer" if kind == "int" else "string"}}
            for name, kind in _PARAMETER.findall(uri)]


def routes() -> tuple[Route, ...]:
    """Every route the document describes (the console and the channels are not the API)."""
    return (*api.ROUTES, *handoff_api.ROUTES, *catalogue_api.ROUTES, *ROUTES)


@cache
def document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    described = set()
    for method, uri, _handler in routes():
        path = openapi_path(uri)
        key = (method, path)
        if key not in openapi_spec.OPERATIONS:
            raise LookupError(f"{method} {path} is not described in server/openapi_spec.py")
        described.add(key)
        operation = dict(openapi_spec.OPERATIONS[key])
        parameters = _path_parameters(uri) + operation.get("parameters", [])
        if parameters:
            operation["parameters"] = parameters
        operation["operationId"] = f"{method.lower()}_{_handler.__name__}"
        paths.setdefault(path, {})[method.lower()] = operation
    stale = set(openapi_spec.OPERATIONS) - described
    if stale:
        raise LookupError(f"described but not routed: {sorted(stale)}")
    return {
        "openapi": "3.1.0",
        "info": {"title": "CivicLine API", "version": VERSION,
                 "description": "Cases, the catalogue (services, offices, digital help) and "
                                "hand-offs. Send `Authorization: Bearer TOKEN`: a named "
                                "client's token (`python -m bot api token create NAME`) or "
                                "CIVICLINE_API_TOKEN. Lists are paginated with limit and "
                                "cursor; creates accept Idempotency-Key."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {"schemas": openapi_spec.SCHEMAS,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }


async def openapi_json(_request: Request) -> response.HTTPResponse:
    return response.json(document())


ROUTES: tuple[Route, ...] = (("GET", "/api/openapi.json", openapi_json),)
