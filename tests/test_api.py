"""The staff API (SPEC §7) and health checks, over HTTP against the running server."""

from __future__ import annotations

import json
import sqlite3

import pytest

from bot.domain import references
from tests.support.stack import Stack
from tests.support.web import http

pytestmark = pytest.mark.stack


def audit_rows(stack: Stack, target: str) -> list[tuple[str, str]]:
    path = stack.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        return db.execute("SELECT actor, action FROM audit_log WHERE target = ? ORDER BY id",
                          (target,)).fetchall()


def test_health_and_ready(stack: Stack) -> None:
    assert http("GET", f"{stack.url}/health")[:2] == (200, {"status": "ok"})
    status, body, _ = http("GET", f"{stack.url}/ready")
    assert status == 200 and body == {"status": "ready", "model": True, "database": True,
                                     "tracker_store": True}


@pytest.mark.parametrize("token", [None, "wrong-token", ""])
@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/api/services"),
    ("POST", "/api/cases"),
    ("GET", "/api/cases/40217382"),
    ("PATCH", "/api/cases/40217382"),
    ("PUT", "/api/services/buses/status"),
])
def test_every_route_needs_the_token(stack: Stack, token: str | None, method: str,
                                     path: str) -> None:
    status, body = stack.api(method, path, {"status": "approved"}, token=token)
    assert status == 401 and "token" in body["error"]


def test_create_get_and_patch_a_case(stack: Stack) -> None:
    status, created = stack.api("POST", "/api/cases", {
        "service": "housing_support", "status": "received", "phone": "+1 555 010 4242",
        "date_of_birth": "1970-05-06", "language": "es", "detail": "Ayuda para el alquiler"})
    assert status == 201, created
    reference = created["reference"]
    assert references.is_valid(reference)
    assert created["phone"] == "+15550104242" and created["language"] == "es"

    status, fetched = stack.api("GET", f"/api/cases/{reference[:4]}-{reference[4:]}")
    assert status == 200 and fetched["status"] == "received"
    assert fetched["date_of_birth_on_file"] is True and "date_of_birth" not in fetched
    assert "1970-05-06" not in json.dumps(fetched)  # staff see that one is on file, not it
    assert fetched["verification"] == {"locked": False, "locked_until": None,
                                       "failures_24h": 0}

    status, patched = stack.api("PATCH", f"/api/cases/{reference}",
                                {"status": "approved", "note": "All papers in order"})
    assert status == 200 and patched["status"] == "approved"
    assert [(h["from"], h["to"]) for h in patched["history"]] == [
        (None, "received"), ("received", "approved")]
    assert audit_rows(stack, reference) == [("api", "case.create"), ("api", "case.update")]


def test_unknown_case_is_404(stack: Stack) -> None:
    status, body = stack.api("GET", "/api/cases/11111119")
    assert status == 404 and "11111119" in body["error"]
    status, body = stack.api("PATCH", "/api/cases/11111119", {"status": "approved"})
    assert status == 404


@pytest.mark.parametrize(("body", "field"), [
    ({"status": "received"}, "service"),
    ({"service": "housing_support"}, "status"),
    ({"service": "nope", "status": "received"}, None),
    ({"service": "housing_support", "status": "lost"}, "status"),
    ({"service": "housing_support", "status": "received", "phone": "not a phone"}, "phone"),
    ({"service": "housing_support", "status": "received", "date_of_birth": "31/12/1980"},
     "date_of_birth"),
    ({"service": "housing_support", "status": "received", "date_of_birth": "2999-01-01"},
     "date_of_birth"),
    ({"service": "housing_support", "status": "received", "language": "de"}, "language"),
    ({"service": "housing_support", "status": "received", "colour": "red"}, "colour"),
    ({"service": 7, "status": "received"}, "service"),
])
def test_bad_case_input_is_422_with_a_reason(stack: Stack, body: dict, field: str | None) -> None:
    status, reply = stack.api("POST", "/api/cases", body)
    assert status == 422, reply
    assert reply["error"]
    if field:
        assert field in reply["fields"]


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b'"text"'])
def test_body_that_is_not_a_json_object_is_400(stack: Stack, raw: bytes) -> None:
    status, body, _ = http("POST", f"{stack.url}/api/cases", raw=raw,
                           headers={"Authorization": "Bearer test-api-token-0123456789",
                                    "Content-Type": "application/json"})
    assert status == 400 and "JSON" in body["error"]


@pytest.mark.parametrize("reference", ["40217385", "1234", "abcdefgh"])
def test_malformed_reference_is_422(stack: Stack, reference: str) -> None:
    status, body = stack.api("GET", f"/api/cases/{reference}")
    assert status == 422 and "check digit" in body["error"]


def test_services_list_and_status_update(stack: Stack) -> None:
    status, page = stack.api("GET", "/api/services")
    assert status == 200 and set(page) == {"items", "next_cursor"}
    listed = page["items"]
    slugs = {s["slug"] for s in listed}
    assert {"bin_collection", "online_portal", "benefits_line"} <= slugs
    assert any(s["status"] == "disrupted" for s in listed)

    status, updated = stack.api("PUT", "/api/services/health_clinic/status", {
        "status": "maintenance", "message": {"en": "Closed for cleaning until 2 pm.",
                                             "es": "Cerrado por limpieza hasta las 14:00."}})
    assert status == 200
    assert updated["status"] == "maintenance"
    assert updated["message"]["es"].startswith("Cerrado")
    assert set(updated["message"]) == {"en", "es"}  # a new status: no old text stays
    assert audit_rows(stack, "health_clinic") == [("api", "service.status")]


@pytest.mark.parametrize(("slug", "body", "expected"), [
    ("nope", {"status": "down"}, 404),
    ("buses", {"status": "broken"}, 422),
    ("buses", {"status": "down", "message": "text"}, 422),
    ("buses", {"status": "down", "message": {"de": "Nein"}}, 422),
])
def test_bad_service_update(stack: Stack, slug: str, body: dict, expected: int) -> None:
    status, reply = stack.api("PUT", f"/api/services/{slug}/status", body)
    assert status == expected and reply["error"]
