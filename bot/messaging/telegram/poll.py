"""Telegram without a public URL: long-poll ``getUpdates`` and feed the local webhook.

``python -m bot telegram-poll [--url http://localhost:5005]`` removes the bot's webhook
(Telegram refuses ``getUpdates`` while one is set), then forwards every update, as JSON and
with the secret token header, to ``/webhooks/telegram/webhook`` of the running server: the very
code a real webhook runs, replies included (they go out through the server's ``Bot``).
An update is acknowledged (the offset moves past it) once the server has answered it, so one
that could not be delivered comes again on the next poll.
"""

from __future__ import annotations

import asyncio
import json
import logging

from bot.config import get_settings
from bot.devtools.webhooks import post
from bot.messaging.telegram.client import telegram_bot

logger = logging.getLogger(__name__)
WEBHOOK_PATH = "/webhooks/telegram/webhook"
POLL_SECONDS = 25


async def poll(url: str, rounds: int | None = None) -> None:
    """Forward updates until interrupted (or for ``rounds`` polls)."""
    from telegram.error import NetworkError

    settings = get_settings()
    headers = {"Content-Type": "application/json",
               "X-Telegram-Bot-Api-Secret-Token": settings.telegram_secret_token}
    offset: int | None = None
    done = 0
    async with telegram_bot(settings) as bot:  # getMe first: a wrong token fails here
        await bot.delete_webhook(drop_pending_updates=False)
        while rounds is None or done < rounds:
            done += 1
            try:
                updates = await bot.get_updates(offset=offset, timeout=POLL_SECONDS,
                                                read_timeout=POLL_SECONDS + 10)
            except NetworkError as exc:
                print(f"telegram-poll: {type(exc).__name__}, retrying in 5 s")
                await asyncio.sleep(5)
                continue
            for update in updates:
                body = json.dumps(update.to_dict()).encode()
                status, _ = await asyncio.to_thread(post, url + WEBHOOK_PATH, body, headers)
                if status >= 500:
                    print(f"telegram-poll: the server answered {status}; will retry")
                    break
                offset = update.update_id + 1
                print(f"telegram-poll: update {update.update_id} -> {status}")


def main(url: str | None) -> int:
    settings = get_settings()
    if not settings.telegram_bot_token:
        print("error: set TELEGRAM_BOT_TOKEN (in .env) to the token @BotFather gave you")
        return 2
    target = (url or settings.public_base_url).rstrip("/")
    print(f"telegram-poll: forwarding updates to {target}{WEBHOOK_PATH} (Ctrl-C stops)")
    try:
        asyncio.run(poll(target))
    except KeyboardInterrupt:
        print()
    return 0
