"""Telegram through the Bot API, with python-telegram-bot's ``Bot`` (``TELEGRAM_API_BASE_URL``
as its ``base_url`` when set, for tests).

``Bot`` is asynchronous: inside an event loop use :func:`send_telegram` with the loop's
:func:`loop_bot`; :class:`TelegramSender` sends from synchronous code (a worker thread, the
command line) with ``asyncio.run``, in a worker thread when the caller is itself inside a
running loop. Text goes out as plain text (no ``parse_mode``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from bot.config import Settings, get_settings
from bot.messaging import inbound
from bot.messaging.delivery import DeliveryError, OutboundMessage, run_sync, timeout_seconds
from bot.messaging.telegram.callbacks import callback_key
from bot.messaging.telegram.render import TelegramMessage, render_telegram

logger = logging.getLogger(__name__)


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
                                       lambda payload: callback_key(session, payload))
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
