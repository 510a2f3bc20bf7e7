"""bot/messaging/outbound.py against the Twilio and Telegram stand-ins: what goes over the wire,
which
channel is chosen, opt-outs respected, provider errors classified, sync and async paths."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from bot.config import get_settings
from bot.domain import people
from bot.messaging import inbound, outbound
from bot.messaging.delivery import DeliveryError, OptedOut, OutboundMessage
from bot.messaging.sms.client import TwilioSmsSender
from bot.messaging.sms.encoding import segments
from bot.messaging.sms.keywords import set_sms_opt_out
from bot.messaging.telegram.client import TelegramSender
from bot.store.models import InboundMessage, TelegramCallback
from tests.support.environment import free_port
from tests.support.providers import (
    TELEGRAM_BLOCKED_CHAT,
    TWILIO_ACCOUNT_SID,
    TWILIO_INVALID_NUMBER,
    Providers,
)
from tests.support.unique import phone, telegram_user

MENU = [("My application", "/check_application_status"), ("Talk to a person", "/request_human")]


@pytest.fixture
def wire(database: str, providers: Providers, monkeypatch: pytest.MonkeyPatch
         ) -> Iterator[Providers]:
    """The database fixture's environment, plus the provider stand-ins' addresses (shared by
    the session: each test counts only its own recipient's messages)."""
    for key, value in providers.env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    yield providers
    get_settings.cache_clear()


def test_sms_goes_through_twilio_rest_with_numbered_options(wire: Providers) -> None:
    number = phone()
    sid = TwilioSmsSender().send(number,
                                          OutboundMessage("Your case changed.",
                                                                   buttons=MENU))
    (sent,) = wire.messages("Messages", To=number)
    assert sent["To"] == number and sent["From"] == get_settings().twilio_from_number
    assert sent["Body"] == "Your case changed.\n1. My application\n2. Talk to a person"
    assert sid.startswith("SM")
    assert get_settings().twilio_account_sid == TWILIO_ACCOUNT_SID


def test_a_long_sms_goes_as_several_messages_within_the_budget(wire: Providers) -> None:
    text = "Your appointment at the city hall is confirmed for Monday morning. " * 10
    number = phone()
    TwilioSmsSender().send(number, OutboundMessage(text.strip()))
    bodies = wire.sms_to(number)
    assert len(bodies) >= 2 and all(segments(b) <= 3 for b in bodies)


def test_twilio_refusals_are_not_retried_and_outages_are(wire: Providers,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(DeliveryError) as refused:
        TwilioSmsSender().send(TWILIO_INVALID_NUMBER, OutboundMessage("Hi"))
    assert not refused.value.retryable and "21211" in str(refused.value)
    monkeypatch.setenv("TWILIO_API_BASE_URL", f"http://127.0.0.1:{free_port()}")
    get_settings.cache_clear()
    with pytest.raises(DeliveryError) as down:
        TwilioSmsSender().send(phone(), OutboundMessage("Hi"))
    assert down.value.retryable


def test_telegram_sends_plain_text_with_an_inline_keyboard(wire: Providers,
                                                           session: Session) -> None:
    long_payload = '/digital_help{"digital_topic": "guide:reset_password_for_the_online_portal"}'
    buttons = [*MENU, ("Reset my password", long_payload)]
    chat = telegram_user()
    TelegramSender().send(str(chat), OutboundMessage("Hello *there*", "en",
                                                                        buttons))
    (sent,) = wire.messages("sendMessage", chat_id=chat)
    assert sent["text"] == "Hello *there*" and "parse_mode" not in sent
    rows = sent["reply_markup"]["inline_keyboard"]
    data = [row[0]["callback_data"] for row in rows]
    assert data[:2] == [payload for _, payload in MENU]
    assert data[2].startswith("#") and len(data[2].encode()) <= 64
    stored = session.get(TelegramCallback, int(data[2][1:]))
    assert stored is not None and stored.payload == long_payload


def test_the_sync_path_works_inside_a_running_event_loop(wire: Providers) -> None:
    chat = telegram_user()

    async def from_a_coroutine() -> str:
        return TelegramSender().send(str(chat), OutboundMessage("From a loop"))

    assert asyncio.run(from_a_coroutine())
    assert wire.messages("sendMessage", chat_id=chat)


def test_a_user_who_blocked_the_bot_is_not_retried(wire: Providers) -> None:
    with pytest.raises(DeliveryError) as blocked:
        TelegramSender().send(str(TELEGRAM_BLOCKED_CHAT),
                                       OutboundMessage("Hi"))
    assert not blocked.value.retryable


def test_send_to_person_texts_their_phone_and_remembers_the_options(wire: Providers,
                                                                    session: Session) -> None:
    number = phone()
    person = people.get_or_create(session, number)
    delivery = outbound.send_to_person(session, person,
                                       OutboundMessage("Pick one", buttons=MENU))
    assert delivery.channel == "sms" and delivery.provider_id.startswith("SM")
    assert wire.sms_to(number) == ["Pick one\n1. My application\n2. Talk to a person"]
    assert inbound.options(session, person, "sms") == MENU  # a reply "2" means a person


def test_nothing_is_texted_to_someone_who_opted_out(wire: Providers, session: Session) -> None:
    number = phone()
    person = people.get_or_create(session, number)
    set_sms_opt_out(person, True)
    with pytest.raises(OptedOut) as stopped:
        outbound.send_to_person(session, person, OutboundMessage("News"))
    assert not stopped.value.retryable
    assert wire.sms_to(number) == []


def test_the_channel_they_last_used_wins_and_a_call_is_answered_by_sms(
        wire: Providers, session: Session) -> None:
    person = people.get_or_create(session, phone())
    chat = telegram_user()
    person.telegram_user_id, person.phone_verified = str(chat), True
    session.add(InboundMessage(channel="telegram", external_id="u-1", person_id=person.id))
    session.flush()
    assert outbound.send_to_person(session, person,
                                   OutboundMessage("Hi")).channel == "telegram"
    assert wire.messages("sendMessage", chat_id=chat)
    session.add(InboundMessage(channel="voice", external_id="CA1:0", person_id=person.id))
    session.flush()
    assert outbound.channel_for(session, person) == "sms"
    assert outbound.send_to_person(session, person, OutboundMessage("Hi"),
                                   channel="voice").channel == "sms"
    # A USSD session is answered by SMS too (the same phone), never on Telegram.
    session.add(InboundMessage(channel="telegram", external_id="u-2", person_id=person.id))
    session.add(InboundMessage(channel="ussd", external_id="ATUid_1:0", person_id=person.id))
    session.flush()
    assert outbound.channel_for(session, person) == "sms"
    assert outbound.send_to_person(session, person, OutboundMessage("Hi"),
                                   channel="ussd").channel == "sms"


def test_someone_with_no_phone_and_no_telegram_cannot_be_reached(wire: Providers,
                                                                 session: Session) -> None:
    person = people.get_or_create(session, "web-visitor-1")
    with pytest.raises(DeliveryError):
        outbound.send_to_person(session, person, OutboundMessage("Hi"))
    with pytest.raises(DeliveryError, match="no way to send"):
        outbound.send_to_person(session, person, OutboundMessage("Hi"), channel="fax")
