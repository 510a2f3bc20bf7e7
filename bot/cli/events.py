"""`python -m bot events consume`: Rasa's events from RabbitMQ into ``conversation_events``
(issue 12 §2; the Rasa server publishes them when ``RABBITMQ_URL`` is set, server/event_broker.py).

Restartable without loss or double counting: messages are acknowledged only after the batch
they came in is committed (a consumer that dies before that leaves them in the queue, and
RabbitMQ delivers them again), and a batch delivered again finds its events already recorded
(bot/store/event_stream.py: unique ``event_key``). A message that is not a Rasa event is logged
and dropped, so it cannot stop the stream.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import Any

from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from bot.cli import cli_error
from bot.config import get_settings
from bot.store import event_stream

logger = logging.getLogger("bot.events")
BATCH = 200  # messages written per transaction, at most


def write_batch(bodies: list[bytes]) -> tuple[int, int]:
    """Record a batch in one transaction: (events added, messages dropped as not events)."""
    from bot.store.db import session_scope

    rows, dropped = [], 0
    for body in bodies:
        try:
            rows.append(event_stream.parse(body))
        except event_stream.BadEvent as exc:
            dropped += 1
            logger.warning("events: a message that is not a Rasa event was dropped (%s)", exc)
    for attempt in (1, 2):
        try:
            with session_scope() as session:
                return event_stream.record(session, rows), dropped
        except IntegrityError:  # another consumer recorded one of them meanwhile: look again
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


async def declare(channel: Any, name: str) -> Any:
    """The exchange and queue as Rasa's Pika broker declares them (it may start after us)."""
    import aio_pika

    exchange = await channel.declare_exchange(name, type=aio_pika.ExchangeType.FANOUT)
    queue = await channel.declare_queue(name, durable=True)
    await queue.bind(exchange, "")
    return queue


async def consume(url: str, name: str, idle_exit: float | None = None,
                  batch: int = BATCH) -> int:
    """Consume until stopped (or, with ``idle_exit``, until the queue is quiet that long)."""
    import aio_pika

    connection = await aio_pika.connect_robust(url)
    async with connection:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=batch)
        queue = await declare(channel, name)
        inbox: asyncio.Queue = asyncio.Queue()
        await queue.consume(inbox.put)
        loop = asyncio.get_running_loop()
        quiet_since = loop.time()
        total = 0
        while True:
            try:
                first = await asyncio.wait_for(inbox.get(), timeout=0.5)
            except asyncio.TimeoutError:
                if idle_exit is not None and loop.time() - quiet_since >= idle_exit:
                    print(f"events: {total} event(s) recorded; the queue is quiet")
                    return 0
                continue
            messages = [first]
            while len(messages) < batch and not inbox.empty():
                messages.append(inbox.get_nowait())
            added, _ = await asyncio.to_thread(write_batch, [m.body for m in messages])
            total += added
            # Committed: now acknowledged. A death in between delivers them again (counted once).
            try:
                await messages[-1].ack(multiple=True)
            except Exception as exc:  # the channel was lost: they come again, and are known
                logger.warning("events: acknowledgement lost (%s); RabbitMQ delivers again", exc)
            quiet_since = loop.time()


def cmd_consume(args: argparse.Namespace) -> int:
    url = get_settings().rabbitmq_url
    if not url:
        return cli_error("RABBITMQ_URL is not set: the Rasa server publishes no events, and "
                         "the analytics read Rasa's events table instead", 2, "events")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    name = event_stream.queue_name()
    print(f"events: consuming queue {name!r} (Ctrl-C stops)", flush=True)
    try:
        return asyncio.run(consume(url, name, idle_exit=args.idle_exit))
    except KeyboardInterrupt:
        return 0
    except SQLAlchemyError as exc:  # nothing unrecorded was acknowledged: restart to go on
        return cli_error(f"the database failed ({type(exc).__name__}); the unrecorded events "
                         "stay in the queue", 1, "events")


def add_commands(sub: Any) -> None:
    events = sub.add_parser("events", help="Rasa's event stream from RabbitMQ (RABBITMQ_URL)")
    events_sub = events.add_subparsers(dest="events_command", required=True)
    consume_parser = events_sub.add_parser(
        "consume", help="record Rasa's events for the analytics (runs until stopped)")
    consume_parser.add_argument("--idle-exit", type=float, metavar="SECONDS",
                                help="exit once no event has come for this long")
    consume_parser.set_defaults(func=cmd_consume)
