"""Rasa's SQL tracker store, pointed at CivicLine's own database (SPEC §8: same database).

Rasa builds its URL from dialect/host/db parts; we take ``DATABASE_URL`` whole instead, so one
setting moves both CivicLine's data and Rasa's conversations from SQLite to PostgreSQL. SQLite
connections get WAL and a busy timeout, as in :mod:`bot.db`, because the action server writes
the same file.
"""

from __future__ import annotations

from typing import Any

from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from sqlalchemy import create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from bot.config import get_settings
from bot.db import HIDE_PARAMETERS, on_sqlite_connect


class CivicLineTrackerStore(SQLTrackerStore):
    def __init__(self, domain: Any = None, event_broker: Any = None, **kwargs: Any) -> None:
        kwargs.pop("url", None)
        url = get_settings().database_url
        super().__init__(domain=domain, event_broker=event_broker, db=url, **kwargs)
        # Rasa's engine logs bound parameters (the citizen's words) with every error: replace
        # it with the same engine that hides them (SPEC §8).
        self.engine.dispose()
        self.engine = create_engine(url, hide_parameters=HIDE_PARAMETERS,
                                    **create_engine_kwargs(url))
        self.sessionmaker = sessionmaker(bind=self.engine)
        if make_url(url).get_backend_name() == "sqlite":
            event.listen(self.engine, "connect", on_sqlite_connect)  # WAL and busy timeout

    @staticmethod
    def get_db_url(dialect: str = "sqlite", host: str | None = None, port: int | None = None,
                   db: str = "rasa.db", *args: Any, **kwargs: Any) -> str:
        """``db`` carries the whole DATABASE_URL (see ``__init__``)."""
        return db
