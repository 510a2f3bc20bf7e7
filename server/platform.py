"""CivicLine's own HTTP endpoints, mounted on the Rasa server as a pseudo input channel.

Rasa 3.6 offers no hook for extra routes except input channels, whose blueprints it mounts
under ``/webhooks/<url_prefix>``. This channel's prefix is ``/``, which ``urljoin`` turns into
the root, so /health, /ready, /api and /console live beside Rasa's own routes on the same port.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint

from server import api, console, dispatcher, handoff_api, turn_guard


class CivicLinePlatform(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "civicline"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls()

    def url_prefix(self) -> str:
        return "/"

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        bp = Blueprint("civicline_platform", __name__)
        api.add_routes(bp)
        handoff_api.add_routes(bp)
        console.add_routes(bp)
        dispatcher.attach(bp)  # the outbox dispatcher runs as long as this server (SPEC §5.7)
        turn_guard.attach(bp)  # a turn that still runs away never silences the next one
        return bp
