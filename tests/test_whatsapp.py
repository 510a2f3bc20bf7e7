"""WhatsApp's rules for messages sent later (SPEC §6.4) and Twilio's sending options (§6.6), with
the real dispatcher and Twilio client against this test's own Twilio stand-in (the ``twilio``
fixture: tests/support/providers.py, Twilio's wire format).

The person's WhatsApp window is set by their inbound WhatsApp message's real time of arrival
(an ``inbound_messages`` row, as the webhook writes it), moved back to age it.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, update

from bot.domain import notifications, people, retention
from bot.language.detect import detect
from bot.messaging import inbound, outbound, receipts
from bot.messaging.delivery import OutboundMessage
from bot.messaging.messages import BotMessage
from bot.messaging.sms.render import twiml_messages
from bot.messaging.whatsapp.render import MAX_CHARS, render_whatsapp
from bot.store.db import get_engine, session_scope
from bot.store.migrate import alembic_config
from bot.store.models import Base, DeliveryReceipt, InboundMessage, utcnow
from server import api
from tests.support.providers import Providers

pytestmark = pytest.mark.usefixtures("fast_retries")
SPANISH = ("12345674", "+34612345678")  # the demo data's Spanish case and its owner's phone
TEMPLATE = "HX" + "a" * 32
SERVICE = "MG" + "b" * 32


def wrote_on_whatsapp(phone: str, hours_ago: float) -> None:
    """The person behind ``phone`` sent a WhatsApp message ``hours_ago`` hours ago."""
    sid = f"SMwa{phone[1:]}{int(hours_ago * 60)}"
    assert inbound.claim(inbound.WHATSAPP, sid).ours
    with session_scope() as session:
        person = people.get_or_create(session, phone)
        inbound.record(session, inbound.WHATSAPP, sid, person)
        session.execute(update(InboundMessage).where(InboundMessage.external_id == sid)
                        .values(received_at=utcnow() - dt.timedelta(hours=hours_ago)))


def notify(status: str = "completed") -> dict:
    code, body = api._patch_case(SPANISH[0], {"status": status})
    assert code == 200, body
    assert notifications.dispatch_due() == {"sent": 1}
    return body


def test_inside_the_window_a_notification_is_whatsapp_text(twilio: Providers) -> None:
    wrote_on_whatsapp(SPANISH[1], hours_ago=23)
    notify()
    [sent] = twilio.messages("Messages")
    assert sent["To"] == "whatsapp:" + SPANISH[1] and sent["From"] == "whatsapp:+15005550006"
    assert "1234 5674" in sent["Body"] and detect(sent["Body"]).language == "es"
    assert "ContentSid" not in sent
    assert sent["StatusCallback"].endswith("/webhooks/sms/status")


def test_outside_the_window_with_a_template_it_goes_by_the_template(
        twilio: Providers, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIVICLINE_WHATSAPP_TEMPLATE_SID", TEMPLATE)
    wrote_on_whatsapp(SPANISH[1], hours_ago=25)
    notify()
    [sent] = twilio.messages("Messages")
    assert sent["To"] == "whatsapp:" + SPANISH[1] and sent["ContentSid"] == TEMPLATE
    words = json.loads(sent["ContentVariables"])["1"]
    assert "1234 5674" in words and detect(words).language == "es"
    assert not sent.get("Body")
    with session_scope() as session:
        [row] = notifications.listing(session)
        assert row.channel == "whatsapp"


def test_outside_the_window_without_a_template_it_goes_by_sms(twilio: Providers) -> None:
    wrote_on_whatsapp(SPANISH[1], hours_ago=30)
    notify()
    [sent] = twilio.messages("Messages")
    assert sent["To"] == SPANISH[1] and sent["From"] == "+15005550006"
    assert "1234 5674" in sent["Body"]
    with session_scope() as session:
        [row] = notifications.listing(session)
        assert row.channel == "sms"


def test_the_messaging_service_replaces_the_from_number(
        twilio: Providers, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWILIO_MESSAGING_SERVICE_SID", SERVICE)
    notify()  # the owner last wrote by SMS (never on WhatsApp): an SMS
    wrote_on_whatsapp(SPANISH[1], hours_ago=1)
    notify("rejected")
    sms, whatsapp = twilio.messages("Messages")
    assert sms["To"] == SPANISH[1] and whatsapp["To"] == "whatsapp:" + SPANISH[1]
    for sent in (sms, whatsapp):
        assert sent["MessagingServiceSid"] == SERVICE and "From" not in sent


def test_an_image_goes_as_whatsapp_media(twilio: Providers) -> None:
    wrote_on_whatsapp(SPANISH[1], hours_ago=2)
    url = "https://civicline.example.org/static/office-map.png"
    with session_scope() as session:
        person = people.get_or_create(session, SPANISH[1])
        delivery = outbound.send_to_person(session, person,
                                           OutboundMessage("El mapa", "es", image=url))
    assert delivery.channel == "whatsapp"
    [sent] = twilio.messages("Messages")
    assert sent["MediaUrl"] == url and sent["Body"] == "El mapa"


def test_an_opted_out_person_gets_nothing_on_whatsapp_either(database: str) -> None:
    wrote_on_whatsapp(SPANISH[1], hours_ago=1)
    with session_scope() as session:
        people.get_or_create(session, SPANISH[1]).sms_opted_out = True
    api._patch_case(SPANISH[0], {"status": "completed"})
    assert notifications.dispatch_due() == {"skipped": 1}


def test_whatsapp_rendering_numbers_options_and_keeps_the_text_as_written() -> None:
    turn = [BotMessage("¿Qué necesita? “Elija” una opción…",
                       buttons=(("Mi solicitud", "/a"), ("Oficinas", "/b")),
                       image="https://example.org/a.png")]
    reply = render_whatsapp(turn)
    [message] = reply.messages
    assert message.body == "¿Qué necesita? “Elija” una opción…\n1. Mi solicitud\n2. Oficinas"
    assert message.media == ("https://example.org/a.png",)
    assert reply.options == [("Mi solicitud", "/a"), ("Oficinas", "/b")]
    twiml = twiml_messages(reply.messages)
    assert "<Body>" in twiml and "<Media>https://example.org/a.png</Media>" in twiml
    long = render_whatsapp([BotMessage(("Una frase larga de prueba. " * 200).strip())])
    assert len(long.messages) > 1 and all(len(m.body) <= MAX_CHARS for m in long.messages)


def test_receipts_never_move_backwards(database: str) -> None:
    receipts.sent("SMr1", "sms", "queued")
    assert receipts.callback("SMr1", "delivered", None).changed
    assert not receipts.callback("SMr1", "sent", None).changed  # late: kept delivered
    assert receipts.callback("SMr1", "read", None).changed
    early = receipts.callback("SMr2", "sent", None)  # before the send's own record
    assert not early.known and early.changed
    receipts.sent("SMr2", "whatsapp", "queued")
    receipts.callback("SMr3", "undelivered", "30003")
    assert not receipts.callback("SMr3", "delivered", None).changed
    with session_scope() as session:
        assert str(receipts.summary(session, ["SMr1"])) == "read"
        assert str(receipts.summary(session, ["SMr2"])) == "sent"
        assert str(receipts.summary(session, ["SMr1", "SMr2"])) == "sent"  # the least along
        assert str(receipts.summary(session, ["SMr1", "SMr3"])) == "undelivered (error 30003)"
        assert receipts.summary(session, ["SMnothing"]) is None


def test_old_receipts_are_purged(database: str) -> None:
    receipts.sent("SMold", "sms", "queued")
    receipts.sent("SMnew", "whatsapp", "queued")
    with session_scope() as session:
        session.execute(update(DeliveryReceipt).where(DeliveryReceipt.provider_id == "SMold")
                        .values(updated_at=utcnow() - dt.timedelta(days=100)))
    with session_scope() as session:
        counts = retention.purge(session, dt.timedelta(days=90), actor="test")
        assert counts["delivery receipts"] == 1
        assert receipts.summary(session, ["SMold"]) is None
        assert str(receipts.summary(session, ["SMnew"])) == "queued"


def test_migration_0011_matches_the_model_and_downgrades(database: str) -> None:
    with get_engine().connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [d for d in diff if "delivery_receipts" in repr(d) or "provider_id" in repr(d)] == []
    config = alembic_config(database)
    command.downgrade(config, "0010")
    with get_engine().connect() as connection:
        assert not inspect(connection).has_table("delivery_receipts")
        assert "provider_id" not in {c["name"] for c in inspect(connection)
                                     .get_columns("handoff_notes")}
    command.upgrade(config, "head")
    with get_engine().connect() as connection:
        assert inspect(connection).has_table("delivery_receipts")
