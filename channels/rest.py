"""CivicLine's REST channel (`POST /webhooks/rest/webhook`): Rasa's, with its input checked.

Rasa's own ``RestInput`` answers a body that is not a JSON object with a 500; here such a body
gets a 400 that says what is wrong. Like every channel, a message over the cap (bot/limits.py)
is answered politely in the person's language and never reaches NLU (SPEC §6).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request

from channels.common import capped, refuse

CHANNEL = "rest"


def body_error(request: Request) -> str | None:
    """What is wrong with a message body (400), or None: a JSON object with a non-empty
    string ``sender`` and a string ``message``."""
    try:
        body = request.json
    except Exception:  # Sanic raises its own error for bad JSON
        return "the body must be JSON"
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    sender, message = body.get("sender"), body.get("message")
    if not isinstance(sender, str) or not sender.strip():
        return "'sender' must be a non-empty string"
    if not isinstance(message, str):
        return "'message' must be a string"
    return None


class RestChannel(RestInput):
    """Rasa's REST channel: bad bodies refused, messages behind the message cap."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        bp = super().blueprint(capped(on_new_message))

        @bp.middleware("request")
        async def check(request: Request) -> response.HTTPResponse | None:
            reason = body_error(request) if request.method == "POST" else None
            return refuse(400, reason) if reason else None

        return bp
