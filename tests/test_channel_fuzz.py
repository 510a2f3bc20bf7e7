"""Property-based: arbitrary form fields and JSON thrown at the three webhooks, correctly signed
(or with the right secret) so they get past the signature check. Whatever arrives, the answer
is a 2xx or a 4xx with a reason -- never a 500 -- and neither server logs a traceback."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.simulate import CallClient, SmsClient, TelegramClient, post, twilio_signature
from tests.support import Stack, channel_hooks

pytestmark = pytest.mark.stack
BOUNDED = settings(max_examples=60, deadline=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
ALLOWED = {200, 400, 403, 422}

TWILIO_FIELDS = ["From", "To", "Body", "MessageSid", "SmsSid", "NumMedia", "MediaUrl0",
                 "MediaContentType0", "OptOutType", "AccountSid", "CallSid", "Digits",
                 "SpeechResult", "CallStatus", "Confidence"]
likely_values = st.sampled_from(["+15550340001", "+34612345678", "STOP", "START", "HELP", "1",
                                 "2", "MENU", "0", "-1", "99999999999", "", "#", "12031985",
                                 "completed", "ringing", "SM0123", "CA0123", "/greet",
                                 '/check_application_status{"x": 1}', "4021 7382"])
values = st.one_of(likely_values, st.text(max_size=300))
extra_fields = st.dictionaries(st.one_of(st.sampled_from(TWILIO_FIELDS),
                                         st.text(min_size=1, max_size=20)), values, max_size=8)
phones = st.one_of(st.sampled_from(["+15550340001", "+15550340002", "+212612340003"]),
                   st.text(max_size=20))


def sids(prefix: str) -> st.SearchStrategy[str]:
    return st.one_of(st.integers(0, 2**64).map(lambda n: f"{prefix}{n:032x}"),
                     st.text(max_size=70))


def with_extras(required: dict[str, st.SearchStrategy], optional: list[str]
                ) -> st.SearchStrategy[dict[str, str]]:
    """Forms that mostly carry the required fields (so they go deep), plus anything else."""
    base = st.fixed_dictionaries(required, optional=dict.fromkeys(optional, values))
    return st.one_of(st.tuples(base, extra_fields).map(lambda t: {**t[1], **t[0]}),
                     extra_fields)


sms_forms = with_extras({"From": phones, "MessageSid": sids("SM")},
                        ["Body", "NumMedia", "MediaUrl0", "MediaContentType0", "OptOutType"])
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
telegram_users = st.fixed_dictionaries({"id": st.integers(1, 2**40), "is_bot": st.booleans(),
                                        "first_name": st.text(max_size=10)})
texts = st.one_of(st.sampled_from(["/start", "/help", "/language", "/menu", "hola", "STOP",
                                   "4021 7382", "/start@civicline_bot x"]), st.text(max_size=200))
messages = st.fixed_dictionaries(
    {"message_id": st.integers(0, 2**31), "date": st.integers(0, 2**31),
     "chat": st.fixed_dictionaries({"id": st.integers(-2**40, 2**40),
                                    "type": st.sampled_from(["private", "group", "channel"])}),
     "from": telegram_users},
    optional={"text": st.one_of(texts, json_values), "caption": texts,
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
updates = st.one_of(
    st.fixed_dictionaries({"update_id": st.integers(0, 2**40)},
                          optional={"message": messages, "callback_query": button_presses,
                                    "edited_message": json_values}),
    st.fixed_dictionaries({"update_id": st.one_of(st.integers(), json_values)},
                          optional={"message": json_values, "callback_query": json_values}),
    json_values)


@pytest.fixture(scope="module")
def clean_logs(stack: Stack) -> Any:
    marks = stack.log_marks()
    yield
    logged = stack.logs_since(marks)
    assert "Traceback" not in logged, logged[-3000:]


@BOUNDED
@given(form=sms_forms)
def test_sms_webhook_answers_any_signed_form_without_a_server_error(
        stack: Stack, clean_logs: None, form: dict[str, str]) -> None:
    reply = SmsClient(channel_hooks(stack), "+15550340001").post(form)
    assert reply.status in ALLOWED, reply.raw


@BOUNDED
@given(form=call_forms, query=queries)
def test_voice_webhook_answers_any_signed_request_without_a_server_error(
        stack: Stack, clean_logs: None, form: dict[str, str], query: dict[str, str]) -> None:
    call = CallClient(channel_hooks(stack), "+15550340002")
    url = stack.url + call.path + (f"?{urlencode(query)}" if query else "")
    turn = call.request(url, form)
    assert turn.status in ALLOWED, turn.raw


@BOUNDED
@given(body=updates)
def test_telegram_webhook_answers_any_json_without_a_server_error(
        stack: Stack, clean_logs: None, body: Any) -> None:
    status, answer = TelegramClient(channel_hooks(stack), 9_300_001).post(
        json.dumps(body).encode())
    assert status in ALLOWED, answer


def test_bodies_that_are_not_even_forms_or_json_get_a_4xx(stack: Stack, clean_logs: None
                                                          ) -> None:
    hooks = channel_hooks(stack)
    for path in ("/webhooks/sms/webhook", "/webhooks/voice/webhook"):
        garbage = b"\xff\xfe not utf-8 %zz&&=="
        signature = twilio_signature(hooks.twilio_auth_token, stack.url + path, {})
        status, _ = post(stack.url + path, garbage,
                         {"Content-Type": "application/x-www-form-urlencoded",
                          "X-Twilio-Signature": signature})
        assert status == 400  # not a form: refused before the signature is even checked
    status, _ = TelegramClient(hooks, 9_300_002).post(b"\xff\xfe{")
    assert status == 400
