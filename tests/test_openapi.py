"""The OpenAPI document (issue 14 §4): it validates (openapi-spec-validator), it describes
every API route there is, and every operation answers as it says: a walk of the document calls
each one on the real server and checks the status is documented and the body has the
documented shape."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator, RefResolver
from openapi_spec_validator import validate_spec

from tests.support.environment import API_TOKEN
from tests.support.stack import Stack
from tests.support.stack_data import waiting_handoff
from tests.support.unique import phone as new_phone
from tests.support.web import http

pytestmark = [pytest.mark.stack, pytest.mark.usefixtures("kept_catalogue")]


@pytest.fixture(scope="module")
def document(stack: Stack) -> dict:
    status, body, headers = http("GET", f"{stack.url}/api/openapi.json")  # no token needed
    assert status == 200, body
    assert {k.lower(): v for k, v in headers.items()}["content-type"].startswith(
        "application/json")
    return body


def test_the_document_is_valid_openapi_3(document: dict) -> None:
    validate_spec(document)
    assert document["openapi"].startswith("3.")


def test_it_describes_exactly_the_routes_the_server_has(document: dict) -> None:
    from server import openapi

    described = {(m.upper(), p) for p, ops in document["paths"].items() for m in ops}
    routed = {(m, openapi.openapi_path(u)) for m, u, _ in openapi.routes()}
    assert described == routed
    assert {("GET", "/api/offices"), ("POST", "/api/cases"), ("GET", "/api/handoffs"),
            ("PATCH", "/api/digital-places/{slug}")} <= described


# POSTs that change a hand-off's state rather than create something: a second call is a 409
# ("already resolved") and tells the citizen nothing twice.
STATE_CHANGES = {"/api/handoffs/{handoff_id}/release", "/api/handoffs/{handoff_id}/resolve"}


def test_every_create_takes_an_idempotency_key(document: dict) -> None:
    creates = [path for path, ops in document["paths"].items()
               if "post" in ops and path not in STATE_CHANGES]
    assert {"/api/cases", "/api/services", "/api/offices", "/api/digital-places",
            "/api/handoffs/{handoff_id}/messages", "/api/outreach"} <= set(creates)
    for path in creates:
        names = {p["name"] for p in document["paths"][path]["post"].get("parameters", [])
                 if p["in"] == "header"}
        assert "Idempotency-Key" in names, path


class Walk:
    """Calls operations and checks each answer against the document."""

    def __init__(self, stack: Stack, document: dict):
        self.stack, self.document = stack, document
        self.resolver = RefResolver.from_schema(document)
        self.seen: dict[tuple[str, str], set[int]] = {}

    def call(self, method: str, template: str, values: dict[str, object] | None = None,
             body: object = None, token: str | None = API_TOKEN, query: str = "",
             key: str | None = None) -> tuple[int, object]:
        operation = self.document["paths"][template][method.lower()]
        path = template.format(**(values or {})) + query
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if key is not None:
            headers["Idempotency-Key"] = key
        status, reply, got = http(method, f"{self.stack.url}{path}", body, headers=headers)
        documented = operation["responses"]
        assert str(status) in documented, (method, path, status, reply)
        content = documented[str(status)].get("content", {}).get("application/json")
        if content:
            kind = {k.lower(): v for k, v in got.items()}["content-type"]
            assert kind.startswith("application/json"), kind
            validator = Draft202012Validator(content["schema"], resolver=self.resolver)
            errors = [e.message for e in validator.iter_errors(reply)]
            assert not errors, (method, path, status, errors, reply)
        self.seen.setdefault((method, template), set()).add(status)
        return status, reply

    def example(self, method: str, template: str) -> object:
        body = self.document["paths"][template][method.lower()]["requestBody"]
        return body["content"]["application/json"]["example"]


def test_every_operation_answers_as_documented(stack: Stack, document: dict, on_duty) -> None:
    walk = Walk(stack, document)
    operations = [(m.upper(), p) for p, ops in document["paths"].items() for m in ops]

    # Creates first (the documented examples), so the reads and changes have something.
    status, case = walk.call("POST", "/api/cases", body=walk.example("POST", "/api/cases"))
    assert status == 201
    slugs = {}
    for template in ("/api/services", "/api/offices", "/api/digital-places"):
        status, created = walk.call("POST", template, body=walk.example("POST", template))
        assert status == 201, created
        slugs[template] = created["slug"]
        assert walk.call("POST", template, body=walk.example("POST", template))[0] == 409
        assert walk.call("GET", template)[0] == 200
        assert walk.call("GET", template, query="?limit=0")[0] == 422
        one = f"{template}/{{slug}}"
        assert walk.call("GET", one, {"slug": created["slug"]})[0] == 200
        assert walk.call("GET", one, {"slug": "not_there"})[0] == 404
        assert walk.call("PATCH", one, {"slug": created["slug"]},
                         walk.example("PATCH", one))[0] == 200
        assert walk.call("PATCH", one, {"slug": created["slug"]}, {"names": "x"})[0] == 422
    reference = {"reference": case["reference"]}
    assert walk.call("GET", "/api/cases/{reference}", reference)[0] == 200
    assert walk.call("GET", "/api/cases/{reference}", {"reference": "11111119"})[0] == 404
    assert walk.call("GET", "/api/cases/{reference}", {"reference": "1234"})[0] == 422
    assert walk.call("PATCH", "/api/cases/{reference}", reference,
                     walk.example("PATCH", "/api/cases/{reference}"))[0] == 200
    assert walk.call("POST", "/api/cases", body={"status": "received"})[0] == 422
    assert walk.call("PUT", "/api/services/{slug}/status", {"slug": slugs["/api/services"]},
                     walk.example("PUT", "/api/services/{slug}/status"))[0] == 200

    # Hand-offs: two citizens ask for a person (the REST channel, a phone as sender id).
    first, second = new_phone(), new_phone()
    for phone in (first, second):
        stack.texts(phone, "I want to talk to a person")
    one, two = ({"handoff_id": waiting_handoff(stack, p)["id"]} for p in (first, second))
    assert walk.call("GET", "/api/handoffs")[0] == 200
    assert walk.call("GET", "/api/handoffs", query="?status=resolved&limit=5")[0] == 200
    assert walk.call("GET", "/api/handoffs", query="?status=lost")[0] == 422
    assert walk.call("GET", "/api/handoffs/{handoff_id}", one)[0] == 200
    assert walk.call("GET", "/api/handoffs/{handoff_id}", {"handoff_id": 99999999})[0] == 404
    message = walk.example("POST", "/api/handoffs/{handoff_id}/messages")
    first = walk.call("POST", "/api/handoffs/{handoff_id}/messages", one, message, key="walk-1")
    assert first[0] == 200
    assert walk.call("POST", "/api/handoffs/{handoff_id}/messages", one, message,
                     key="walk-1") == first  # replayed, not sent again
    assert walk.call("POST", "/api/handoffs/{handoff_id}/release", one)[0] == 200
    assert walk.call("POST", "/api/handoffs/{handoff_id}/resolve", one)[0] == 409
    assert walk.call("POST", "/api/handoffs/{handoff_id}/resolve", two)[0] == 200
    assert walk.call("POST", "/api/handoffs/{handoff_id}/release", two)[0] == 409
    outreach = {"phone": new_phone(), "task": "status"}
    assert walk.call("POST", "/api/outreach", body=outreach, key="walk-2")[0] == 200
    assert walk.call("POST", "/api/outreach", body={**outreach, "task": "appointment"},
                     key="walk-2")[0] == 422  # the same key for another request
    for template, slug in slugs.items():  # retired last: the walk used them above
        one = f"{template}/{{slug}}"
        assert walk.call("DELETE", one, {"slug": slug})[0] == 200
        assert walk.call("GET", one, {"slug": slug})[0] == 404
        assert walk.call("DELETE", one, {"slug": slug})[0] == 404
    for public in ("/health", "/ready", "/api/openapi.json"):
        assert walk.call("GET", public, token=None)[0] == 200

    # Every secured operation refuses a missing token with its documented 401.
    for method, template in operations:
        if document["paths"][template][method.lower()].get("security") == []:
            continue
        values = {"reference": case["reference"], "slug": "buses", "handoff_id": 1}
        body = {} if method in ("POST", "PUT", "PATCH") else None
        assert walk.call(method, template, values, body, token=None)[0] == 401

    # Each operation was called and gave its documented success at least once.
    for method, template in operations:
        responses = document["paths"][template][method.lower()]["responses"]
        success = {int(code) for code in responses if code.startswith("2")}
        assert walk.seen.get((method, template), set()) & success, (method, template)
