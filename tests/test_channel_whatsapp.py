"""WhatsApp through Twilio (SPEC §6.4) and delivery receipts (§6.6), through the real stack.

A WhatsApp message is what Twilio posts to the SMS webhook with ``From=whatsapp:+…``, signed
as Twilio signs it (``bot.devtools.clients.SmsClient(whatsapp=True)``); messages sent later go
to the Twilio stand-in (tests/support/providers.py), whose requests are asserted; Twilio's
status callbacks are posted, signed, to ``/webhooks/sms/status``.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest

from bot.devtools.clients import SmsClient, SmsReply
from bot.store.models import utcnow
from tests.support.clients import on_whatsapp, status_callback, texting
from tests.support.environment import CALL_CENTRE, ROOT, base_env
from tests.support.stack import Stack
from tests.support.stack_data import (
    execute,
    json_column,
    make_staff,
    new_case,
    query,
    spaced,
    waiting_handoff,
)
from tests.support.unique import phone
from tests.support.waiting import eventually
from tests.support.web import Browser

pytestmark = pytest.mark.stack


def read(reply: SmsReply) -> str:
    assert reply.status == 200, reply.raw
    return "\n".join(reply.bodies)


def person_ids(stack: Stack, number: str) -> list[tuple]:
    return query(stack, "SELECT id FROM people WHERE phone = :p", p=number)


def sent_to(stack: Stack, to: str) -> list[dict]:
    assert stack.providers is not None
    return stack.providers.messages("Messages", To=to)


def patch(stack: Stack, reference: str, status: str) -> None:
    code, body = stack.api("PATCH", f"/api/cases/{reference}", {"status": status})
    assert code == 200, body


def notifications(stack: Stack, reference: str) -> list[dict]:
    code, body = stack.api("GET", f"/api/cases/{reference}")
    assert code == 200, body
    return body["notifications"]


def age_whatsapp(stack: Stack, number: str, hours: float) -> None:
    """The person's WhatsApp messages arrived ``hours`` ago (the 24-hour window's clock)."""
    execute(stack, "UPDATE inbound_messages SET received_at = :t WHERE channel = 'whatsapp' "
                   "AND person_id = (SELECT id FROM people WHERE phone = :p)",
            t=utcnow() - dt.timedelta(hours=hours), p=number)


def test_a_spanish_status_check_on_whatsapp_is_the_same_person_as_sms(stack: Stack) -> None:
    number = phone("+3461200")
    reference = new_case(stack, number, status="approved", language="es")
    sms = texting(stack, number)
    assert "número de caso" in read(sms.send("hola, quiero saber el estado de mi solicitud"))
    whatsapp = on_whatsapp(stack, number)
    answer = read(whatsapp.send(spaced(reference)))
    # The form asked by SMS is answered on WhatsApp, in Spanish, and WhatsApp proves the
    # phone like SMS: the status at once, no date of birth asked.
    assert spaced(reference) in answer and "aprobado" in answer, answer
    assert "nacimiento" not in answer
    assert len(person_ids(stack, number)) == 1
    channels = query(stack, "SELECT channel FROM inbound_messages WHERE person_id = :i "
                            "ORDER BY id", i=person_ids(stack, number)[0][0])
    assert [c for (c,) in channels] == ["sms", "whatsapp"]
    inputs = query(stack, "SELECT data FROM events WHERE sender_id = :s AND type_name = 'user' "
                          "ORDER BY id", s=number)
    assert [json.loads(d)["input_channel"] for (d,) in inputs] == ["sms", "whatsapp"]


def test_notifications_go_on_whatsapp_in_the_window_then_by_sms(stack: Stack) -> None:
    number = phone("+3461200")
    reference = new_case(stack, number, status="in_review", language="es")
    whatsapp = on_whatsapp(stack, number)
    assert "1. Mi solicitud" in read(whatsapp.send("hola, buenos días"))
    patch(stack, reference, "approved")
    [inside] = eventually(lambda: sent_to(stack, "whatsapp:" + number), "the WhatsApp text")
    assert inside["From"] == "whatsapp:+15005550006" and "aprobado" in inside["Body"]
    assert inside["StatusCallback"] == stack.url + "/webhooks/sms/status"
    assert sent_to(stack, number) == []

    age_whatsapp(stack, number, hours=25)  # the window closed; no template is set here
    patch(stack, reference, "rejected")
    [outside] = eventually(lambda: sent_to(stack, number), "the SMS instead")
    assert "no fue aprobado" in outside["Body"] and outside["From"] == "+15005550006"
    assert len(sent_to(stack, "whatsapp:" + number)) == 1
    channels = [n["channel"] for n in eventually(
        lambda: [n for n in notifications(stack, reference) if n["status"] == "sent"][1:] and
        notifications(stack, reference), "both notifications sent")]
    assert channels == ["whatsapp", "sms"]


def test_status_callbacks_move_each_message_forward_only(stack: Stack) -> None:
    number = phone("+3461200")
    reference = new_case(stack, number, status="in_review", language="es")
    read(on_whatsapp(stack, number).send("hola"))
    patch(stack, reference, "approved")
    eventually(lambda: sent_to(stack, "whatsapp:" + number), "the notification")
    assert stack.providers is not None
    [sid] = stack.providers.message_sids(To="whatsapp:" + number)

    def delivery() -> str | None:
        return notifications(stack, reference)[0]["delivery"]

    assert eventually(delivery, "the send's own receipt") == "queued"
    assert status_callback(stack, sid, "delivered")[0] == 200
    assert status_callback(stack, sid, "sent")[0] == 200  # late, out of order
    assert delivery() == "delivered"
    assert status_callback(stack, sid, "failed", "30008", signature="forged")[0] == 403
    assert delivery() == "delivered"
    assert status_callback(stack, sid, "read")[0] == 200
    assert delivery() == "read"

    unknown = "SM" + "f" * 32  # e.g. a TwiML reply: recorded, no error
    status, body = status_callback(stack, unknown, "delivered")
    assert status == 200 and json.loads(body)["known"] is False
    assert status_callback(stack, sid, "lost")[0] == 422
    assert status_callback(stack, "", "sent")[0] == 422

    listing = subprocess.run([sys.executable, "-m", "bot", "outbox"], cwd=ROOT,
                             env=base_env(stack.database_url), capture_output=True, text=True,
                             timeout=120)
    assert listing.returncode == 0, listing.stderr
    [line] = [line for line in listing.stdout.splitlines() if reference in line]
    assert " read " in line and "whatsapp" in line


def test_an_undelivered_sms_shows_its_error_code(stack: Stack) -> None:
    number = phone("+3461200")
    reference = new_case(stack, number, status="in_review", language="es")
    read(texting(stack, number).send("hola"))
    patch(stack, reference, "approved")
    eventually(lambda: sent_to(stack, number), "the SMS")
    assert stack.providers is not None
    [sid] = stack.providers.message_sids(To=number)
    assert status_callback(stack, sid, "undelivered", "30003")[0] == 200
    assert status_callback(stack, sid, "delivered")[0] == 200  # no way back from a failure
    assert eventually(lambda: notifications(stack, reference)[0]["delivery"],
                      "the receipt") == "undelivered (error 30003)"


def test_stop_on_whatsapp_stops_the_phone_and_help_still_answers(stack: Stack) -> None:
    number = phone("+3461200")
    reference = new_case(stack, number, status="in_review", language="es")
    whatsapp = on_whatsapp(stack, number)
    read(whatsapp.send("hola"))
    assert read(whatsapp.send("BAJA")).startswith("Ya no le enviaremos mensajes")
    assert query(stack, "SELECT sms_opted_out FROM people WHERE phone = :p",
                 p=number) == [(1,)]
    assert whatsapp.send("hola").bodies == []
    assert texting(stack, number).send("hola").bodies == []  # one phone, one opt-out
    help_text = read(whatsapp.send("HELP"))
    assert "CivicLine" in help_text and CALL_CENTRE in help_text and "STOP" in help_text
    patch(stack, reference, "approved")
    assert eventually(lambda: notifications(stack, reference)[0]["status"] == "skipped",
                      "the notification skipped")
    assert sent_to(stack, "whatsapp:" + number) == sent_to(stack, number) == []
    assert read(whatsapp.send("START")).startswith("Bienvenido")


def test_a_photo_on_whatsapp_is_kept_and_declined_like_an_mms(stack: Stack) -> None:
    whatsapp: SmsClient = on_whatsapp(stack, phone("+3461200"))
    url = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MMwa/Media/MEwa"
    reply = read(whatsapp.send("", NumMedia="1", MediaUrl0=url, MediaContentType0="image/jpeg"))
    assert "only use a photo" in reply
    [(media,)] = query(stack, "SELECT media FROM inbound_messages WHERE channel = 'whatsapp' "
                              "AND person_id = (SELECT id FROM people WHERE phone = :p)",
                       p=whatsapp.phone)
    assert json_column(media)[0]["url"] == url


def test_an_agents_reply_goes_on_whatsapp_and_shows_its_delivery(stack: Stack,
                                                                 on_duty: None) -> None:
    number = phone("+3461200")
    whatsapp = on_whatsapp(stack, number)
    read(whatsapp.send("quiero hablar con una persona"))
    handoff = waiting_handoff(stack, number)
    assert handoff["channel"] == "whatsapp"
    text = "Hola, soy Ana del ayuntamiento. ¿En qué le ayudo?"
    status, sent = stack.api("POST", f"/api/handoffs/{handoff['id']}/messages", {"text": text})
    assert (status, sent) == (200, {"delivered": True})
    [message] = sent_to(stack, "whatsapp:" + number)
    assert message["Body"] == text
    assert stack.providers is not None
    [sid] = stack.providers.message_sids(To="whatsapp:" + number)
    assert status_callback(stack, sid, "delivered")[0] == 200

    _, detail = stack.api("GET", f"/api/handoffs/{handoff['id']}")
    [reply] = [e for e in detail["transcript"] if e["kind"] == "agent"]
    assert reply["text"] == text and reply["state"] == "delivered"
    browser = Browser(stack.url)
    assert browser.login(make_staff(stack, "whatsapp-agent"))[0] == 303
    status, page, _ = browser.get(f"/console/handoffs/{handoff['id']}/transcript")
    assert status == 200 and 'data-state="delivered"' in page
    assert status_callback(stack, sid, "read")[0] == 200
    _, page, _ = browser.get(f"/console/handoffs/{handoff['id']}/transcript")
    assert 'data-state="read"' in page and "WhatsApp" in page
    assert stack.api("POST", f"/api/handoffs/{handoff['id']}/resolve")[0] == 200
