"""Issue 10, builds 1 and 2, through the real webhooks of a running stack (trained model, action
server, SQLite): trust comes from the channel that received a message, never from the request;
one attempt is one date; rotating senders or references enumerates nothing; the owner whose
phone the channel proves always gets in. Production mode: the REST channel's door, and the
USSD callback's address allow-list."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.devtools.clients import SmsClient, UssdClient
from bot.domain.cases import MAX_REFERENCE_FAILURES, MAX_SENDER_FAILURES
from bot.domain.references import generate
from tests.support.clients import channel_hooks
from tests.support.environment import PRODUCTION_SETTINGS
from tests.support.stack import Stack, running_stack
from tests.support.stack_data import new_case, query, spaced
from tests.support.unique import phone as number
from tests.support.web import http

pytestmark = pytest.mark.stack

DOB = "1975-06-15"
DOB_TYPED = "15 June 1975"
STATUS_WORD = "checking"  # in the in_review explanation
DOB_QUESTION = "31/12/1980"  # the example in the date-of-birth question
ONE_DATE = "one date only"  # utter_date_of_birth_one_date
LOCKED = "locked"
# 170 dates, 1,937 characters: fits one SMS webhook; the right one (15 June 1975) is among them.
MANY_DATES = " ".join(f"{day} {month} 1975" for month in
                      ("jan", "feb", "mar", "apr", "may", "jun", "jul")
                      for day in range(1, 29))
MANY_DATES = " ".join(MANY_DATES.split(" ")[:170 * 3])
# Production mode with every setting it requires (the stack sets its own PUBLIC_BASE_URL).
PRODUCTION_ENV = {k: v for k, v in PRODUCTION_SETTINGS.items() if k != "PUBLIC_BASE_URL"}
REST_TOKEN = "test-rest-token-" + "x" * 16


def joined(messages: list[dict[str, Any]]) -> str:
    return "\n".join(m.get("text", "") for m in messages)


def rest(stack: Stack, body: dict[str, Any], token: str | None = None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    status, reply, _ = http("POST", f"{stack.url}/webhooks/rest/webhook", body,
                            headers=headers)
    return status, reply


def ask_status(stack: Stack, sender: str, reference: str) -> str:
    """Over REST: open the status question and give the reference; what the bot answered."""
    stack.say(sender, "I want to check my application")
    return joined(stack.say(sender, spaced(reference)))


def failures(stack: Stack, reference: str) -> int:
    return query(stack, "SELECT count(*) FROM verification_failures WHERE reference = :r",
                 r=reference)[0][0]


def test_a_spoofed_input_channel_discloses_nothing(stack: Stack) -> None:
    """The caller writes the owner's number and claims SMS (and a voice hand-off reason);
    the REST channel is what received it, so the date of birth is asked, nothing told."""
    phone = number()
    reference = new_case(stack, phone, status="in_review", date_of_birth=DOB)
    spoof = {"sender": phone, "input_channel": "sms",
             "metadata": {"handoff_reason": "voice_no_input"}}
    status, _ = rest(stack, {**spoof, "message": "check my application"})
    assert status == 200
    status, reply = rest(stack, {**spoof, "message": spaced(reference)})
    text = joined(reply)
    assert status == 200 and DOB_QUESTION in text
    assert STATUS_WORD not in text and spaced(reference) not in text
    channels = query(stack, "SELECT DISTINCT json_extract(data, '$.input_channel') FROM events "
                            "WHERE sender_id = :s AND type_name = 'user'", s=phone)
    assert channels == [("rest",)]  # recorded as what it was
    reasons = query(stack, "SELECT json_extract(data, '$.metadata.handoff_reason') FROM events "
                           "WHERE sender_id = :s AND type_name = 'user'", s=phone)
    assert reasons == [(None,), (None,)]  # the claimed voice hand-off reason never got in


@pytest.mark.parametrize(("body", "raw"), [
    ({"message": "hello"}, None), ({"sender": "", "message": "hello"}, None),
    ({"sender": "rest-user", "message": 12}, None), ([1, 2], None), (None, b"not json"),
])
def test_a_body_that_is_not_a_message_is_refused(stack: Stack, body: Any,
                                                 raw: bytes | None) -> None:
    status, reply, _ = http("POST", f"{stack.url}/webhooks/rest/webhook", body, raw=raw)
    assert status == 400 and reply["error"], reply


def test_the_170_date_message_is_not_an_attempt(stack: Stack) -> None:
    """A stranger texts (signed SMS) every date at once, the right one among them: nothing is
    tried or counted, and nothing is disclosed."""
    assert len(MANY_DATES) > 1900 and MANY_DATES.count("1975") == 170
    reference = new_case(stack, number(), status="in_review", date_of_birth=DOB)
    sms = SmsClient(channel_hooks(stack), number())
    sms.send("I want to check my application")
    assert DOB_QUESTION in " ".join(sms.send(spaced(reference)).bodies)
    reply = sms.send(MANY_DATES)
    text = " ".join(reply.bodies)
    assert reply.status == 200 and reply.bodies, reply.raw
    assert STATUS_WORD not in text and spaced(reference) not in text
    assert failures(stack, reference) == 0
    # A shorter list gets the question for one date (not counted either)...
    text = " ".join(sms.send("1 jan 1975 2 jan 1975 15 June 1975").bodies)
    assert ONE_DATE in text and STATUS_WORD not in text
    assert failures(stack, reference) == 0
    # ...and one date, the right one, is an attempt that succeeds.
    text = " ".join(sms.send(DOB_TYPED).bodies)
    assert STATUS_WORD in text and spaced(reference) in text


def test_rotating_senders_lock_a_reference_and_its_owner_still_gets_in(stack: Stack) -> None:
    owner = number()
    reference = new_case(stack, owner, status="in_review", date_of_birth=DOB)
    unknown = generate()  # well formed, no such case: must answer exactly the same
    replies: dict[str, list[str]] = {reference: [], unknown: []}
    for target in (reference, unknown):
        for _ in range(MAX_REFERENCE_FAILURES):
            sender = number()
            ask_status(stack, sender, target)
            replies[target].append(joined(stack.say(sender, "01/01/1990")))
        assert failures(stack, target) == MAX_REFERENCE_FAILURES
    assert replies[reference] == replies[unknown]
    assert LOCKED in replies[reference][-1] and LOCKED not in replies[reference][-2]
    # The eleventh stranger, with the right date of birth: locked, told nothing.
    late = number()
    asked = ask_status(stack, late, reference)
    assert LOCKED in asked and STATUS_WORD not in asked
    assert ask_status(stack, number(), unknown) == asked
    # Staff see the lock.
    status, case = stack.api("GET", f"/api/cases/{reference}")
    assert status == 200 and case["verification"]["locked"] is True
    assert case["verification"]["failures_24h"] == MAX_REFERENCE_FAILURES
    # The owner, texting from the case's phone (the SMS channel proves it), gets the status.
    sms = SmsClient(channel_hooks(stack), owner)
    sms.send("I want to check my application")
    text = " ".join(sms.send(spaced(reference)).bodies)
    assert STATUS_WORD in text and spaced(reference) in text


def test_one_sender_rotating_references_is_stopped(stack: Stack) -> None:
    """Two wrong dates on each of five references (no per-reference lock) and the sender may
    try no reference at all, not even a real one with the right date of birth."""
    sender = number()
    answers = []
    for _ in range(MAX_SENDER_FAILURES // 2):
        ask_status(stack, sender, generate())
        answers += [joined(stack.say(sender, wrong)) for wrong in ("01/01/1990", "02/02/1991")]
        stack.say(sender, "cancel")
    assert all("do not match" in answer for answer in answers[:-1]), answers
    assert LOCKED in answers[-1]  # the tenth failure
    reference = new_case(stack, number(), status="in_review", date_of_birth=DOB)
    asked = ask_status(stack, sender, reference)
    assert LOCKED in asked and STATUS_WORD not in asked
    # Another sender is not stopped by it.
    other = number()
    assert DOB_QUESTION in ask_status(stack, other, reference)
    assert STATUS_WORD in joined(stack.say(other, DOB_TYPED))


# --- Production mode: the REST channel's door --------------------------------------------------


# The stack's reverse proxy is this machine: X-Forwarded-For from 127.0.0.1 names the client.
PROXY = {"CIVICLINE_TRUSTED_PROXIES": "127.0.0.1/32"}


@pytest.fixture(scope="module")
def production(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A stack in production mode with CIVICLINE_REST_TOKEN set (and the USSD gateway's
    addresses, PRODUCTION_SETTINGS' 196.201.214.0/24, behind a proxy on 127.0.0.1)."""
    with running_stack(tmp_path_factory.mktemp("production"),
                       extra_env={**PRODUCTION_ENV, **PROXY,
                                  "CIVICLINE_REST_TOKEN": REST_TOKEN}) as up:
        yield up


def test_production_ussd_answers_only_the_gateway_addresses(production: Stack) -> None:
    assert PRODUCTION_ENV["CIVICLINE_USSD_ALLOWED_IPS"] == "196.201.214.0/24"
    ussd = UssdClient(channel_hooks(production), number("+25471300"))
    ussd.session_id = "ATUid_prod1"
    for forwarded in (None, "203.0.113.9", "196.201.215.1", "196.201.214.9, 10.0.0.1"):
        screen = ussd.post(ussd.params(), headers={"X-Forwarded-For": forwarded}
                           if forwarded else {})
        assert screen.status == 403 and "CIVICLINE_USSD_ALLOWED_IPS" in screen.raw, forwarded
    assert not query(production, "SELECT id FROM people WHERE phone = :p", p=ussd.phone)
    gateway = {"X-Forwarded-For": "10.1.1.1, 196.201.214.9"}  # the right-most untrusted hop
    first = ussd.post(ussd.params(), headers=gateway)
    assert first.waits and "1. English" in first.text
    ussd.answers = ["2"]
    assert ussd.post(ussd.params(), headers=gateway).text.startswith("¡Hola!")


def test_production_rest_wants_the_bearer_token(production: Stack) -> None:
    message = {"sender": "rest-user-1", "message": "hello"}
    assert rest(production, message)[0] == 401
    assert rest(production, message, token="not-the-token")[0] == 401
    assert rest(production, message, token=REST_TOKEN[:-1])[0] == 401
    status, reply = rest(production, message, token=REST_TOKEN)
    assert status == 200 and joined(reply)


def test_production_rest_never_proves_the_phone(production: Stack) -> None:
    phone = number()
    reference = new_case(production, phone, status="in_review", date_of_birth=DOB)
    for body in ({"sender": phone}, {"sender": phone, "input_channel": "sms"}):
        rest(production, {**body, "message": "check my application"}, token=REST_TOKEN)
        _, reply = rest(production, {**body, "message": spaced(reference)}, token=REST_TOKEN)
        assert DOB_QUESTION in joined(reply) and STATUS_WORD not in joined(reply)
        rest(production, {**body, "message": "cancel"}, token=REST_TOKEN)
    # The date of birth (hashed under the production key) does prove it.
    rest(production, {"sender": phone, "message": "check my application"}, token=REST_TOKEN)
    rest(production, {"sender": phone, "message": spaced(reference)}, token=REST_TOKEN)
    _, reply = rest(production, {"sender": phone, "message": DOB_TYPED}, token=REST_TOKEN)
    assert STATUS_WORD in joined(reply)
    [(stored,)] = query(production, "SELECT date_of_birth_hash FROM cases WHERE reference = :r",
                        r=reference)
    assert len(stored) == 64 and "1975" not in stored


def test_production_rest_is_off_without_a_token(tmp_path: Path) -> None:
    with running_stack(tmp_path, extra_env=PRODUCTION_ENV) as closed:
        status, body = rest(closed, {"sender": "rest-user-2", "message": "hello"})
        assert status == 404, body
        status, _ = rest(closed, {"sender": "rest-user-2", "message": "hello"},
                         token="anything")
        assert status == 404
        assert http("GET", f"{closed.url}/health")[0] == 200  # the rest of the server is up
