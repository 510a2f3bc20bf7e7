"""Telegram: ``POST /webhooks/telegram/webhook`` (SPEC §6.2).

The secret token Telegram repeats in ``X-Telegram-Bot-Api-Secret-Token`` (set with
``setWebhook(secret_token=...)``) is checked in constant time: anything else gets 403. The
update is parsed with python-telegram-bot (``Update.de_json``), its ``update_id`` claimed once,
and the replies are sent with python-telegram-bot's ``Bot`` before the webhook answers 200.

The answer's JSON also lists the replies (Telegram ignores a body without a ``method``), so
the simulator (``python -m bot simulate telegram``) shows them without a real bot; with no
``TELEGRAM_BOT_TOKEN`` configured, nothing is sent and the replies are only listed.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from telegram import Update

from bot import inbound, outbound, people, telegram_chat, texts
from bot.config import get_settings
from bot.forms import NOT_WAITING
from bot.render import TelegramMessage
from channels import limits
from channels.common import (
    answer_turn,
    begin_turn,
    channel_blueprint,
    form_waiting,
    in_thread,
    media_metadata,
    refuse,
    run_turn,
)

logger = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


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
            if not await in_thread(inbound.claim, inbound.TELEGRAM, update_id, media):
                return response.json({"ok": True, "duplicate": True})
            throttled = await limits.telegram(user_id, update_id)
            if throttled is not None:
                return throttled
            replies = await self.turn(on_new_message, request, user_id, update_id, update,
                                      with_media=bool(media))
            return response.json({"ok": True, "replies": [described(m) for m in replies]})

        return bp

    @staticmethod
    async def turn(on_new_message: Callable[[UserMessage], Awaitable[Any]], request: Request,
                   user_id: int, update_id: str, update: Update, with_media: bool = False
                   ) -> list[TelegramMessage]:
        """Handle one update and send the replies; returns them."""
        sender = people.telegram_sender_id(user_id)
        sending = bool(get_settings().telegram_bot_token)
        replies: list[TelegramMessage] = []
        language = None
        try:
            waiting = await form_waiting(request, sender) if with_media else NOT_WAITING
            step, language = await in_thread(begin_turn, inbound.TELEGRAM, sender, update_id,
                                                telegram_chat.begin, update, waiting)
            if step.callback_id and sending:
                await outbound.answer_callback(outbound.loop_bot(), step.callback_id)
            if step.ignore:
                return []
            replies += step.replies
            if step.quiet:
                await run_turn(on_new_message, inbound.TELEGRAM, sender, step.quiet)
            if step.ask:
                messages = await run_turn(on_new_message, inbound.TELEGRAM, sender, step.ask,
                                          message_id=update_id,
                                          metadata=media_metadata(step.media))
                replies += await in_thread(answer_turn, sender, telegram_chat.answer, messages)
            elif step.repeat:
                replies += await in_thread(answer_turn, sender, telegram_chat.answer,
                                           step.repeat)
        except Exception:  # something failed: say so, with a number to call
            logger.exception("telegram: could not answer update %s", update_id)
            replies.append(TelegramMessage(texts.text(
                "utter_technical_problem", language,
                call_centre=get_settings().call_centre_number)))
        if sending and replies:
            try:
                await outbound.send_telegram(outbound.loop_bot(), user_id, replies)
            except outbound.DeliveryError as exc:
                logger.warning("telegram: replies to update %s not delivered: %s", update_id,
                               exc)
        logger.info("telegram: update %s answered with %d message(s)", update_id,
                    len(replies))
        return replies
