"""The developer tools of the channels, against the running stack: the interactive simulator
(``python -m bot simulate``) and Telegram's polling mode (``python -m bot telegram-poll``);
and the privacy of what the channels log."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import Iterator

import pytest

from bot.config import get_settings
from bot.devtools.clients import SmsClient
from bot.devtools.inbox import TwilioInbox
from bot.devtools.repl import run
from bot.messaging.sms.client import TwilioSmsSender
from bot.messaging.telegram.poll import poll
from tests.support.clients import channel_hooks
from tests.support.environment import TELEGRAM_SECRET, TWILIO_AUTH_TOKEN
from tests.support.providers import Providers
from tests.support.stack import Stack
from tests.support.stack_data import new_case, query, spaced
from tests.support.unique import phone
from tests.support.waiting import eventually

pytestmark = pytest.mark.stack


@pytest.fixture
def developer(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    """This process configured like a developer's terminal next to `make run`."""
    assert stack.providers is not None
    env = {**stack.providers.env, "TWILIO_AUTH_TOKEN": TWILIO_AUTH_TOKEN,
           "TELEGRAM_SECRET_TOKEN": TELEGRAM_SECRET, "PUBLIC_BASE_URL": stack.url}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    yield stack
    get_settings.cache_clear()


def simulate(channel: str, phone: str, lines: list[str]) -> str:
    shown: list[str] = []
    typed = iter([*lines, "quit"])
    assert run(channel, phone, read=lambda _prompt: next(typed), out=shown.append) == 0
    return "\n".join(shown)


def test_the_sms_simulator_shows_encoding_and_segments(developer: Stack) -> None:
    shown = simulate("sms", "+15550350001", ["hello", "أريد معرفة حالة طلبي"])
    assert re.search(r"\[GSM-7, [1-3] segment\(s\), \d+ chars\]", shown)
    assert re.search(r"\[UCS-2, [1-3] segment\(s\), \d+ chars\]", shown)
    assert "1. My application" in shown


def test_the_sms_simulator_shows_later_messages_sent_through_twilios_rest_api(database: str
                                                                           ) -> None:
    """A notification sent by the real Twilio client to the simulator's inbox shows up in the
    simulated phone's conversation; messages to other numbers are taken but not shown. (The
    sender counts the hourly SMS budget in the database.)"""
    shown: list[str] = []
    with TwilioInbox(0, "+33612345678", shown.append) as inbox:
        sender = TwilioSmsSender(dataclasses.replace(get_settings(),
                                                     twilio_api_base_url=inbox.url))
        [sid] = sender.send_bodies("+33612345678", ["Votre dossier 5550 1233 est accepté."])
        sender.send_bodies("+15550100001", ["Not for this phone."])
    assert sid.startswith("SM") and inbox.received == 2
    assert len(shown) == 1 and "Votre dossier 5550 1233 est accepté." in shown[0]
    assert "sent later" in shown[0] and "1 segment(s)" in shown[0]


def test_the_whatsapp_simulator_writes_as_twilio_posts_whatsapp(developer: Stack) -> None:
    number = phone("+3461200")
    shown = simulate("whatsapp", number, ["hola, buenos días", "1"])
    assert re.search(r"\[WhatsApp, \d+ chars\]", shown) and "GSM-7" not in shown
    assert "1. Mi solicitud" in shown and "número de caso" in shown
    assert query(developer, "SELECT DISTINCT channel FROM inbound_messages WHERE person_id = "
                            "(SELECT id FROM people WHERE phone = :p)", p=number) == [
        ("whatsapp",)]


def test_the_inbox_shows_whatsapp_and_templates_and_reports_them_delivered(
        database: str, developer: Stack) -> None:
    """Messages sent later on WhatsApp reach the simulated phone, a template with its words;
    the inbox reports each to the server's status callback as Twilio would (signed)."""
    shown: list[str] = []
    number = phone("+3461200")
    with TwilioInbox(0, number, shown.append, channel_hooks(developer)) as inbox:
        sender = TwilioSmsSender(dataclasses.replace(get_settings(),
                                                     twilio_api_base_url=inbox.url))
        [text] = sender.send_bodies(number, ["Su caso 1234 5674 está aprobado."],
                                    whatsapp=True)
        template = sender.send_template(number, "HX" + "c" * 32, {"1": "Caso aprobado."},
                                        "Caso aprobado.")

        def reported() -> list[tuple]:
            return query(developer, "SELECT provider_id, status FROM delivery_receipts WHERE "
                                    "provider_id IN (:a, :b) ORDER BY provider_id",
                         a=text, b=template)

        assert eventually(lambda: reported() == sorted([(text, "read"), (template, "read")]),
                          "sent, delivered and read reported")
    assert "[WhatsApp from CivicLine, sent later]" in shown[0] and "1234 5674" in shown[0]
    assert "[WhatsApp template HX" in shown[1] and "Caso aprobado." in shown[1]


def test_the_voice_simulator_shows_what_is_said_and_which_keys_to_press(
        developer: Stack) -> None:
    shown = simulate("voice", "+15550350002", ["2", "", "quit"])
    assert "🔊 (es-US, Polly.Lupe)" in shown and "Español, pulse 2." in shown
    assert "press one key, or speak" in shown
    assert "¿Sigue ahí?" in shown  # the silence


def test_the_ussd_simulator_dials_and_shows_each_screen(developer: Stack) -> None:
    """The USSD simulator dials the USSD webhook (not SMS's): the language menu, then the
    English main menu, each screen with its length; a closed session dials again."""
    shown = simulate("ussd", "+15550350004", ["1", "1"])
    assert "(dialling" in shown
    assert re.search(r"\[waiting for keys, \d+ chars\]\n  CivicLine\n  1\. English", shown)
    assert "1. My application" in shown and "9 More" in shown
    assert "segment(s)" not in shown  # not an SMS reply


def test_the_telegram_simulator_shows_and_presses_buttons(developer: Stack) -> None:
    shown = simulate("telegram", "+15550350003", ["/start", "/press 2"])
    assert "[1] My application" in shown and "Which service" in shown


def test_polling_mode_feeds_the_webhook_and_the_reply_goes_out(developer: Stack) -> None:
    providers: Providers = developer.providers  # type: ignore[assignment]
    user_id = 9_470_001  # no other test writes as this user
    providers.updates.append({"update_id": 77_000_001, "message": {
        "message_id": 1, "date": 0, "text": "/start",
        "chat": {"id": user_id, "type": "private"},
        "from": {"id": user_id, "is_bot": False, "first_name": "Ana"}}})
    asyncio.run(poll(developer.url, rounds=2))
    assert providers.messages("deleteWebhook")
    assert providers.messages("sendMessage", chat_id=user_id)


def test_channel_logs_hold_no_phone_number_date_of_birth_or_message_text(stack: Stack) -> None:
    number = "+15550350099"
    reference = new_case(stack, None, date_of_birth="1971-04-22")
    sms = SmsClient(channel_hooks(stack), number)
    marks = stack.log_marks()
    replies = [sms.send(text) for text in ("I would like to check my application please",
                                           spaced(reference), "22/04/1971")]
    assert all(reply.status == 200 for reply in replies)
    assert spaced(reference) in " ".join(replies[-1].bodies)  # the status was told
    logs = stack.logs_since(marks)
    assert "channels.sms" in logs  # the channel did log this conversation
    for secret in (number, number[1:], "22/04/1971", "1971-04-22", "check my application"):
        assert secret not in logs
