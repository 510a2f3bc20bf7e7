"""``GET /ready`` (SPEC §7): the model is loaded and every store a turn needs answers.

Each part is named in the answer (``model``, ``database``, ``tracker_store`` and, when
``REDIS_URL`` is set, ``redis``), so an operator sees which one is down; any of them down is
503. Each check runs in a worker thread with its own time limit: a hung database makes the
check fail, never the event loop wait.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import text

from bot.config import get_settings
from bot.store.db import get_engine
from server.tracker_store import civicline_store

logger = logging.getLogger(__name__)
CHECK_SECONDS = 3


def ping_database() -> None:
    with get_engine().connect() as connection:
        connection.execute(text("SELECT 1"))


def ping_redis() -> None:
    import redis

    client = redis.Redis.from_url(get_settings().redis_url, socket_timeout=CHECK_SECONDS,
                                  socket_connect_timeout=CHECK_SECONDS)
    try:
        client.ping()
    finally:
        client.close()


async def reachable(name: str, check: Callable[[], Any] | None) -> bool:
    """True when ``check()`` returns in time without an error."""
    if check is None:
        return False
    try:
        await asyncio.wait_for(asyncio.to_thread(check), CHECK_SECONDS)
        return True
    except Exception as exc:  # any failure means "not ready"; the answer says which part
        logger.warning("ready: %s is not reachable (%s)", name, type(exc).__name__)
        return False


async def report(agent: Any) -> tuple[int, dict[str, Any]]:
    """(status code, body) for ``/ready``."""
    store = civicline_store(getattr(agent, "tracker_store", None))
    parts: dict[str, bool] = {
        "model": bool(agent and agent.is_ready()),
        "database": await reachable("database", ping_database),
        # Only our store, failing closed, counts: a store that falls back to memory is not.
        "tracker_store": await reachable("tracker_store", store.ping if store else None),
    }
    if get_settings().redis_url:
        parts["redis"] = await reachable("redis", ping_redis)
    ready = all(parts.values())
    return (200 if ready else 503), {"status": "ready" if ready else "not ready", **parts}
