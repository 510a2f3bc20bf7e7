"""Rasa's SQL tracker store, pointed at CivicLine's own database (SPEC §8: same database).

Rasa builds its URL from dialect/host/db parts; we take ``DATABASE_URL`` whole instead, so one
setting moves both CivicLine's data and Rasa's conversations from SQLite to PostgreSQL. SQLite
connections get WAL and a busy timeout, as in :mod:`bot.db`, because the action server writes
the same file.
"""

from __future__ import annotations

from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from sqlalchemy import event
from sqlalchemy.engine import make_url

from bot.config import get_settings
from bot.db import on_sqlite_connect


class CivicLineTrackerStore(SQLTrackerStore):
    def __init__(self, domain: Any = None, event_broker: Any = None, **kwargs: Any) -> None:
        kwargs.pop("url", None)
        url = get_settings().database_url
        super().__init__(domain=domain, event_broker=event_broker, db=url, **kwargs)
        if make_url(url).get_backend_name() == "sqlite":
            self.engine.dispose()  # new connections get the pragmas
            event.listen(self.engine, "connect", on_sqlite_connect)

    @staticmethod
    def get_db_url(dialect: str = "sqlite", host: str | None = None, port: int | None = None,
                   db: str = "rasa.db", *args: Any, **kwargs: Any) -> str:
        """``db`` carries the whole DATABASE_URL (see ``__init__``)."""
        return db
