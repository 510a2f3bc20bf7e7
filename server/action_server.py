"""The action server (rasa_sdk) as CivicLine runs it: `python -m server.action_server`.

rasa_sdk 3.6 listens on every address and asks no credential, so anyone who reaches its port
can post a forged tracker and have an action act on it (say, show a case's status as if the
owner asked). Here it binds to 127.0.0.1 unless ``CIVICLINE_ACTION_HOST`` says otherwise, and
every request except ``GET /health`` must carry ``Authorization: Bearer
$CIVICLINE_ACTION_SECRET``, the header the Rasa server sends (endpoints.yml); anything else gets
401 before the body is looked at. On several hosts, set the same secret on both sides and point
``ACTION_ENDPOINT_URL`` at the action server (README, "Settings").
"""

from __future__ import annotations

import argparse
import hmac
import logging
import os
from collections.abc import Sequence

from rasa_sdk import utils
from rasa_sdk.endpoint import create_app
from sanic import Sanic, response
from sanic.request import Request

from bot.config import ConfigError, get_settings

logger = logging.getLogger(__name__)
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5055
# The Rasa server keeps its connections here open between action calls for 30 s
# (server/action_calls.py); idle connections are kept longer here, so the client closes first.
KEEP_ALIVE_SECONDS = 75
OPEN_PATHS = frozenset({"/health"})  # a liveness probe: says "ok" and nothing else


def require_secret(app: Sanic, secret: str) -> None:
    """Refuse (401) every request but the health check without ``Bearer <secret>``."""
    expected = f"Bearer {secret}".encode()

    @app.middleware("request")
    async def check_secret(request: Request) -> response.HTTPResponse | None:
        if request.path in OPEN_PATHS:
            return None
        given = (request.headers.get("authorization") or "").encode()
        if not hmac.compare_digest(given, expected):
            return response.json({"error": "missing or wrong action server secret"},
                                 status=401)
        return None


def build_app(package: str = "actions", secret: str | None = None) -> Sanic:
    """rasa_sdk's app for ``package`` behind the shared secret; no browser may call it."""
    secret = get_settings().action_secret if secret is None else secret
    if not secret:
        raise ConfigError("CIVICLINE_ACTION_SECRET is not set: the action server needs the "
                          "secret the Rasa server sends (`python -m bot dev-env` writes one "
                          "to .env)")
    app = create_app(package, cors_origins=None)
    app.config.KEEP_ALIVE_TIMEOUT = KEEP_ALIVE_SECONDS
    require_secret(app, secret)
    return app


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m server.action_server",
                                     description="CivicLine's action server")
    parser.add_argument("--actions", default="actions", help="the actions package")
    parser.add_argument("--port", type=int,
                        default=int(os.environ.get("ACTION_PORT") or DEFAULT_PORT))
    parser.add_argument("--host",
                        default=os.environ.get("CIVICLINE_ACTION_HOST") or DEFAULT_HOST)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    utils.configure_colored_logging("INFO")
    utils.update_sanic_log_level()
    try:
        app = build_app(args.actions)
    except ConfigError as exc:
        logger.error("the action server cannot start: %s", exc)
        raise SystemExit(f"CivicLine's action server cannot start: {exc}") from None
    logger.info("action server on http://%s:%d (secret required)", args.host, args.port)
    app.run(args.host, args.port, workers=utils.number_of_sanic_workers(), access_log=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
