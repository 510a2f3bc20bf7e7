"""CivicLine's own HTTP endpoints, mounted on the Rasa server as a pseudo input channel.

Rasa 3.6 offers no hook for extra routes except input channels, whose blueprints it mounts
under ``/webhooks/<url_prefix>``. This channel's prefix is ``/``, which ``urljoin`` turns into
the root, so /health, /ready, /api and /console live beside Rasa's own routes on the same port.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, Sanic, response
from sanic.exceptions import PayloadTooLarge
from sanic.request import Request

from bot.config import ConfigError, get_settings
from bot.messaging.limits import MAX_BODY_BYTES
from channels import limits
from server import (
    action_calls,
    api,
    catalogue_api,
    console,
    dispatcher,
    handoff_api,
    heap,
    lock_store,
    openapi,
    rules_first,
    turn_guard,
)
from server.http import mount


def require_settings() -> None:
    """Stop the start-up, naming every missing setting, when production mode lacks one, or
    when several workers would have no shared conversation lock. Rasa builds its channels in
    its main process, before it starts any worker, so this ends `rasa run` with exit code 1
    (a worker's failed start-up leaves the main process exiting with 0)."""
    try:
        get_settings()
        lock_store.require_shared_lock()
    except ConfigError as exc:
        raise SystemExit(f"CivicLine cannot start: {exc}") from None


async def body_too_large(_request: Request, _exc: Exception) -> response.HTTPResponse:
    return response.json({"error": f"the body is over the limit of {MAX_BODY_BYTES} bytes"},
                         status=413)


def bound_bodies(app: Sanic) -> None:
    """Every route of the server refuses a body over ``MAX_BODY_BYTES`` with a JSON 413.

    Sanic enforces ``REQUEST_MAX_SIZE`` itself, before the body is read (from Content-Length,
    or as a chunked body grows): no handler, parser or signature check ever sees it. Each
    connection reads the limit when it opens, so setting it before the server starts covers
    every route, Rasa's included.
    """
    app.config.REQUEST_MAX_SIZE = MAX_BODY_BYTES
    app.error_handler.add(PayloadTooLarge, body_too_large)


class CivicLinePlatform(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "civicline"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        require_settings()  # Rasa builds its channels first: a bad setting stops it here
        action_calls.install()  # before the agent loads and any worker forks
        rules_first.install()
        return cls()

    def url_prefix(self) -> str:
        return "/"

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        bp = Blueprint("civicline_platform", __name__)
        mount(bp, api.ROUTES, "api")  # /health, /ready, the case and service API
        mount(bp, handoff_api.ROUTES, "handoff_api")
        mount(bp, catalogue_api.ROUTES, "catalogue_api")
        mount(bp, openapi.ROUTES, "openapi")
        console.add_routes(bp)  # its static files and HSTS too
        dispatcher.attach(bp)  # the outbox dispatcher runs as long as this server (SPEC §5.7)

        @bp.listener("before_server_start")
        async def bound_input(app: Sanic, _loop: Any) -> None:
            bound_bodies(app)

        limits.attach(bp)  # rate limits in front of the REST channel (SPEC §6)
        heap.attach(bp)  # after the agent loaded: the model out of the collector's way
        turn_guard.attach(bp)  # a turn that still runs away never silences the next one
        return bp
