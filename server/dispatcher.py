"""The outbox dispatcher inside the Rasa server process (SPEC §5.7).

Started by a listener on the platform blueprint when the server starts, stopped with it. It
polls the outbox every ``CIVICLINE_OUTBOX_POLL_SECONDS`` (default 2) and sends what is due in
a worker thread of its own pool (the provider calls block, each for at most its timeout), not
in the default executor the webhooks' database work uses, so a hung provider never holds up a
webhook. Every replica may
run one: rows are claimed atomically (bot.domain.notifications). ``CIVICLINE_DISPATCHER=off`` leaves
it to a separate ``python -m bot dispatch``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
from typing import Any

from sanic import Blueprint

from bot.config import get_settings, tunable
from bot.domain import notifications

logger = logging.getLogger(__name__)


WORKERS = 1  # one dispatch round at a time per process; rows are claimed one by one


def pool() -> concurrent.futures.ThreadPoolExecutor:
    """The dispatcher's own worker threads."""
    return concurrent.futures.ThreadPoolExecutor(max_workers=WORKERS,
                                                 thread_name_prefix="outbox")


async def run(stop: asyncio.Event, workers: concurrent.futures.Executor | None = None) -> None:
    """Dispatch due notifications until ``stop`` is set, in ``workers`` (default: a pool of
    its own, shut down on the way out)."""
    own = workers is None
    workers = workers or pool()
    try:
        await _loop(stop, workers)
    finally:
        if own:
            workers.shutdown(wait=False)


async def _loop(stop: asyncio.Event, workers: concurrent.futures.Executor) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        try:
            outcomes = await loop.run_in_executor(workers, notifications.dispatch_due)
            if outcomes:
                logger.info("outbox: %s", outcomes)
        except Exception:  # the database is down, say: try again at the next tick
            logger.exception("outbox: dispatch failed")
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), tunable("CIVICLINE_OUTBOX_POLL_SECONDS", 2))


def attach(bp: Blueprint) -> None:
    """Run the dispatcher for as long as the server that mounts ``bp`` runs."""

    @bp.listener("after_server_start")
    async def start_dispatcher(app: Any, _loop: Any) -> None:
        if not get_settings().dispatcher:
            logger.info("outbox: dispatcher off in this process (CIVICLINE_DISPATCHER)")
            return
        app.ctx.outbox_stop = asyncio.Event()
        app.ctx.outbox_task = asyncio.get_running_loop().create_task(
            run(app.ctx.outbox_stop))

    @bp.listener("before_server_stop")
    async def stop_dispatcher(app: Any, _loop: Any) -> None:
        task = getattr(app.ctx, "outbox_task", None)
        if task is not None:
            app.ctx.outbox_stop.set()
            await asyncio.wait([task], timeout=10)
