"""Property-based: arbitrary input thrown at every door, each response checked as it comes.

The three signed webhooks get arbitrary forms and JSON, correctly signed (or with the right
secret): each answer is 200 or a 4xx with a stated reason -- never 403 for a correct signature,
never a 500 -- a 200 is never the "technical problem" apology, and neither server logs a
traceback meanwhile. Every example has a phone and message ids of its own, so none is lost to an
opted-out number or the dedupe. The REST channel, the console's forms (with a logged-in session
and its CSRF token) and every API body get the same treatment: never a 500, and the API answers
bad input with a JSON 4xx that says what is wrong.
"""

from __future__ import annotations

import itertools
import json
import secrets
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.devtools.clients import CallClient, SmsClient, TelegramClient
from bot.devtools.webhooks import post, twilio_post, twilio_signature
from bot.language import texts
from bot.language.detect import SUPPORTED
from tests.support.clients import channel_hooks
from tests.support.environment import API_TOKEN, CALL_CENTRE
from tests.support.stack import Stack
from tests.support.stack_data import make_staff, new_case
from tests.support.unique import phone
from tests.support.web import Browser, csrf, http

pytestmark = [pytest.mark.stack, pytest.mark.usefixtures("on_duty")]
BOUNDED = settings(max_examples=30, deadline=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                          HealthCheck.function_scoped_fixture])
FEW = settings(BOUNDED, max_examples=12)
SIGNED_ALLOWED = {200, 400, 413, 422}  # a correct signature is never refused (403)
REST_ALLOWED = {200, 400, 413, 422}
API_ALLOWED = {200, 201, 400, 404, 409, 413, 422}
CONSOLE_ALLOWED = {200, 303, 400, 401, 404, 409, 413, 422, 429}
APOLOGIES = [texts.text("utter_technical_problem", lang, call_centre=CALL_CENTRE)
             for lang in SUPPORTED]
_numbers = itertools.count(secrets.randbelow(40_000))


def fresh_phone() -> str:
    """A US number no other example uses."""
    return phone("+1555037")


def fresh_sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


# --- what each answer must be ------------------------------------------------------------------


class Watch:
    """Checks one response as it comes, and what the servers logged while it was made."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.marks = stack.log_marks()

    def logged(self) -> str:
        return self.stack.logs_since(self.marks)

    def clean(self, what: Any) -> None:
        logged = self.logged()
        assert "Traceback" not in logged, (what, logged[-3000:])
        for apology in APOLOGIES:
            assert apology not in str(what), what


def reason_of(body: Any) -> str:
    """The stated reason of a JSON 4xx (an empty string when there is none)."""
    return body.get("error", "") if isinstance(body, dict) else ""


def check_refusal(status: int, raw: str, what: Any) -> None:
    """A 4xx from a channel or the API: JSON that says what is wrong."""
    try:
        body = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        body = None
    assert reason_of(body), (status, raw, what)


def check_twiml(status: int, raw: str, allowed: set[int], what: Any) -> None:
    assert status in allowed, (status, raw, what)
    if status == 200:
        assert ET.fromstring(raw).tag == "Response", raw
    else:
        check_refusal(status, raw, what)


# --- the signed webhooks -----------------------------------------------------------------------

TWILIO_FIELDS = ["From", "To", "Body", "MessageSid", "SmsSid", "NumMedia", "MediaUrl0",
                 "MediaContentType0", "OptOutType", "AccountSid", "CallSid", "Digits",
                 "SpeechResult", "CallStatus", "Confidence"]
likely_values = st.sampled_from(["STOP", "START", "HELP", "1", "2", "MENU", "0", "-1",
                                 "99999999999", "", "#", "12031985", "completed", "ringing",
                                 "SM0123", "CA0123", "/greet", '/check_application_status{"x": 1}',
                                 "4021 7382", "hola", "x" * 1601])
values = st.one_of(likely_values, st.text(max_size=300))
extra_fields = st.dictionaries(st.one_of(st.sampled_from(TWILIO_FIELDS),
                                         st.text(min_size=1, max_size=20)), values, max_size=8)
phones = st.one_of(st.builds(fresh_phone), st.builds(fresh_phone), st.text(max_size=20),
                   st.builds(lambda: "whatsapp:" + fresh_phone()))  # WhatsApp, via Twilio


def sids(prefix: str) -> st.SearchStrategy[str]:
    return st.one_of(st.builds(fresh_sid, st.just(prefix)), st.text(max_size=70))


def with_extras(required: dict[str, st.SearchStrategy], optional: list[str]
                ) -> st.SearchStrategy[dict[str, str]]:
    """Forms that mostly carry the required fields (so they go deep), plus anything else."""
    base = st.fixed_dictionaries(required, optional=dict.fromkeys(optional, values))
    return st.one_of(st.tuples(base, extra_fields).map(lambda t: {**t[1], **t[0]}),
                     st.tuples(base, extra_fields).map(lambda t: {**t[1], **t[0]}),
                     extra_fields)


sms_forms = with_extras({"From": phones, "MessageSid": sids("SM")},
                        ["Body", "NumMedia", "MediaUrl0", "MediaContentType0", "OptOutType"])
status_forms = with_extras(
    {"MessageSid": sids("SM"),
     "MessageStatus": st.one_of(st.sampled_from(["queued", "sent", "delivered", "read",
                                                 "undelivered", "failed"]), values)},
    ["ErrorCode", "SmsStatus", "To", "From"])
call_forms = with_extras({"From": phones, "CallSid": sids("CA")},
                         ["Digits", "SpeechResult", "CallStatus"])
queries = st.fixed_dictionaries(
    {}, optional={"step": st.one_of(st.integers(0, 40).map(str), st.text(max_size=8)),
                  "stage": st.sampled_from(["main", "lang", "reference", "date", "confirm",
                                            "x", ""]),
                  "silence": st.one_of(st.integers(0, 5).map(str), st.text(max_size=4))})
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=15),
                                                                      children, max_size=5),
    max_leaves=25)
telegram_ids = st.builds(lambda: 8_000_000_000 + next(_numbers))
telegram_users = st.fixed_dictionaries({"id": st.one_of(telegram_ids, st.integers(1, 2**40)),
                                        "is_bot": st.booleans(),
                                        "first_name": st.text(max_size=10)})
chat_texts = st.one_of(st.sampled_from(["/start", "/help", "/language", "/menu", "hola", "STOP",
                                        "4021 7382", "/start@civicline_bot x", "y" * 1700]),
                       st.text(max_size=200))
messages = st.fixed_dictionaries(
    {"message_id": st.integers(0, 2**31), "date": st.integers(0, 2**31),
     "chat": st.fixed_dictionaries({"id": st.integers(-2**40, 2**40),
                                    "type": st.sampled_from(["private", "group", "channel"])}),
     "from": telegram_users},
    optional={"text": st.one_of(chat_texts, json_values), "caption": chat_texts,
              "contact": st.fixed_dictionaries({"phone_number": st.text(max_size=20),
                                                "first_name": st.text(max_size=5)},
                                               optional={"user_id": st.integers(1, 2**40)}),
              "photo": st.lists(st.fixed_dictionaries({"file_id": st.text(max_size=10),
                                                       "file_unique_id": st.just("u"),
                                                       "width": st.just(1),
                                                       "height": st.just(1)}), max_size=3),
              "sticker": json_values, "entities": json_values})
button_presses = st.fixed_dictionaries(
    {"id": st.text(max_size=10), "from": telegram_users, "chat_instance": st.just("1")},
    optional={"data": st.one_of(st.sampled_from(["/greet", "#1", "#999999", "#x", "nope",
                                                 '/change_language{"language_choice": "es"}']),
                                st.text(max_size=64))})
update_ids = st.builds(lambda: 7_000_000_000 + next(_numbers))
updates = st.one_of(
    st.fixed_dictionaries({"update_id": update_ids},
                          optional={"message": messages, "callback_query": button_presses,
                                    "edited_message": json_values}),
    st.fixed_dictionaries({"update_id": update_ids},
                          optional={"message": messages, "callback_query": button_presses}),
    st.fixed_dictionaries({"update_id": st.one_of(st.integers(), json_values)},
                          optional={"message": json_values, "callback_query": json_values}),
    json_values)


@BOUNDED
@given(form=sms_forms)
def test_sms_webhook_answers_any_signed_form(stack: Stack, form: dict[str, str]) -> None:
    watch = Watch(stack)
    reply = SmsClient(channel_hooks(stack), fresh_phone()).post(form)
    check_twiml(reply.status, reply.raw, SIGNED_ALLOWED, form)
    watch.clean(reply.bodies)


@BOUNDED
@given(form=status_forms)
def test_status_callbacks_answer_any_signed_form(stack: Stack, form: dict[str, str]) -> None:
    watch = Watch(stack)
    status, raw = twilio_post(channel_hooks(stack), stack.url + "/webhooks/sms/status", form)
    assert status in SIGNED_ALLOWED, (status, raw, form)
    if status == 200:
        assert json.loads(raw)["status"] == "ok", raw
    else:
        check_refusal(status, raw, form)
    watch.clean(raw)


@BOUNDED
@given(form=call_forms, query=queries)
def test_voice_webhook_answers_any_signed_request(stack: Stack, form: dict[str, str],
                                                  query: dict[str, str]) -> None:
    watch = Watch(stack)
    call = CallClient(channel_hooks(stack), fresh_phone())
    url = stack.url + call.path + (f"?{urlencode(query)}" if query else "")
    turn = call.request(url, form)
    check_twiml(turn.status, turn.raw, SIGNED_ALLOWED, (form, query))
    watch.clean(turn.raw)


@BOUNDED
@given(body=updates)
def test_telegram_webhook_answers_any_json_with_the_secret(stack: Stack, body: Any) -> None:
    watch = Watch(stack)
    status, answer = TelegramClient(channel_hooks(stack), 9_300_001).post(
        json.dumps(body).encode())
    assert status in SIGNED_ALLOWED, (status, answer, body)
    if status == 200:
        assert isinstance(answer, dict) and answer.get("ok") is True, answer
    else:
        check_refusal(status, answer, body)
    watch.clean(answer)


def test_bodies_that_are_not_even_forms_or_json_get_a_4xx(stack: Stack) -> None:
    watch = Watch(stack)
    hooks = channel_hooks(stack)
    for path in ("/webhooks/sms/webhook", "/webhooks/sms/status", "/webhooks/voice/webhook"):
        garbage = b"\xff\xfe not utf-8 %zz&&=="
        signature = twilio_signature(hooks.twilio_auth_token, stack.url + path, {})
        status, answer = post(stack.url + path, garbage,
                              {"Content-Type": "application/x-www-form-urlencoded",
                               "X-Twilio-Signature": signature})
        assert status == 400, answer  # not a form: refused before the signature is checked
        check_refusal(status, answer, path)
    status, answer = TelegramClient(hooks, 9_300_002).post(b"\xff\xfe{")
    assert status == 400, answer
    check_refusal(status, answer, "telegram")
    watch.clean("")


# --- the REST channel --------------------------------------------------------------------------

rest_bodies = st.one_of(
    st.fixed_dictionaries({"sender": st.builds(fresh_phone),
                           "message": st.one_of(chat_texts, st.text(max_size=300))},
                          optional={"input_channel": st.sampled_from(["sms", "voice", "x"]),
                                    "metadata": json_values}),
    st.fixed_dictionaries({"sender": st.one_of(st.builds(fresh_phone), json_values),
                           "message": json_values}),
    json_values)


@BOUNDED
@given(body=rest_bodies)
def test_rest_channel_answers_any_json(stack: Stack, body: Any) -> None:
    watch = Watch(stack)
    status, answer, _ = http("POST", f"{stack.url}/webhooks/rest/webhook", body)
    assert status in REST_ALLOWED, (status, answer, body)
    if status == 200:
        assert isinstance(answer, list), answer
    else:
        check_refusal(status, answer, body)
    watch.clean(answer)


# --- the console's forms, logged in, with the CSRF token ----------------------------------------


@pytest.fixture(scope="module")
def console(stack: Stack) -> Iterator[tuple[Browser, int, str]]:
    """A logged-in agent, a hand-off waiting for them, and the CSRF token of its page."""
    browser = Browser(stack.url)
    assert browser.login(make_staff(stack, "fuzz-agent"))[0] == 303
    phone = fresh_phone()
    stack.texts(phone, "I need to speak to a person please")
    items = stack.api_items("/api/handoffs?status=waiting&limit=200")
    handoff_id = next(item["id"] for item in items if item["sender_id"] == phone)
    status, page, _ = browser.get(f"/console/handoffs/{handoff_id}")
    assert status == 200
    yield browser, handoff_id, csrf(page)


form_texts = st.one_of(st.text(max_size=300), st.sampled_from(["", " ", "\x00", "z" * 5000]))


@FEW
@given(username=form_texts, password=form_texts, extra=extra_fields)
def test_console_login_form_answers_anything(stack: Stack, username: str, password: str,
                                             extra: dict[str, str]) -> None:
    watch = Watch(stack)
    browser = Browser(stack.url)
    _, page, _ = browser.get("/console/login")
    status, answer, _ = browser.post("/console/login", {
        **extra, "csrf_token": csrf(page), "username": username, "password": password})
    assert status in CONSOLE_ALLOWED - {303}, (status, username, answer[:500])
    watch.clean("")


@FEW
@given(text=form_texts, kind=st.sampled_from(["reply", "note"]), extra=extra_fields)
def test_console_reply_and_note_forms_answer_anything(
        stack: Stack, console: tuple[Browser, int, str], text: str, kind: str,
        extra: dict[str, str]) -> None:
    browser, handoff_id, token = console
    watch = Watch(stack)
    status, answer, _ = browser.post(f"/console/handoffs/{handoff_id}/{kind}",
                                     {**extra, "csrf_token": token, "text": text})
    assert status in CONSOLE_ALLOWED, (status, kind, text, answer[:500])
    watch.clean("")


# --- every API body ----------------------------------------------------------------------------

SERVICES = ["id_cards", "bin_collection", "buses", "health_clinic", "nope", "", "../x"]
maybe = st.one_of(json_values, st.text(max_size=40))
case_bodies = st.one_of(
    st.fixed_dictionaries({}, optional={
        "service": st.one_of(st.sampled_from(SERVICES), maybe),
        "status": st.one_of(st.sampled_from(["received", "in_review", "approved", "x"]), maybe),
        "phone": st.one_of(st.builds(fresh_phone), maybe),
        "date_of_birth": st.one_of(st.sampled_from(["1980-01-31", "31/01/1980", "2999-01-01",
                                                    "1980-02-30"]), maybe),
        "language": st.one_of(st.sampled_from(["en", "es", "de"]), maybe),
        "detail": maybe}),
    json_values)
patch_bodies = st.one_of(
    st.fixed_dictionaries({}, optional={
        "status": st.one_of(st.sampled_from(["in_review", "approved", "rejected", "?"]), maybe),
        "note": maybe}),
    json_values)
service_bodies = st.one_of(
    st.fixed_dictionaries({}, optional={
        "status": st.one_of(st.sampled_from(["operating", "disrupted", "closed", "?"]), maybe),
        "message": st.one_of(st.dictionaries(st.sampled_from(["en", "es", "fr", "ar", "de"]),
                                             maybe, max_size=4), maybe)}),
    json_values)
handoff_bodies = st.one_of(st.fixed_dictionaries({}, optional={"text": maybe}), json_values)
outreach_bodies = st.one_of(
    st.fixed_dictionaries({}, optional={
        "phone": st.one_of(st.builds(fresh_phone), maybe),
        "task": st.one_of(st.sampled_from(["appointment", "status", "x"]), maybe),
        "language": st.one_of(st.sampled_from(["en", "es", "xx"]), maybe)}),
    json_values)


def check_api(stack: Stack, watch: Watch, method: str, path: str, body: Any) -> None:
    status, answer, _ = http(method, stack.url + path, body,
                             headers={"Authorization": f"Bearer {API_TOKEN}"})
    assert status in API_ALLOWED, (status, method, path, body, answer)
    if status >= 400:
        assert reason_of(answer), (status, path, body, answer)
    watch.clean("")


@pytest.fixture(scope="module")
def services_restored(stack: Stack) -> Iterator[None]:
    """Whatever the fuzz does to service statuses is undone for the tests that follow."""
    items = stack.api_items("/api/services?limit=200")
    yield
    for item in items:
        body = {"status": item["status"]}
        if item.get("message"):
            body["message"] = item["message"]
        stack.api("PUT", f"/api/services/{item['slug']}/status", body)


@BOUNDED
@given(body=case_bodies)
def test_api_case_creation_answers_any_body(stack: Stack, body: Any) -> None:
    check_api(stack, Watch(stack), "POST", "/api/cases", body)


@pytest.fixture(scope="module")
def fuzz_case(stack: Stack) -> str:
    """A case of the fuzz's own (no other test's case changes status under it)."""
    return new_case(stack, fresh_phone(), status="received")


@BOUNDED
@given(body=patch_bodies, reference=st.sampled_from(["mine", "00000000", "x", "5550123"]))
def test_api_case_update_answers_any_body(stack: Stack, fuzz_case: str, body: Any,
                                          reference: str) -> None:
    reference = fuzz_case if reference == "mine" else reference
    check_api(stack, Watch(stack), "PATCH", f"/api/cases/{reference}", body)


@BOUNDED
@given(body=service_bodies, slug=st.sampled_from([*SERVICES[:4], "nope"]))
def test_api_service_status_answers_any_body(stack: Stack, services_restored: None, body: Any,
                                             slug: str) -> None:
    check_api(stack, Watch(stack), "PUT", f"/api/services/{slug}/status", body)


@FEW
@given(body=handoff_bodies, action=st.sampled_from(["messages", "messages", "release",
                                                    "resolve"]))
def test_api_handoff_actions_answer_any_body(stack: Stack,
                                             console: tuple[Browser, int, str], body: Any,
                                             action: str) -> None:
    _, handoff_id, _ = console
    for target in (handoff_id, 99_999_999):
        check_api(stack, Watch(stack), "POST", f"/api/handoffs/{target}/{action}", body)


@FEW
@given(body=outreach_bodies)
def test_api_outreach_answers_any_body(stack: Stack, body: Any) -> None:
    check_api(stack, Watch(stack), "POST", "/api/outreach", body)


# --- the catalogue API and the lists' query strings (issue 14) ---------------------------------

texts_by_language = st.dictionaries(st.sampled_from([*SUPPORTED, "de", ""]), maybe, max_size=5)
catalogue_bodies = st.one_of(
    st.fixed_dictionaries({}, optional={
        "slug": st.one_of(st.sampled_from(["fuzz_new", "city_hall", "Bad Slug", "", "a" * 70]),
                          maybe),
        "names": st.one_of(texts_by_language, maybe),
        "keywords": st.one_of(st.dictionaries(st.sampled_from(["en", "es", "xx"]),
                                              st.lists(maybe, max_size=3), max_size=2), maybe),
        "address": maybe, "phone": st.one_of(st.sampled_from(["+15550107000", "12"]), maybe),
        "desks": st.one_of(st.integers(-2, 200), maybe),
        "kind": st.one_of(st.sampled_from(["access", "class"]), maybe),
        "hours": st.one_of(st.dictionaries(
            st.sampled_from(["0", "1", "6", "7", "x"]),
            st.one_of(st.lists(st.lists(st.sampled_from(["09:00", "17:00", "24:00", "25:00",
                                                         "9"]), max_size=3), max_size=2),
                      maybe), max_size=3), maybe),
        "services": st.one_of(st.lists(st.sampled_from(SERVICES), max_size=3), maybe),
        "holidays": st.one_of(st.lists(st.fixed_dictionaries({}, optional={
            "day": st.one_of(st.sampled_from(["2026-12-25", "2026-02-30"]), maybe),
            "names": st.one_of(texts_by_language, maybe)}), max_size=2), maybe),
        "when": st.one_of(texts_by_language, maybe), "status": maybe, "message": maybe}),
    json_values)
CATALOGUE_TARGETS = [("POST", "/api/offices"), ("PATCH", "/api/offices/fuzz_office"),
                     ("POST", "/api/digital-places"),
                     ("PATCH", "/api/digital-places/fuzz_place"), ("POST", "/api/services"),
                     ("PATCH", "/api/services/fuzz_service")]
FUZZ_NAMES = {"en": "Fuzz", "es": "Fuzz", "fr": "Fuzz", "ar": "فز"}


@pytest.fixture(scope="module")
def fuzz_entries(stack: Stack, kept_catalogue: None) -> None:
    """Catalogue entries of the fuzz's own, so its changes touch no other test's data."""
    for path, body in (("/api/services", {"slug": "fuzz_service", "names": FUZZ_NAMES}),
                       ("/api/offices", {"slug": "fuzz_office", "names": FUZZ_NAMES,
                                         "address": "1 Fuzz Street"}),
                       ("/api/digital-places", {"slug": "fuzz_place", "kind": "access",
                                                "names": FUZZ_NAMES, "address": "x"})):
        assert stack.api("POST", path, body)[0] in (201, 409)


@BOUNDED
@given(body=catalogue_bodies, target=st.sampled_from(CATALOGUE_TARGETS))
def test_api_catalogue_answers_any_body(stack: Stack, fuzz_entries: None, body: Any,
                                        target: tuple[str, str]) -> None:
    method, path = target
    if method == "POST" and isinstance(body, dict) and body.get("slug") == "fuzz_new":
        body = {**body, "slug": f"fuzz_{uuid.uuid4().hex[:12]}"}  # a new one each time
    check_api(stack, Watch(stack), method, path, body)


@FEW
@given(limit=st.one_of(st.none(), st.text(max_size=6), st.integers(-5, 300).map(str)),
       cursor=st.one_of(st.none(), st.text(max_size=60)),
       path=st.sampled_from(["/api/services", "/api/offices", "/api/digital-places",
                             "/api/handoffs"]))
def test_api_lists_answer_any_limit_and_cursor(stack: Stack, limit: str | None,
                                               cursor: str | None, path: str) -> None:
    query = {k: v for k, v in (("limit", limit), ("cursor", cursor)) if v is not None}
    url = f"{path}?{urlencode(query)}" if query else path
    check_api(stack, Watch(stack), "GET", url, None)
