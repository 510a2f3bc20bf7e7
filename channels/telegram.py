"""Telegram: ``POST /webhooks/telegram/webhook`` (SPEC §6.2).

The secret token Telegram repeats in ``X-Telegram-Bot-Api-Secret-Token`` (set with
``setWebhook(secret_token=...)``) is checked in constant time: anything else gets 403. The
update is parsed with python-telegram-bot (``Update.de_json``), its ``update_id`` claimed once
(channels.common.once: a retry of an answered update is not answered twice, one whose turn
failed runs again), and the replies are sent with python-telegram-bot's ``Bot`` before the
webhook answers 200.

The answer's JSON also lists the replies (Telegram ignores a body without a ``method``), so
the simulator (``python -m bot simulate telegram``) shows them without a real bot; with no
``TELEGRAM_BOT_TOKEN`` configured, nothing is sent and the replies are only listed.
"""

from __future__ import annotations

import hmac
import json
import logging
from asyncio import to_thread
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from telegram import Update

from bot.config import get_settings
from bot.domain import people
from bot.domain.phones import mask
from bot.messaging import delivery, inbound
from bot.messaging.media import NOT_WAITING
from bot.messaging.telegram import chat as telegram_chat
from bot.messaging.telegram import client as telegram_client
from bot.messaging.telegram.render import TelegramMessage
from channels import limits
from channels.common import (
    Turn,
    answer_turn,
    begin_turn,
    channel_blueprint,
    form_waiting,
    media_metadata,
    once,
    refuse,
    run_turn,
    technical_problem,
)

logger = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
TURN_BUDGET_SECONDS = 50  # Telegram waits about a minute; a late turn still sends its replies


def parse(request: Request) -> Update | str | tuple[int, str]:
    """The update; or why it is ignored (edits, other kinds); or (status, reason) when the
    body is not an update."""
    try:
        data = json.loads(request.body or b"")
    except ValueError:
        return 400, "the body must be JSON"
    if not isinstance(data, dict):
        return 400, "the body must be a JSON object (a Telegram Update)"
    wanted, ignored = telegram_chat.relevant(data)
    problem = telegram_chat.shape_error(wanted or {"update_id": data.get("update_id")})
    if problem:
        return 422, problem
    if wanted is None:
        return ignored or "ignored"
    try:
        return Update.de_json(wanted, None)
    except Exception:  # python-telegram-bot raises KeyError, TypeError... on bad updates
        return 422, "not a Telegram Update"


def described(message: TelegramMessage) -> dict[str, Any]:
    return {"text": message.text, "buttons": [list(b) for b in message.buttons],
            "contact_button": message.contact_button}


class TelegramInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return inbound.TELEGRAM

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = channel_blueprint("civicline_telegram")

        @bp.post("/webhook")
        async def webhook(request: Request) -> response.HTTPResponse:
            given = (request.headers.get(SECRET_HEADER) or "").encode()
            if not hmac.compare_digest(given, get_settings().telegram_secret_token.encode()):
                return refuse(403, f"missing or wrong {SECRET_HEADER}")
            update = parse(request)
            if isinstance(update, tuple):
                return refuse(*update)
            if isinstance(update, str):
                return response.json({"ok": True, "ignored": update})
            user_id, ignored = telegram_chat.user_of(update)
            if user_id is None:
                return response.json({"ok": True, "ignored": ignored})
            update_id = str(update.update_id)
            media = telegram_chat.media_of(update)
            sender = people.telegram_sender_id(user_id)
            turn = Turn()
            handled = await once(
                inbound.TELEGRAM, update_id,
                lambda: self.turn(on_new_message, request, user_id, update_id, update, turn,
                                  with_media=bool(media)),
                lambda replies: json.dumps([described(m) for m in replies]), media,
                budget=TURN_BUDGET_SECONDS)
            if handled.claim is not None and not handled.claim.ours:
                answered = handled.claim.reply if handled.claim.outcome == inbound.ANSWERED \
                    else None
                return response.json({"ok": True, "duplicate": True,
                                      **({"replies": json.loads(answered)} if answered else {})})
            if handled.failed:  # not processed: say so; Telegram's retry or the next message
                apology = [TelegramMessage(technical_problem(turn.language))]
                await self.deliver(user_id, update_id, apology)
                logger.info("telegram: update %s not processed (%s)", update_id, mask(sender))
                return response.json({"ok": True, "replies": [described(m) for m in apology]})
            return response.json({"ok": True, **({"throttled": True} if turn.throttled else {}),
                                  "replies": [described(m) for m in handled.result or []]})

        return bp

    @staticmethod
    async def deliver(user_id: int, update_id: str, replies: list[TelegramMessage]) -> None:
        """Send the replies with the Bot API (when a bot token is configured)."""
        if not get_settings().telegram_bot_token or not replies:
            return
        try:
            await telegram_client.send_telegram(telegram_client.loop_bot(), user_id, replies)
        except delivery.DeliveryError as exc:
            logger.warning("telegram: replies to update %s not delivered: %s", update_id, exc)

    @classmethod
    async def turn(cls, on_new_message: Callable[[UserMessage], Awaitable[Any]],
                   request: Request, user_id: int, update_id: str, update: Update, turn: Turn,
                   with_media: bool = False) -> list[TelegramMessage]:
        """Handle one update and send the replies; returns them. Failures propagate (see
        ``channels.common.once``)."""
        sender = people.telegram_sender_id(user_id)
        throttled = await limits.telegram(user_id, update_id)
        if throttled is not None:
            turn.throttled = True
            await cls.deliver(user_id, update_id, throttled)
            return throttled
        waiting = await form_waiting(request, sender) if with_media else NOT_WAITING
        step, turn.language = await to_thread(begin_turn, inbound.TELEGRAM, sender, update_id,
                                              telegram_chat.begin, update, waiting)
        if step.callback_id and get_settings().telegram_bot_token:
            await telegram_client.answer_callback(telegram_client.loop_bot(), step.callback_id)
        if step.ignore:
            return []
        replies = list(step.replies)
        if step.quiet:
            await run_turn(on_new_message, inbound.TELEGRAM, sender, step.quiet)
        if step.ask:
            messages = await run_turn(on_new_message, inbound.TELEGRAM, sender, step.ask,
                                      message_id=update_id, metadata=media_metadata(step.media))
            replies += await to_thread(answer_turn, sender, telegram_chat.answer, messages)
        elif step.repeat:
            replies += await to_thread(answer_turn, sender, telegram_chat.answer, step.repeat)
        await cls.deliver(user_id, update_id, replies)
        logger.info("telegram: update %s answered with %d message(s)", update_id, len(replies))
        return replies
