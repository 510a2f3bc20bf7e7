"""Rasa's events to RabbitMQ when ``RABBITMQ_URL`` is set (issue 12 §2, SPEC §10).

endpoints.yml names :class:`CivicLineEventBroker`. Without ``RABBITMQ_URL`` it is no broker at
all (Rasa then streams nothing, as without an ``event_broker`` entry). With it, it is Rasa's own
``PikaEventBroker``: every new tracker event, as the tracker store saves it, is published
persistently to a fanout exchange and a durable queue, both named ``CIVICLINE_EVENTS_QUEUE``
(default ``civicline_events``), which `python -m bot events consume` reads
(bot/cli/events.py). The queue keeps the events while no consumer runs.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import unquote, urlsplit

from rasa.core.brokers.broker import EventBroker
from rasa.core.brokers.pika import PikaEventBroker
from rasa.utils.endpoints import EndpointConfig

from bot.config import get_settings
from bot.store.event_stream import queue_name


def pika_broker(url: str, event_loop: asyncio.AbstractEventLoop | None = None,
                **options: Any) -> PikaEventBroker:
    """Rasa's Pika broker on ``url`` (``amqp://user:password@host:port/vhost``)."""
    parts = urlsplit(url)
    queue = queue_name()
    return PikaEventBroker(url, username=unquote(parts.username or "guest"),
                           password=unquote(parts.password or "guest"), port=parts.port or 5672,
                           queues=[queue], exchange_name=queue, event_loop=event_loop, **options)


class CivicLineEventBroker(EventBroker):
    """Builds the broker endpoints.yml names: Rasa's Pika broker on ``RABBITMQ_URL``, or none."""

    @classmethod
    async def from_endpoint_config(cls, broker_config: EndpointConfig | None,
                                   event_loop: asyncio.AbstractEventLoop | None = None
                                   ) -> EventBroker | None:
        url = get_settings().rabbitmq_url
        if not url:
            return None
        broker = pika_broker(url, event_loop, **(broker_config.kwargs if broker_config else {}))
        await broker.connect()
        return broker
