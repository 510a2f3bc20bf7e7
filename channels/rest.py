"""CivicLine's REST channel (`POST /webhooks/rest/webhook`): Rasa's, made safe to leave on.

Rasa's own ``RestInput`` believes the ``input_channel`` and ``metadata`` the caller writes, so
anyone could say "this came by SMS" and be taken for a phone's owner. Here the turn's channel
is always ``rest``, and of the caller's metadata only a photo is kept: what a message may prove
is decided by the input channel class that received it (SPEC §5.1, §6), and REST proves no
phone number.

The channel is for development and tests. In production (``CIVICLINE_ENV=production``) it is
off (404) unless ``CIVICLINE_REST_TOKEN`` is set, and then every request must carry
``Authorization: Bearer <token>`` (401 otherwise; compared in constant time).
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.exceptions import InvalidUsage
from sanic.request import Request

from bot.config import get_settings
from channels.common import capped, media_metadata, not_processed, refuse

CHANNEL = "rest"
MEDIA_KEYS = ("url", "file_id", "content_type")
MAX_MEDIA = 10
BEARER = "bearer "


def bearer_token(request: Request) -> str:
    """The token of an ``Authorization: Bearer <token>`` header, "" when there is none."""
    header = request.headers.get("authorization") or ""
    return header[len(BEARER):].strip() if header.lower().startswith(BEARER) else ""


def gate(request: Request) -> response.HTTPResponse | None:
    """Why this request may not use the REST channel (404, 401), or None when it may."""
    settings = get_settings()
    if not settings.is_production:
        return None
    if not settings.rest_token:
        return refuse(404, "not found")
    given = bearer_token(request).encode("utf-8")
    if not hmac.compare_digest(given, settings.rest_token.encode("utf-8")):
        return refuse(401, "missing or invalid bearer token")
    return None


def body_error(request: Request) -> str | None:
    """What is wrong with a message body (400), or None: a JSON object with a non-empty
    string ``sender`` and a string ``message``."""
    try:
        body = request.json
    except InvalidUsage:  # not JSON
        return "the body must be JSON"
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    sender, message = body.get("sender"), body.get("message")
    if not isinstance(sender, str) or not sender.strip():
        return "'sender' must be a non-empty string"
    if not isinstance(message, str):
        return "'message' must be a string"
    return None


# Set when a turn raised: Rasa's REST handler logs the error and answers 200 with no messages,
# which a caller cannot tell from a paused conversation; the response middleware makes it a 503.
_turn_failed: ContextVar[str | None] = ContextVar("rest_turn_failed", default=None)


def reporting(on_new_message: Callable[[UserMessage], Awaitable[Any]]
              ) -> Callable[[UserMessage], Awaitable[Any]]:
    """``on_new_message`` that notes a failure (the lock store or the conversation store
    unavailable...) for the response, then lets Rasa's handler log it as before."""

    async def handler(message: UserMessage) -> Any:
        try:
            return await on_new_message(message)
        except Exception as exc:
            _turn_failed.set(type(exc).__name__)
            raise

    return handler


class RestChannel(RestInput):
    """Rasa's REST channel whose turns are always ``rest`` turns, behind the production gate."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    def _extract_input_channel(self, req: Request) -> str:
        return CHANNEL  # never the caller's "input_channel"

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        """Only a photo, as the SMS and Telegram channels carry it (``{"media": [...]}``);
        nothing else the caller puts in ``metadata`` (a voice hand-off reason...) reaches
        the conversation."""
        metadata = request.json.get("metadata")
        media = metadata.get("media") if isinstance(metadata, dict) else None
        if not isinstance(media, list):
            return None
        kept = [{key: item[key] for key in MEDIA_KEYS if isinstance(item.get(key), str)}
                for item in media[:MAX_MEDIA] if isinstance(item, dict)]
        return media_metadata([item for item in kept if item])

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        # over-long messages never reach NLU; a failed turn is a 503, never Rasa's 200 "[]"
        bp = super().blueprint(reporting(capped(on_new_message)))

        @bp.middleware("response")
        async def failed(request: Request, _response: response.HTTPResponse
                         ) -> response.HTTPResponse | None:
            reason = _turn_failed.get()
            if reason is None or request.method != "POST":
                return None
            _turn_failed.set(None)
            return not_processed(reason)

        @bp.middleware("request")
        async def check(request: Request) -> response.HTTPResponse | None:
            refused = gate(request)
            if refused is None and request.method == "POST":
                reason = body_error(request)
                refused = refuse(400, reason) if reason else None
            return refused

        return bp
