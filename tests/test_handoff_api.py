"""Hand-off end to end through the real stack: the citizen asks for a person, the bot goes
silent (Rasa's pause), staff answer through the API (SMS to the Twilio stand-in), hand back,
and the bot answers again; plus every hand-off endpoint's errors, urgency, and staff to bot."""

from __future__ import annotations

import re

import pytest

from bot.devtools.clients import CallClient, SmsClient
from bot.language.detect import detect
from tests.support.clients import channel_hooks
from tests.support.providers import TWILIO_INVALID_NUMBER, sms_to
from tests.support.stack import Stack
from tests.support.stack_data import query
from tests.support.stack_data import waiting_handoff as open_handoff
from tests.support.unique import phone as new_phone
from tests.support.web import http

pytestmark = [pytest.mark.stack, pytest.mark.usefixtures("on_duty")]

REQUIRED_FIELDS = {"id", "channel", "language", "waiting_since", "urgent"}


def ask_for_a_person(stack: Stack, phone: str, text: str = "I want to talk to a person"
                     ) -> tuple[list[str], dict]:
    """Through the REST channel (a phone as sender id): the replies and the new hand-off."""
    replies = stack.texts(phone, text)
    return replies, open_handoff(stack, phone)


def audit(stack: Stack, target: str) -> list[tuple[str, str]]:
    return query(stack, "SELECT actor, action FROM audit_log WHERE target = :t ORDER BY id",
                 t=target)


@pytest.mark.parametrize("token", [None, "wrong-token"])
@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/api/handoffs"),
    ("GET", "/api/handoffs/1"),
    ("POST", "/api/handoffs/1/messages"),
    ("POST", "/api/handoffs/1/release"),
    ("POST", "/api/handoffs/1/resolve"),
    ("POST", "/api/outreach"),
])
def test_every_handoff_route_needs_the_token(stack: Stack, token: str | None, method: str,
                                             path: str) -> None:
    status, body = stack.api(method, path, {"text": "hi"}, token=token)
    assert status == 401 and "token" in body["error"]


@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", "/api/handoffs/999999", None),
    ("POST", "/api/handoffs/999999/messages", {"text": "hello"}),
    ("POST", "/api/handoffs/999999/release", None),
    ("POST", "/api/handoffs/999999/resolve", None),
])
def test_unknown_handoff_is_404(stack: Stack, method: str, path: str,
                                body: dict | None) -> None:
    status, answer = stack.api(method, path, body)
    assert status == 404 and "999999" in answer["error"]


def test_non_numeric_id_is_404(stack: Stack) -> None:
    assert stack.api("POST", "/api/handoffs/abc/release")[0] == 404


@pytest.mark.parametrize("query_string", ["?status=lost", "?status=waiting,done"])
def test_bad_status_filter_is_422(stack: Stack, query_string: str) -> None:
    status, body = stack.api("GET", f"/api/handoffs{query_string}")
    assert status == 422 and "status" in body["error"]


def test_the_whole_way_to_a_person_and_back_by_sms(stack: Stack) -> None:
    phone = new_phone()
    citizen = SmsClient(channel_hooks(stack), phone)
    reply = citizen.send("I want to talk to a person")
    assert reply.status == 200
    assert re.search(r"You are number \d+ in line\. The wait is about \d+ minutes",
                     " ".join(reply.bodies)), reply.bodies
    handoff = open_handoff(stack, phone)
    assert set(handoff) >= REQUIRED_FIELDS
    assert (handoff["channel"], handoff["language"], handoff["urgent"], handoff["reason"]) == (
        "sms", "en", False, "request_human")
    assert handoff["waiting_since"].endswith("Z")
    handoff_id = handoff["id"]

    # Paused: the bot says nothing, whatever the citizen writes; the messages are kept.
    assert citizen.send("hello? is anyone there?").bodies == []
    assert citizen.send("is the bin collection running?").bodies == []

    text = "Hi, this is Sam from the city. How can I help?"
    status, sent = stack.api("POST", f"/api/handoffs/{handoff_id}/messages", {"text": text})
    assert (status, sent) == (200, {"delivered": True})
    assert sms_to(stack, phone) == [text]
    active = stack.api_items("/api/handoffs?status=active&limit=200")
    assert [h["status"] for h in active if h["id"] == handoff_id] == ["active"]

    status, detail = stack.api("GET", f"/api/handoffs/{handoff_id}")
    assert status == 200
    lines = [(e["kind"], e["text"]) for e in detail["transcript"]]
    assert ("citizen", "hello? is anyone there?") in lines and ("agent", text) in lines
    assert lines.index(("citizen", "hello? is anyone there?")) < lines.index(("agent", text))
    assert {e["channel"] for e in detail["transcript"] if e["kind"] == "citizen"} == {"sms"}
    assert citizen.send("thanks, I need help with my bins").bodies == []

    status, released = stack.api("POST", f"/api/handoffs/{handoff_id}/release")
    assert status == 200 and released["resolution"] == "released"
    assert released["citizen_told"] is True
    assert sms_to(stack, phone)[1].startswith("You are back with the CivicLine assistant")

    answer = " ".join(citizen.send("is the bin collection running?").bodies)
    assert "bin" in answer.lower(), answer  # the bot answers again
    kinds = [e["kind"] for e in stack.api("GET", f"/api/handoffs/{handoff_id}")[1]["transcript"]
             if e["text"].startswith("You are back with the CivicLine assistant")]
    assert kinds == ["bot"]
    assert stack.api("POST", f"/api/handoffs/{handoff_id}/release")[0] == 409
    assert stack.api("POST", f"/api/handoffs/{handoff_id}/messages", {"text": "hi"})[0] == 409
    status, resolved = stack.api("GET", "/api/handoffs?status=resolved&limit=1")
    assert status == 200 and [h["id"] for h in resolved["items"]] == [handoff_id]  # newest first
    assert audit(stack, str(handoff_id)) == [
        ("assistant", "handoff.open"), ("api", "handoff.claim"), ("api", "handoff.reply"),
        ("api", "handoff.release")]


def test_a_caller_is_put_through_and_the_call_is_in_the_console(stack: Stack) -> None:
    phone = new_phone()
    call = CallClient(channel_hooks(stack), phone)
    call.start()
    call.press("1")  # English, from the language menu
    transfer = call.say("I want to talk to a person")
    assert transfer.dial == "+15550109999"  # CIVICLINE_CALL_CENTRE_NUMBER
    handoff = open_handoff(stack, phone)
    assert (handoff["channel"], handoff["reason"]) == ("voice", "request_human")
    status, detail = stack.api("GET", f"/api/handoffs/{handoff['id']}")
    assert status == 200
    assert ("citizen", "I want to talk to a person", "voice") in [
        (e["kind"], e["text"], e["channel"]) for e in detail["transcript"]]
    # The agent who took the call closes it; a later SMS reaches the bot as usual.
    assert stack.api("POST", f"/api/handoffs/{handoff['id']}/resolve")[0] == 200
    assert SmsClient(channel_hooks(stack), phone).send("hello").bodies


def test_resolve_tells_the_citizen_and_the_bot_answers_again(stack: Stack) -> None:
    phone = new_phone()
    _, handoff = ask_for_a_person(stack, phone, "hola, quiero hablar con una persona")
    assert handoff["language"] == "es"
    status, body = stack.api("POST", f"/api/handoffs/{handoff['id']}/resolve")
    assert status == 200 and body["resolution"] == "resolved"
    assert sms_to(stack, phone)[0].startswith("Nuestro personal ha cerrado este chat")
    assert stack.texts(phone, "hola")  # answered again
    assert stack.api("POST", f"/api/handoffs/{handoff['id']}/resolve")[0] == 409


def test_a_failed_delivery_keeps_the_text(stack: Stack) -> None:
    phone = TWILIO_INVALID_NUMBER  # the stand-in refuses SMS to it, as Twilio would
    for handoff in stack.api_items("/api/handoffs"):  # left open by an earlier test
        if handoff["sender_id"] == phone:
            stack.api("POST", f"/api/handoffs/{handoff['id']}/resolve")
    _, handoff = ask_for_a_person(stack, phone)
    status, body = stack.api("POST", f"/api/handoffs/{handoff['id']}/messages",
                             {"text": "Can you hear me?"})
    assert status == 502 and body["delivered"] is False and "Twilio" in body["error"]
    status, detail = stack.api("GET", f"/api/handoffs/{handoff['id']}")
    failed = [e for e in detail["transcript"] if e["kind"] == "failed"]
    assert [e["text"] for e in failed] == ["Can you hear me?"]
    assert "Twilio refused" in failed[0]["error"]  # shown to the agent
    assert ("api", "handoff.reply") in audit(stack, str(handoff["id"]))
    stack.api("POST", f"/api/handoffs/{handoff['id']}/resolve")


@pytest.mark.parametrize(("raw", "status"), [
    (b"not json", 400), (b"[1, 2]", 400), (b"{}", 422), (b'{"text": ""}', 422),
    (b'{"text": 5}', 422), (b'{"text": "hi", "colour": "red"}', 422),
])
def test_bad_message_bodies(stack: Stack, raw: bytes, status: int) -> None:
    _, handoff = ask_for_a_person(stack, new_phone())
    answer_status, body, _ = http(
        "POST", f"{stack.url}/api/handoffs/{handoff['id']}/messages", raw=raw,
        headers={"Authorization": "Bearer test-api-token-0123456789",
                 "Content-Type": "application/json"})
    assert answer_status == status and body["error"]


def test_distress_words_open_an_urgent_hand_off(stack: Stack) -> None:
    replies, handoff = ask_for_a_person(stack, new_phone(), "I want to kill myself")
    assert "911" in replies[0] and "988" in replies[0]
    assert handoff["urgent"] is True and handoff["reason"] == "distress"


def test_distress_while_waiting_marks_it_urgent(stack: Stack) -> None:
    phone = new_phone()
    _, handoff = ask_for_a_person(stack, phone, "je veux parler à une personne")
    assert handoff["urgent"] is False
    # The bot is paused, but the emergency numbers are given at once, in the conversation
    # itself (here the REST reply), never as a new SMS to the number the sender claimed.
    [numbers] = stack.texts(phone, "je veux me suicider")
    assert "911" in numbers and detect(numbers).language == "fr"  # the region's, in French
    assert sms_to(stack, phone) == []
    status, detail = stack.api("GET", f"/api/handoffs/{handoff['id']}")
    assert status == 200 and detail["urgent"] is True
    assert ("note", "The assistant gave the emergency numbers (911, 988) in the "
                    "conversation.") in [(e["kind"], e["text"]) for e in detail["transcript"]]
    assert stack.texts(phone, "je veux me suicider") == []  # told once
    assert sms_to(stack, phone) == []


def test_staff_send_a_citizen_to_the_bot_by_sms(stack: Stack) -> None:
    phone = new_phone()
    status, body = stack.api("POST", "/api/outreach",
                             {"phone": phone, "task": "status", "language": "fr"})
    assert status == 200, body
    assert (body["language"], body["delivered"]) == ("fr", True) and body["messages"] >= 1
    first = sms_to(stack, phone)[0]
    assert "numéro de dossier" in first, first  # the status form's question, in French
    # The citizen answers by SMS; the form goes on, in French.
    answer = " ".join(SmsClient(channel_hooks(stack), phone).send("1234 5678").bodies)
    assert detect(answer).language == "fr", answer
    [(person_id,)] = query(stack, "SELECT id FROM people WHERE phone = :p", p=phone)
    assert ("api", "handoff.send_to_bot") in audit(stack, f"person:{person_id}")
    assert query(stack, "SELECT count(*) FROM audit_log WHERE target LIKE :p OR detail LIKE :p",
                 p=f"%{phone[1:]}%") == [(0,)]  # the audit log outlives an erasure: no phone


def test_staff_send_the_appointment_form_in_the_person_s_language(stack: Stack) -> None:
    phone = new_phone()
    stack.texts(phone, "hola, buenos días")  # a Spanish speaker, known to CivicLine
    status, body = stack.api("POST", "/api/outreach", {"phone": phone, "task": "appointment"})
    assert status == 200 and body["language"] == "es", body
    sent = " ".join(sms_to(stack, phone))
    assert sent and detect(sent).language == "es", sent


@pytest.mark.parametrize(("body", "field"), [
    ({"phone": "not a phone", "task": "status"}, "phone"),
    ({"phone": "+15550100001", "task": "dance"}, "task"),
    ({"phone": "+15550100001", "task": "status", "language": "de"}, "language"),
    ({"phone": "+15550100001", "task": "status", "colour": "red"}, "colour"),
])
def test_bad_outreach_is_422(stack: Stack, body: dict, field: str) -> None:
    status, answer = stack.api("POST", "/api/outreach", body)
    assert status == 422 and field in answer["fields"]


def test_no_outreach_while_staff_have_the_conversation(stack: Stack) -> None:
    phone = new_phone()
    ask_for_a_person(stack, phone)
    status, body = stack.api("POST", "/api/outreach", {"phone": phone, "task": "status"})
    assert status == 409 and "hand" in body["error"]
