"""Sending a message to a person outside a webhook reply: agent replies, notifications, nudges.

One interface for every channel (SPEC §5.6, §5.7). A webhook answers in its own response (TwiML
for SMS); everything sent later goes through here: Twilio's REST API for SMS (its base URL
moved to ``TWILIO_API_BASE_URL`` when set, for tests), the Telegram Bot API through
python-telegram-bot's ``Bot`` (``TELEGRAM_API_BASE_URL`` as its ``base_url``).

* :class:`TwilioSmsSender` and :class:`TelegramSender` send synchronously (from a worker
  thread or the command line). Telegram's ``Bot`` is asynchronous: inside an event loop use
  :func:`send_telegram`; the synchronous path runs the coroutine with ``asyncio.run`` (in a
  worker thread when the caller is itself inside a running loop).
* :func:`send_to_person` picks the person's channel (the one they last wrote on, a call counting
  as SMS; else Telegram if linked, else SMS), never texts someone who opted out
  (:class:`OptedOut`), renders for the medium and remembers numbered options, so that a reply
  "1" to a notification works like a reply to the bot.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from bot.config import Settings, get_settings, tunable
from bot.domain import ratelimit
from bot.domain.phones import mask
from bot.messaging import inbound
from bot.messaging.render import BotMessage, TelegramMessage, render_sms, render_telegram
from bot.store.models import Person

logger = logging.getLogger(__name__)
T = TypeVar("T")
MAX_TIMEOUT_SECONDS = 10.0


def timeout_seconds() -> float:
    """How long one call to a provider may wait (to connect, send, or read), at most 10 s:
    a hung provider holds a dispatcher thread for that long, never for ever (issue 10 §6)."""
    return min(tunable("CIVICLINE_PROVIDER_TIMEOUT_SECONDS", MAX_TIMEOUT_SECONDS),
               MAX_TIMEOUT_SECONDS)


class DeliveryError(RuntimeError):
    """The provider refused or could not be reached; ``retryable`` says whether to try again."""

    def __init__(self, message: str, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class OptedOut(DeliveryError):
    """The person texted STOP: nothing goes to them by SMS until they text START."""

    def __init__(self) -> None:
        super().__init__("the person opted out of SMS (STOP)", retryable=False)


@dataclass(frozen=True)
class OutboundMessage:
    """What to send: text, optional buttons as (title, payload), and the language it is in."""

    text: str
    language: str = "en"
    buttons: list[tuple[str, str]] = field(default_factory=list)

    def as_bot_message(self) -> BotMessage:
        return BotMessage(text=self.text, buttons=tuple(self.buttons))


@dataclass(frozen=True)
class Delivery:
    """A message handed to the provider: on which channel, and the provider's id(s)."""

    channel: str
    provider_ids: list[str]

    @property
    def provider_id(self) -> str:
        return ",".join(self.provider_ids)


def run_sync(coroutine: Awaitable[T]) -> T:
    """Run ``coroutine`` to completion from synchronous code, inside a running loop or not."""
    async def main() -> T:
        return await coroutine

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(main())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()


class HeldBack(DeliveryError):
    """Not sent, by policy: the country is not allowed, or the hourly SMS budget is spent
    (bot.domain.ratelimit; recorded for the console). Over budget is worth retrying next hour."""

    def __init__(self, reason: str) -> None:
        why = {"country": "the number's country is not in CIVICLINE_SMS_COUNTRIES",
               "budget": "the hourly SMS budget is spent"}.get(reason, reason)
        super().__init__(f"held back: {why}", retryable=reason == "budget")
        self.reason = reason


# --- SMS: Twilio REST ------------------------------------------------------------------------

class TwilioSmsSender:
    """SMS through Twilio's REST API (Messages.json), split to the 3-segment budget."""

    channel = inbound.SMS

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()

    def client(self) -> Any:
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        client = Client(self.settings.twilio_account_sid, self.settings.twilio_auth_token,
                        http_client=TwilioHttpClient(timeout=timeout_seconds()))
        if self.settings.twilio_api_base_url:
            client.api.base_url = self.settings.twilio_api_base_url.rstrip("/")
        return client

    def send(self, recipient: str, message: OutboundMessage) -> str:
        return ",".join(self.send_bodies(recipient,
                                         render_sms([message.as_bot_message()]).bodies))

    def send_bodies(self, recipient: str, bodies: Sequence[str],
                    session: Session | None = None) -> list[str]:
        """Send ``bodies``; ``session``: the caller's, when it is writing (the budget and a
        held message are written there on SQLite, which has one writer at a time)."""
        from twilio.base.exceptions import TwilioRestException

        # allow-list and hourly budget
        held = ratelimit.hold_reason(recipient, list(bodies), session=session)
        if held:
            raise HeldBack(held)
        client = self.client()
        sids = []
        for body in bodies:
            try:
                created = client.messages.create(to=recipient, body=body,
                                                 from_=self.settings.twilio_from_number)
            except TwilioRestException as exc:
                retryable = exc.status == 429 or exc.status >= 500
                raise DeliveryError(f"Twilio refused the SMS ({exc.status}, code {exc.code})",
                                    retryable=retryable) from exc
            except Exception as exc:  # requests' errors (refused, time-out), TwilioException
                raise DeliveryError(f"Twilio could not be reached ({type(exc).__name__})"
                                    ) from exc
            sids.append(str(created.sid))
        logger.info("sms: sent %d message(s) to %s", len(sids), mask(recipient))
        return sids


# --- Telegram: python-telegram-bot -----------------------------------------------------------

def telegram_request(pool_size: int) -> Any:
    """python-telegram-bot's HTTP client with every timeout :func:`timeout_seconds`."""
    from telegram.request import HTTPXRequest

    limit = timeout_seconds()
    return HTTPXRequest(connection_pool_size=pool_size, connect_timeout=limit,
                        read_timeout=limit, write_timeout=limit, pool_timeout=limit,
                        media_write_timeout=limit)


def telegram_bot(settings: Settings | None = None, request: Any = None) -> Any:
    """A python-telegram-bot ``Bot`` for our token, on ``TELEGRAM_API_BASE_URL`` when set.

    Not initialised on purpose: ``initialize()`` calls getMe, which sending does not need.
    """
    from telegram import Bot

    settings = settings or get_settings()
    if not settings.telegram_bot_token:
        raise DeliveryError("TELEGRAM_BOT_TOKEN is not set", retryable=False)
    kwargs: dict[str, Any] = {"request": request or telegram_request(16)}
    if settings.telegram_api_base_url:
        kwargs["base_url"] = settings.telegram_api_base_url
    return Bot(settings.telegram_bot_token, **kwargs)


_loop_bots: dict[int, Any] = {}


def loop_bot() -> Any:
    """The ``Bot`` of the running event loop (its HTTP client belongs to that loop)."""
    key = id(asyncio.get_running_loop())
    if key not in _loop_bots:
        _loop_bots[key] = telegram_bot()
    return _loop_bots[key]


def _markup(message: TelegramMessage) -> Any:
    from telegram import (
        InlineKeyboardButton,
        InlineKeyboardMarkup,
        KeyboardButton,
        ReplyKeyboardMarkup,
        ReplyKeyboardRemove,
    )

    if message.buttons:
        return InlineKeyboardMarkup([[InlineKeyboardButton(title[:64], callback_data=data)]
                                     for title, data in message.buttons])
    if message.contact_button:
        return ReplyKeyboardMarkup([[KeyboardButton(message.contact_button,
                                                    request_contact=True)]],
                                   one_time_keyboard=True, resize_keyboard=True)
    if message.remove_keyboard:
        return ReplyKeyboardRemove()
    return None


async def send_telegram(bot: Any, chat_id: int | str, messages: Sequence[TelegramMessage]
                        ) -> list[str]:
    """Send rendered messages to one chat as plain text (no parse_mode); their ids."""
    from telegram.error import BadRequest, Forbidden, TelegramError

    ids = []
    for message in messages:
        try:
            sent = await bot.send_message(chat_id=chat_id, text=message.text,
                                          reply_markup=_markup(message))
        except (Forbidden, BadRequest) as exc:  # blocked the bot, no such chat, bad request
            raise DeliveryError(f"Telegram refused the message ({type(exc).__name__})",
                                retryable=False) from exc
        except TelegramError as exc:  # network errors, time-outs, RetryAfter
            raise DeliveryError(f"Telegram could not be reached ({type(exc).__name__})"
                                ) from exc
        ids.append(str(sent.message_id))
    return ids


async def answer_callback(bot: Any, callback_id: str) -> None:
    """Stop the button's spinner (Telegram expects every callback query answered)."""
    from telegram.error import TelegramError

    try:
        await bot.answer_callback_query(callback_id)
    except TelegramError as exc:  # too old or already answered: nothing to do
        logger.info("telegram: callback query not answered (%s)", type(exc).__name__)


class TelegramSender:
    """Telegram messages through the Bot API; buttons as an inline keyboard."""

    channel = inbound.TELEGRAM

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()

    def send(self, recipient: str, message: OutboundMessage) -> str:
        from bot.store.db import session_scope

        with session_scope() as session:  # keys for long button payloads
            rendered = render_telegram([message.as_bot_message()],
                                       lambda payload: inbound.callback_key(session, payload))
        return ",".join(self.send_rendered(recipient, rendered))

    def send_rendered(self, recipient: str, messages: Sequence[TelegramMessage]) -> list[str]:
        return run_sync(self._send_standalone(recipient, messages))

    async def _send_standalone(self, recipient: str, messages: Sequence[TelegramMessage]
                               ) -> list[str]:
        request = telegram_request(4)
        bot = telegram_bot(self.settings, request=request)
        try:
            return await send_telegram(bot, recipient, messages)
        finally:
            await request.shutdown()


# --- choosing and sending --------------------------------------------------------------------

def channel_for(session: Session, person: Person) -> str:
    """Where to reach this person: the channel they last used (a call: SMS), else Telegram if
    linked, else SMS."""
    last = inbound.last_channel(session, person)
    if last == inbound.TELEGRAM and person.telegram_user_id:
        return inbound.TELEGRAM
    if last in (inbound.SMS, inbound.VOICE) and person.phone:
        return inbound.SMS
    if person.telegram_user_id:
        return inbound.TELEGRAM
    if person.phone:
        return inbound.SMS
    raise DeliveryError("the person has no phone number and no Telegram", retryable=False)


def send_to_person(session: Session, person: Person, message: OutboundMessage,
                   channel: str | None = None) -> Delivery:
    """Send ``message`` to ``person`` on ``channel`` (default: :func:`channel_for`).

    Raises :class:`OptedOut` rather than text someone who opted out, and
    :class:`DeliveryError` when the provider refuses or cannot be reached.
    """
    if channel is None:
        channel = channel_for(session, person)
    elif channel == inbound.VOICE:  # a caller is answered by SMS on the same phone
        channel = inbound.SMS
    if channel == inbound.SMS:
        if not person.phone:
            raise DeliveryError("the person has no phone number", retryable=False)
        if person.sms_opted_out:
            raise OptedOut()
        reply = render_sms([message.as_bot_message()])
        ids = TwilioSmsSender().send_bodies(person.phone, reply.bodies, session)
        inbound.remember(session, person, inbound.SMS, reply.options)
        return Delivery(channel, ids)
    if channel == inbound.TELEGRAM:
        if not person.telegram_user_id:
            raise DeliveryError("the person has no Telegram", retryable=False)
        rendered = render_telegram([message.as_bot_message()],
                                   lambda payload: inbound.callback_key(session, payload))
        return Delivery(channel, TelegramSender().send_rendered(person.telegram_user_id,
                                                                rendered))
    raise DeliveryError(f"no way to send a message on channel {channel!r}", retryable=False)
