"""The API for other systems (issue 14 §4): named clients with their own tokens, pagination on
every list, ``Idempotency-Key`` on creates, and the catalogue routes; against the real server."""

from __future__ import annotations

import threading
from urllib.parse import quote

import pytest

from tests.support.environment import API_TOKEN
from tests.support.stack import Stack
from tests.support.stack_data import api_client, api_command, execute, query
from tests.support.unique import phone as new_phone
from tests.support.web import http

pytestmark = [pytest.mark.stack, pytest.mark.usefixtures("kept_catalogue")]


def audit_of(stack: Stack, target: str) -> list[tuple[str, str]]:
    return query(stack, "SELECT actor, action FROM audit_log WHERE target = :t ORDER BY id",
                 t=target)


def new_case_body(phone: str, **more: str) -> dict:
    return {"service": "housing_support", "status": "received", "phone": phone, **more}


# --- named clients ------------------------------------------------------------------------------


def test_a_named_client_is_audited_by_name_and_revoking_stops_it(stack: Stack) -> None:
    token = api_client(stack, "case-system")
    assert token.startswith("cl_") and len(token) > 40
    stored = query(stack, "SELECT * FROM api_clients WHERE name = 'case-system'")
    assert stored and token not in repr(stored)  # only its hash is kept

    status, case = stack.api("POST", "/api/cases", new_case_body(new_phone()), token=token)
    assert status == 201, case
    reference = case["reference"]
    assert stack.api("PATCH", f"/api/cases/{reference}", {"status": "in_review"},
                     token=token)[0] == 200
    assert stack.api("PATCH", f"/api/cases/{reference}", {"status": "approved"})[0] == 200
    assert audit_of(stack, reference) == [("api:case-system", "case.create"),
                                          ("api:case-system", "case.update"),
                                          ("api", "case.update")]  # CIVICLINE_API_TOKEN
    listed = api_command(stack, "token", "list").stdout
    assert "case-system\tactive" in listed and "CIVICLINE_API_TOKEN" in listed

    revoked = api_command(stack, "token", "revoke", "case-system")
    assert revoked.returncode == 0, revoked.stderr
    status, body = stack.api("GET", f"/api/cases/{reference}", token=token)
    assert status == 401 and "token" in body["error"]
    assert "case-system\trevoked" in api_command(stack, "token", "list").stdout
    again = api_command(stack, "token", "create", "case-system")
    assert again.returncode == 2 and "exists already" in again.stderr
    assert api_command(stack, "token", "revoke", "nobody").returncode == 1
    assert api_command(stack, "token", "create", "Bad Name!").returncode == 2
    assert ("cli", "api_client.revoke") in audit_of(stack, "case-system")


def test_a_made_up_token_of_the_right_shape_is_refused(stack: Stack) -> None:
    status, body = stack.api("GET", "/api/services", token="cl_" + "x" * 43)
    assert status == 401 and body["error"]


# --- pagination ---------------------------------------------------------------------------------


def walk(stack: Stack, path: str, limit: int) -> tuple[list[dict], int]:
    """Every item of a list, ``limit`` at a time; (items, pages)."""
    items, cursor, pages = [], None, 0
    while True:
        joiner = "&" if "?" in path else "?"
        url = f"{path}{joiner}limit={limit}" + (f"&cursor={quote(cursor)}" if cursor else "")
        status, page = stack.api("GET", url)
        assert status == 200, page
        assert set(page) == {"items", "next_cursor"} and len(page["items"]) <= limit
        items += page["items"]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            return items, pages


def test_a_list_walked_page_by_page_is_the_whole_list(stack: Stack) -> None:
    status, whole = stack.api("GET", "/api/services?limit=200")
    assert status == 200 and whole["next_cursor"] is None
    slugs = [s["slug"] for s in whole["items"]]
    assert slugs == sorted(slugs) and len(slugs) >= 9
    walked, pages = walk(stack, "/api/services", 2)
    assert [s["slug"] for s in walked] == slugs
    assert pages == -(-len(slugs) // 2)


def test_the_cursor_is_stable_when_rows_are_added_before_it(stack: Stack) -> None:
    status, first = stack.api("GET", "/api/services?limit=3")
    assert status == 200 and first["next_cursor"]
    seen = [s["slug"] for s in first["items"]]
    status, _ = stack.api("POST", "/api/services", {
        "slug": "a0_added_meanwhile", "names": {"en": "A", "es": "A", "fr": "A", "ar": "أ"}})
    assert status == 201
    cursor = first["next_cursor"]
    rest = []
    while cursor:
        status, page = stack.api("GET", f"/api/services?limit=3&cursor={quote(cursor)}")
        rest += [s["slug"] for s in page["items"]]
        cursor = page["next_cursor"]
    assert not set(seen) & set(rest)  # nothing repeated
    assert "a0_added_meanwhile" not in rest  # it sorts before the cursor: not shifted in
    everything = [s["slug"] for s in stack.api("GET", "/api/services?limit=200")[1]["items"]]
    assert seen + rest == [s for s in everything if s != "a0_added_meanwhile"]


def test_more_than_200_rows_are_all_there_on_two_pages(stack: Stack) -> None:
    for number in range(230):
        execute(stack, "INSERT INTO digital_places (slug, kind, names, address, \"when\") "
                "VALUES (:slug, 'class', :names, '1 Test Street', '{}')",
                slug=f"zz_class_{number:03d}",
                names='{"en": "Class", "es": "Clase", "fr": "Cours", "ar": "درس"}')
    walked, pages = walk(stack, "/api/digital-places", 200)
    ours = [p["slug"] for p in walked if p["slug"].startswith("zz_class_")]
    assert ours == [f"zz_class_{n:03d}" for n in range(230)] and pages == 2


@pytest.mark.parametrize(("query_string", "field"), [
    ("limit=0", "limit"), ("limit=201", "limit"), ("limit=ten", "limit"), ("limit=-1", "limit"),
    ("cursor=not-a-cursor", "cursor"), ("cursor=e30", "cursor"),
    ("cursor=%E2%9C%93", "cursor"),
])
def test_a_bad_limit_or_cursor_is_422_with_the_reason(stack: Stack, query_string: str,
                                                      field: str) -> None:
    for path in ("/api/services", "/api/offices", "/api/digital-places", "/api/handoffs"):
        status, body = stack.api("GET", f"{path}?{query_string}")
        assert status == 422 and field in body["fields"], (path, body)


def test_a_cursor_of_another_list_or_filter_is_refused(stack: Stack) -> None:
    cursor = stack.api("GET", "/api/services?limit=1")[1]["next_cursor"]
    status, body = stack.api("GET", f"/api/offices?cursor={quote(cursor)}")
    assert status == 422 and "another list" in body["error"]
    for _ in range(2):
        stack.texts(new_phone(), "I want to talk to a person")
    waiting = stack.api("GET", "/api/handoffs?status=waiting&limit=1")[1]["next_cursor"]
    assert waiting
    status, body = stack.api("GET", f"/api/handoffs?status=active&cursor={quote(waiting)}")
    assert status == 422 and "another list or filter" in body["error"]


# --- Idempotency-Key ----------------------------------------------------------------------------


def post_case(stack: Stack, body: dict, key: str | None, token: str = API_TOKEN
              ) -> tuple[int, dict, dict]:
    headers = {"Authorization": f"Bearer {token}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return http("POST", f"{stack.url}/api/cases", body, headers=headers)


def cases_of(stack: Stack, phone: str) -> int:
    return query(stack, "SELECT count(*) FROM cases WHERE phone = :p", p=phone)[0][0]


def test_the_same_key_and_body_give_the_same_answer_once(stack: Stack) -> None:
    phone = new_phone()
    body = new_case_body(phone, language="fr")
    status, first, headers = post_case(stack, body, "order-4711")
    assert status == 201 and "idempotent-replayed" not in {k.lower() for k in headers}
    status, second, headers = post_case(stack, body, "order-4711")
    replayed = {k.lower(): v for k, v in headers.items()}.get("idempotent-replayed")
    assert status == 201 and second == first and replayed == "true"
    assert cases_of(stack, phone) == 1

    status, refused, _ = post_case(stack, {**body, "language": "es"}, "order-4711")
    assert status == 422 and "Idempotency-Key" in refused["fields"]
    assert "different request" in refused["error"] and cases_of(stack, phone) == 1

    other = api_client(stack, "second-system")  # keys are per client
    status, theirs, _ = post_case(stack, body, "order-4711", token=other)
    assert status == 201 and theirs["reference"] != first["reference"]
    assert cases_of(stack, phone) == 2
    status, _, _ = post_case(stack, body, None)  # no key: a create each time
    assert status == 201 and cases_of(stack, phone) == 3


def test_a_failed_create_does_not_use_up_the_key(stack: Stack) -> None:
    phone = new_phone()
    status, _, _ = post_case(stack, {**new_case_body(phone), "status": "lost"}, "retry-me")
    assert status == 422
    status, _, _ = post_case(stack, new_case_body(phone), "retry-me")
    assert status == 201 and cases_of(stack, phone) == 1


def test_one_key_sent_at_once_from_eight_threads_creates_one_case(stack: Stack) -> None:
    phone = new_phone()
    body = new_case_body(phone)
    answers: list[tuple[int, dict]] = []
    start = threading.Barrier(8)

    def send() -> None:
        start.wait()
        status, reply, _ = post_case(stack, body, "burst-1")
        answers.append((status, reply))

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [status for status, _ in answers] == [201] * 8, answers
    assert len({reply["reference"] for _, reply in answers}) == 1
    assert cases_of(stack, phone) == 1


def burst(stack: Stack, path: str, body: dict, key: str, times: int = 8
          ) -> list[tuple[int, dict, bool]]:
    """``times`` POSTs of one body with one key at once: (status, body, replayed) each."""
    answers: list[tuple[int, dict, bool]] = []
    start = threading.Barrier(times)

    def send() -> None:
        start.wait()
        status, reply, headers = http("POST", f"{stack.url}{path}", body, headers={
            "Authorization": f"Bearer {API_TOKEN}", "Idempotency-Key": key})
        replayed = {k.lower(): v for k, v in headers.items()}.get("idempotent-replayed")
        answers.append((status, reply, replayed == "true"))

    threads = [threading.Thread(target=send) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_one_key_sent_at_once_eight_times_sends_one_agent_reply(stack: Stack, on_duty) -> None:
    from tests.support.providers import sms_to
    from tests.support.stack_data import waiting_handoff

    phone = new_phone()
    stack.texts(phone, "I want to talk to a person")
    handoff_id = waiting_handoff(stack, phone)["id"]
    path = f"/api/handoffs/{handoff_id}/messages"
    text = "Hello, this is Sam from the city."
    answers = burst(stack, path, {"text": text}, "reply-1")
    assert [(status, reply) for status, reply, _ in answers] == [(200, {"delivered": True})] * 8
    assert sum(replayed for _, _, replayed in answers) == 7
    assert sms_to(stack, phone) == [text]  # the citizen got it once
    assert query(stack, "SELECT count(*) FROM handoff_notes WHERE handoff_id = :h "
                 "AND kind = 'reply'", h=handoff_id) == [(1,)]
    status, refused, _ = http("POST", f"{stack.url}{path}", {"text": "Another text"}, headers={
        "Authorization": f"Bearer {API_TOKEN}", "Idempotency-Key": "reply-1"})
    assert status == 422 and refused["fields"] == {"Idempotency-Key": "reused"}
    assert sms_to(stack, phone) == [text]
    stack.api("POST", f"/api/handoffs/{handoff_id}/resolve")


def test_one_key_sent_at_once_eight_times_sends_one_outreach(stack: Stack, on_duty) -> None:
    from tests.support.providers import sms_to

    phone = new_phone()
    answers = burst(stack, "/api/outreach", {"phone": phone, "task": "status"}, "outreach-1")
    assert {status for status, _, _ in answers} == {200}, answers
    assert len({repr(reply) for _, reply, _ in answers}) == 1
    assert answers[0][1]["delivered"] is True
    assert sum(replayed for _, _, replayed in answers) == 7
    assert len(sms_to(stack, phone)) == answers[0][1]["messages"]  # one outreach's SMS


@pytest.mark.parametrize("key", ["x" * 256, "naïve-key"])
def test_a_malformed_key_is_400(stack: Stack, key: str) -> None:
    headers = {"Authorization": f"Bearer {API_TOKEN}", "Idempotency-Key": key}
    status, body, _ = http("POST", f"{stack.url}/api/cases", new_case_body(new_phone()),
                           headers={k: v.encode("utf-8").decode("latin-1")
                                    for k, v in headers.items()})
    assert status == 400 and "Idempotency-Key" in body["fields"]


# --- the catalogue through the API -------------------------------------------------------------

OFFICE = {"slug": "harbour_desk", "names": {"en": "Harbour desk", "es": "Mostrador del puerto",
                                             "fr": "Accueil du port", "ar": "مكتب الميناء"},
          "address": "3 Quay Street", "hours": {"1": [["09:00", "13:00"]]}, "desks": 2,
          "services": ["id_cards"]}


def test_an_office_is_added_read_changed_and_audited(stack: Stack) -> None:
    token = api_client(stack, "city-website")
    status, created = stack.api("POST", "/api/offices", OFFICE, token=token)
    assert status == 201, created
    assert created["hours"]["1"] == [["09:00", "13:00"]] and created["hours"]["0"] == []
    assert stack.api("GET", "/api/offices/harbour_desk")[1] == created
    status, changed = stack.api("PATCH", "/api/offices/harbour_desk",
                                {"desks": 4, "phone": "+15550107777"}, token=token)
    assert status == 200 and changed["desks"] == 4 and changed["phone"] == "+15550107777"
    status, changed = stack.api("PATCH", "/api/offices/harbour_desk", {"desks": None})
    assert status == 200 and "desks" not in changed  # back to CIVICLINE_DESKS_PER_SLOT
    assert audit_of(stack, "harbour_desk") == [
        ("api:city-website", "catalogue.office.create"),
        ("api:city-website", "catalogue.office.update"), ("api", "catalogue.office.update")]
    listed = [o["slug"] for o in stack.api_items("/api/offices")]
    assert "harbour_desk" in listed and "city_hall" in listed


def test_a_retired_office_leaves_the_api_and_the_assistant(stack: Stack) -> None:
    """DELETE retires: audited as the client, gone from reads and lists (404), and the
    assistant's office search no longer finds it."""
    token = api_client(stack, "city-directory")
    office = {**OFFICE, "slug": "quay_kiosk", "keywords": {"en": ["quay kiosk"]},
              "names": {"en": "Quay kiosk", "es": "Quiosco del muelle", "fr": "Kiosque du quai",
                        "ar": "كشك الرصيف"}, "address": "7 Quay Street"}
    assert stack.api("POST", "/api/offices", office, token=token)[0] == 201
    asked = " ".join(stack.texts(new_phone(), "where is the quay kiosk"))
    assert "7 Quay Street" in asked, asked  # offered while it is in the catalogue

    status, retired = stack.api("DELETE", "/api/offices/quay_kiosk", token=token)
    assert status == 200 and retired["slug"] == "quay_kiosk" and retired["retired_at"]
    assert audit_of(stack, "quay_kiosk")[-1] == ("api:city-directory", "catalogue.office.retire")
    assert stack.api("GET", "/api/offices/quay_kiosk")[0] == 404
    assert stack.api("PATCH", "/api/offices/quay_kiosk", {"desks": 2})[0] == 404
    assert stack.api("DELETE", "/api/offices/quay_kiosk")[0] == 404
    assert "quay_kiosk" not in [o["slug"] for o in stack.api_items("/api/offices")]
    status, taken = stack.api("POST", "/api/offices", office)
    assert status == 409 and "retired" in taken["error"]
    asked = " ".join(stack.texts(new_phone(), "where is the quay kiosk"))
    assert "7 Quay Street" not in asked, asked
    assert stack.api("DELETE", "/api/services/nothing_here")[0] == 404


@pytest.mark.parametrize(("method", "path", "body", "status", "field"), [
    ("POST", "/api/offices", {**OFFICE, "slug": "x_bad_hours", "hours": {"9": []}}, 422,
     'hours."9"'),
    ("POST", "/api/offices", {**OFFICE, "slug": "x_bad_service", "services": ["nope"]}, 422,
     "services"),
    ("POST", "/api/offices", {**OFFICE, "slug": "x_no_ar",
                              "names": {"en": "A", "es": "A", "fr": "A"}}, 422, "names"),
    ("POST", "/api/offices", {**OFFICE, "slug": "city_hall"}, 409, "slug"),
    ("PATCH", "/api/offices/city_hall", {"slug": "town_hall"}, 422, "slug"),
    ("PATCH", "/api/offices/city_hall", {"desks": "many"}, 422, "desks"),
    ("PATCH", "/api/offices/nowhere", {"desks": 2}, 404, None),
    ("POST", "/api/digital-places", {"slug": "x_place", "kind": "cafe", "names": {},
                                     "address": "x"}, 422, "kind"),
    ("PATCH", "/api/services/buses", {"status": "down"}, 422, "status"),
    ("GET", "/api/services/nothing_here", None, 404, None),
])
def test_bad_catalogue_changes_say_what_is_wrong(stack: Stack, method: str, path: str,
                                                 body: dict | None, status: int,
                                                 field: str | None) -> None:
    got, reply = stack.api(method, path, body)
    assert got == status, reply
    assert reply["error"]
    if field:
        assert any(field in name for name in reply["fields"]), reply
