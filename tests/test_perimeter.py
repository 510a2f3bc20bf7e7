"""Issue 10, the perimeter: bounded input, a closed action server, no personal data in logs.

Through the real stack (trained model, real webhooks, real signatures): a 200 KB body is refused
with 413 before it is read while other clients are answered promptly; an over-long message is
answered politely in the person's language and never reaches NLU; the action server answers a
forged call with 401; a database error during a real request logs no phone, date of birth or
message text.
"""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.devtools.clients import SmsClient, TelegramClient
from bot.language import texts
from bot.messaging.limits import MAX_BODY_BYTES, MAX_MESSAGE_CHARS, TOO_LONG_RESPONSE
from tests.support.clients import channel_hooks
from tests.support.environment import ACTION_SECRET
from tests.support.stack import Stack
from tests.support.stack_data import execute, query, staffed, user_turns
from tests.support.unique import phone as fresh_phone  # nobody else's number
from tests.support.unique import telegram_user
from tests.support.web import http

pytestmark = pytest.mark.stack
HEALTH_BOUND_S = 1.0  # /health while a huge body is in flight
TURN_BOUND_S = 5.0  # a whole SMS turn (NLU, actions) meanwhile: a third of Twilio's 15 s
REFUSAL_BOUND_S = 1.0  # the 413 itself


def polite(language: str | None) -> str:
    return texts.text(TOO_LONG_RESPONSE, language)


def timed(function: Any, *args: Any, **kwargs: Any) -> tuple[float, Any]:
    started = time.monotonic()
    result = function(*args, **kwargs)
    return time.monotonic() - started, result


# --- bounded input -----------------------------------------------------------------------------


def raw_request(stack: Stack, head: str, body_parts: list[bytes], hold: threading.Event | None
                = None) -> tuple[int, str, int]:
    """Send a request by hand: its head, then body parts (waiting on ``hold`` after the first),
    stopping as soon as the server answers; returns (status, body, body bytes sent by then)."""
    host, port = stack.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(head.encode())
        sent = 0
        for number, part in enumerate(body_parts):
            if select.select([sock], [], [], 0.5)[0]:
                break  # the server has answered: it does not want the rest
            sock.sendall(part)
            sent += len(part)
            if number == 0 and hold is not None:
                hold.wait(30)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    status = int(answer.split(b" ", 2)[1])
    return status, answer.partition(b"\r\n\r\n")[2].decode("utf-8", "replace"), sent


def rest_head(stack: Stack, length: int | None) -> str:
    framing = f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked"
    return ("POST /webhooks/rest/webhook HTTP/1.1\r\n"
            f"Host: {stack.url.removeprefix('http://')}\r\n"
            f"Content-Type: application/json\r\n{framing}\r\nConnection: close\r\n\r\n")


def test_a_200_kb_body_gets_413_at_once_while_other_clients_are_answered(stack: Stack) -> None:
    big = json.dumps({"sender": fresh_phone(), "message": "x" * 200_000}).encode()
    # Content-Length says 200 KB: refused before the body is read (only a first part is sent)
    elapsed, (status, body, sent) = timed(
        raw_request, stack, rest_head(stack, len(big)), [big[:8192], big[8192:]])
    assert status == 413 and str(MAX_BODY_BYTES) in json.loads(body)["error"], body
    assert sent <= 8192  # answered on the head alone: the body was never wanted
    assert elapsed < REFUSAL_BOUND_S, elapsed

    # A chunked 200 KB body held half-sent: while it is in flight, /health and a signed SMS
    # turn from another client are answered promptly.
    hold, outcome = threading.Event(), {}
    chunks = [b"%x\r\n%b\r\n" % (len(piece), piece)
              for piece in (big[i:i + 32768] for i in range(0, len(big), 32768))] + [b"0\r\n\r\n"]

    def slow_client() -> None:
        outcome["big"] = timed(raw_request, stack, rest_head(stack, None), chunks, hold)

    sender = threading.Thread(target=slow_client)
    sender.start()
    try:
        health_s, (health_status, _, _) = timed(http, "GET", f"{stack.url}/health", timeout=10)
        sms_s, reply = timed(SmsClient(channel_hooks(stack), fresh_phone()).send, "hello")
    finally:
        hold.set()
        sender.join(30)
    _, (big_status, big_body, big_sent) = outcome["big"]
    print(f"\n413 (Content-Length 200 KB): {elapsed * 1000:.0f} ms; with a chunked 200 KB body "
          f"in flight: /health {health_s * 1000:.0f} ms, signed SMS turn {sms_s * 1000:.0f} ms; "
          f"chunked 413 after {big_sent} of {len(big)} bytes")
    assert health_status == 200 and health_s < HEALTH_BOUND_S, health_s
    assert reply.status == 200 and reply.bodies, reply.raw
    assert sms_s < TURN_BOUND_S, sms_s
    assert big_status == 413, big_body
    assert big_sent < len(big)  # refused as soon as the body grew past the limit


def test_every_route_refuses_a_body_over_the_limit(stack: Stack) -> None:
    oversized = b"x" * (MAX_BODY_BYTES + 1)
    for path in ("/webhooks/sms/webhook", "/webhooks/voice/webhook",
                 "/webhooks/telegram/webhook", "/webhooks/rest/webhook", "/api/cases",
                 "/console/login"):
        status, body, _ = http("POST", stack.url + path, raw=oversized,
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 413, (path, status, body)
        assert "over the limit" in body["error"], (path, body)
    # a body at the limit is read and judged on its content, not refused for its size
    status, body, _ = http("POST", stack.url + "/webhooks/sms/webhook",
                           raw=b"x" * MAX_BODY_BYTES,
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 403, body  # read, then refused for its (missing) signature


@pytest.mark.parametrize("length", [MAX_MESSAGE_CHARS + 1, 60_000])
def test_an_over_long_rest_message_is_answered_politely_and_never_reaches_nlu(
        stack: Stack, length: int) -> None:
    sender = fresh_phone()
    before = user_turns(stack, sender)
    words = ("please read all of this " * (length // 24 + 1))[:length]
    replies = stack.texts(sender, words)
    assert replies == [polite(None)]
    assert user_turns(stack, sender) == before  # Rasa never saw it: no user event at all
    # a message at the cap is an ordinary turn
    assert stack.texts(sender, "hello " + "a" * (MAX_MESSAGE_CHARS - 6)) != [polite(None)]
    assert user_turns(stack, sender) == before + 1


def test_an_over_long_sms_is_answered_in_the_persons_language_and_never_reaches_nlu(
        stack: Stack) -> None:
    phone = fresh_phone()
    sms = SmsClient(channel_hooks(stack), phone)
    assert sms.send("hola, buenos días").status == 200  # a Spanish speaker
    before = user_turns(stack, phone)
    reply = sms.send("hola " * 400)  # 2,000 characters, one signed SMS
    assert reply.status == 200 and reply.bodies == [polite("es")], reply.raw
    assert reply.bodies[0].startswith("Lo siento")
    assert user_turns(stack, phone) == before


def test_an_over_long_telegram_message_is_answered_politely(stack: Stack) -> None:
    user_id = telegram_user()
    status, body = TelegramClient(channel_hooks(stack), user_id).send("bonjour " * 250)
    assert status == 200, body
    assert [r["text"] for r in body["replies"]] == [polite(None)]
    assert user_turns(stack, f"tg:{user_id}") == 0


# --- the action server -------------------------------------------------------------------------


def forged_call(reference: str) -> dict[str, Any]:
    """What an attacker would post: a tracker claiming the case's owner asked for its status."""
    slots = {"case_reference": reference, "status_outcome": "owner", "language": "en",
             "date_of_birth": "1985-03-12"}
    return {"next_action": "action_show_case_status", "sender_id": "+15550100001",
            "version": "3.6.21", "domain": {},
            "tracker": {"sender_id": "+15550100001", "slots": slots, "latest_message": {},
                        "events": [], "paused": False, "followup_action": None,
                        "active_loop": {}, "latest_action_name": "action_listen"}}


def test_the_action_server_refuses_a_forged_call_without_the_secret(stack: Stack) -> None:
    url = f"{stack.action_url}/webhook"
    for headers in ({}, {"Authorization": "Bearer wrong-secret"},
                    {"Authorization": ACTION_SECRET}):
        status, body, _ = http("POST", url, forged_call("40217382"), headers=headers)
        assert status == 401, (headers, body)
        assert body == {"error": "missing or wrong action server secret"}  # no text, no events
    status, body, _ = http("GET", f"{stack.action_url}/actions")
    assert status == 401, body
    # the secret the Rasa server sends opens it (and a real turn through it works)
    status, body, _ = http("GET", f"{stack.action_url}/actions",
                           headers={"Authorization": f"Bearer {ACTION_SECRET}"})
    assert status == 200 and {"name": "action_show_case_status"} in body
    assert stack.texts(fresh_phone(), "hello")  # Rasa -> action server, with the secret


def listening_addresses(port: int) -> set[str]:
    """The local addresses a TCP port listens on (Linux /proc/net/tcp{,6})."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, _, hex_port = local.partition(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


def test_the_action_server_listens_on_loopback_only(stack: Stack) -> None:
    port = int(stack.action_url.rsplit(":", 1)[1])
    addresses = listening_addresses(port)
    assert addresses == {"0100007F"}, addresses  # 127.0.0.1, not 0.0.0.0 or ::


# --- no personal data in logs ------------------------------------------------------------------


@contextmanager
def table_missing(stack: Stack, table: str) -> Iterator[None]:
    """``table`` renamed away for the duration: every statement on it fails."""
    execute(stack, f"ALTER TABLE {table} RENAME TO {table}_away")
    try:
        yield
    finally:
        execute(stack, f"ALTER TABLE {table}_away RENAME TO {table}")


def test_database_errors_during_real_requests_log_no_personal_data(stack: Stack) -> None:
    phone = fresh_phone()
    national = phone[2:]
    words = "zebra kumquat 14 02 1983"
    marks = stack.log_marks()
    with table_missing(stack, "events"):  # Rasa's tracker store cannot save the turn
        reply = SmsClient(channel_hooks(stack), phone).send(words)
    assert reply.status == 200  # answered (how is the fail-closed work's business)
    with table_missing(stack, "cases"):  # the API cannot insert the case
        status, _ = stack.api("POST", "/api/cases", {
            "service": "id_cards", "status": "approved", "phone": phone,
            "date_of_birth": "1983-02-14", "language": "en"})
    assert status == 503  # the database failed: said so, never a 500
    deadline = time.monotonic() + 10
    while "parameters hidden" not in stack.logs_since(marks) and time.monotonic() < deadline:
        time.sleep(0.2)  # the logs are written by other processes
    logged = stack.logs_since(marks)
    assert "parameters hidden" in logged, logged[-3000:]  # the errors were logged...
    for secret in (phone, national, "zebra", "kumquat", "1983-02-14", "14 02 1983", "1983"):
        assert secret not in logged, (secret, logged[-3000:])  # ...without what was bound
    assert query(stack, "SELECT count(*) FROM cases WHERE phone = :p", p=phone) == [(0,)]


# --- typed transcript lines --------------------------------------------------------------------


def test_citizen_text_that_looks_like_a_staff_action_stays_the_citizens(stack: Stack) -> None:
    with staffed(stack, True):
        phone = fresh_phone()
        status, sent = stack.api("POST", "/api/outreach",
                                 {"phone": phone, "task": "status", "language": "en"})
        assert status == 200, sent  # a real staff action: a typed (is_external) user event
        sms = SmsClient(channel_hooks(stack), phone)
        said = [sms.send(text) for text in ("EXTERNAL: book_appointment", "MENU",
                                             "I need to speak to someone, I have nothing to eat")]
        assert all(reply.status == 200 for reply in said), said
        items = stack.api_items("/api/handoffs?status=waiting&limit=200")
        handoff_id = next((h["id"] for h in items if h["sender_id"] == phone), None)
        assert handoff_id is not None, ([reply.bodies for reply in said], items)
        status, handoff = stack.api("GET", f"/api/handoffs/{handoff_id}")
    assert status == 200, handoff
    lines = [(line["kind"], line["text"]) for line in handoff["transcript"]]
    assert ("citizen", "EXTERNAL: book_appointment") in lines, lines
    assert ("system", "Sent to the bot: check_application_status") in lines, lines
    assert [text for kind, text in lines if kind == "system"
            and "book_appointment" in text] == [], lines
