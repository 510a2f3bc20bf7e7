"""Rasa's SQL tracker store, pointed at CivicLine's own database (SPEC §8: same database),
failing closed (issue 10 §6).

Rasa builds its URL from dialect/host/db parts; we take ``DATABASE_URL`` whole instead, so one
setting moves both CivicLine's data and Rasa's conversations from SQLite to PostgreSQL. SQLite
connections get WAL, as in :mod:`bot.store.db`, because the action server writes the same file.

Failing closed: Rasa wraps every tracker store in ``FailSafeTrackerStore``, which answers a
read error with an empty conversation and keeps a write error's events in memory only: the
conversation goes on from nothing, and what the citizen said is lost. Here the wrapper is
built with an error callback that raises (:func:`fail_closed`), so the error reaches the
channel, which answers with the technical-problem reply and leaves the message unprocessed
for the provider's retry (channels.common.once). A waiting database is waited for a bounded
time (``CIVICLINE_TRACKER_TIMEOUT_SECONDS``, SQLite's busy timeout, PostgreSQL's lock and
statement timeouts), and the store's queries run in a worker thread, never on the event loop
that serves every webhook.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Coroutine, Iterable, Iterator
from typing import Any, TypeVar

import sqlalchemy as sa
from rasa.core.agent import Agent
from rasa.core.tracker_store import (
    FailSafeTrackerStore,
    SQLTrackerStore,
    TrackerStore,
    create_engine_kwargs,
)
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import sessionmaker

from bot.config import get_settings, tunable
from bot.store.db import HIDE_PARAMETERS, on_sqlite_connect, sqlite_pool
from server.tracker_cache import TrackerCache, handed_out, mark_of, reuse, stored_length
from server.tracker_copy import install as install_tracker_copy
from server.tracker_states import install as install_tracker_states

T = TypeVar("T")
logger = logging.getLogger(__name__)


class TrackerStoreUnavailable(RuntimeError):
    """The conversation could not be read or written: the turn must not go on."""


def timeout_seconds() -> float:
    """How long a tracker query waits for a busy database before it fails."""
    return tunable("CIVICLINE_TRACKER_TIMEOUT_SECONDS", 4)


def fail_closed(error: Exception) -> None:
    """``FailSafeTrackerStore``'s error callback: raise instead of falling back to memory."""
    raise TrackerStoreUnavailable(
        f"the conversation store failed ({type(error).__name__}); nothing continues from "
        "memory") from error


def build_engine(url: str) -> Engine:
    """The tracker store's engine: pre-pinged connections and bounded waits."""
    kwargs = create_engine_kwargs(url)
    milliseconds = int(timeout_seconds() * 1000)
    if make_url(url).get_backend_name() == "sqlite":
        engine = sa.create_engine(url, hide_parameters=HIDE_PARAMETERS,
                                   connect_args={"timeout": milliseconds / 1000,
                                            "check_same_thread": False},
                                   **sqlite_pool(make_url(url).database), **kwargs)

        def bounded(dbapi_connection: Any, record: Any) -> None:
            on_sqlite_connect(dbapi_connection, record)
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA busy_timeout={milliseconds}")
            cursor.close()

        event.listen(engine, "connect", bounded)
        return engine
    kwargs.setdefault("connect_args", {})["connect_timeout"] = max(int(timeout_seconds()), 2)
    engine = sa.create_engine(url, pool_pre_ping=True, hide_parameters=HIDE_PARAMETERS, **kwargs)

    @event.listens_for(engine, "connect")
    def bounded_waits(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"SET lock_timeout = {milliseconds}")
        cursor.execute(f"SET statement_timeout = {milliseconds}")
        cursor.close()
        dbapi_connection.commit()  # a SET inside a rolled-back transaction would not stay

    return engine


def _finish(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that never awaits (Rasa's SQL store is synchronous inside ``async
    def``) to its end, in the calling thread."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    raise RuntimeError("the tracker store awaited something: it cannot run in a thread")


class CivicLineTrackerStore(SQLTrackerStore):
    def __init__(self, domain: Any = None, event_broker: Any = None, **kwargs: Any) -> None:
        kwargs.pop("url", None)
        url = get_settings().database_url
        super().__init__(domain=domain, event_broker=event_broker, db=url, **kwargs)
        self.engine.dispose()  # Rasa's engine waits without bound: ours does not
        self.engine = build_engine(url)
        self.sessionmaker = sessionmaker(bind=self.engine)
        self.cache = TrackerCache()  # the last saved tracker of recent conversations

    @staticmethod
    def get_db_url(dialect: str = "sqlite", host: str | None = None, port: int | None = None,
                   db: str = "rasa.db", *args: Any, **kwargs: Any) -> str:
        """``db`` carries the whole DATABASE_URL (see ``__init__``)."""
        return db

    async def _retrieve(self, sender_id: str, fetch_events_from_all_sessions: bool
                        ) -> DialogueStateTracker | None:
        if fetch_events_from_all_sessions:
            return await asyncio.to_thread(_finish, super()._retrieve(sender_id, True))
        return await asyncio.to_thread(self._read_session, sender_id)

    def _read_session(self, sender_id: str) -> DialogueStateTracker | None:
        """The latest session's tracker: the kept one when the database proves it current
        (server/tracker_cache.py), else rebuilt from the rows as Rasa does."""
        kept = self.cache.take(sender_id)
        with self.session_scope() as session:
            mark = mark_of(session, self.SQLEvent, sender_id,
                           kept.mark.last_id if kept is not None else None)
            if mark.rows == 0:
                return None
            tracker = reuse(kept, mark, session, self.SQLEvent)
        if tracker is None:
            tracker = _finish(super()._retrieve(sender_id, False))
        return handed_out(tracker) if tracker is not None else None

    def _keep(self, tracker: DialogueStateTracker) -> None:
        """After a save: keep the tracker with what the database now holds."""
        since = stored_length(tracker)
        handed_out(tracker)  # saved: every event of it is stored now
        try:
            with self.session_scope() as session:
                mark = mark_of(session, self.SQLEvent, tracker.sender_id)
        except sa.exc.SQLAlchemyError:  # saved, but not kept: the next read rebuilds it
            logger.warning("tracker of %s saved but not kept", tracker.sender_id, exc_info=True)
            return
        self.cache.keep(tracker, mark, since if since else 1)

    async def stream_events(self, tracker: DialogueStateTracker) -> None:
        """Rasa's, without re-reading the whole conversation to find the new events: a
        tracker this store handed out knows how many of its events are stored."""
        stored = stored_length(tracker)
        if self.event_broker is None or stored is None:
            await super().stream_events(tracker)
            return
        new_events = list(tracker.events)[stored:]
        await self._stream_new_events(self.event_broker, new_events, tracker.sender_id)

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator[Any]:
        """The events to insert. Rasa's counts the rows of the session (a query that grows
        with the conversation); a tracker this store handed out knows how many are stored."""
        stored = stored_length(tracker)
        if stored is None:
            return super()._additional_events(session, tracker)
        return itertools.islice(tracker.events, stored, len(tracker.events))

    async def keys(self) -> Iterable[str]:
        return await asyncio.to_thread(_finish, super().keys())

    async def save(self, tracker: DialogueStateTracker) -> None:
        self.cache.forget(tracker.sender_id)
        if self.event_broker is not None:  # streaming awaits the broker: stay on the loop
            await super().save(tracker)
        else:
            await asyncio.to_thread(_finish, super().save(tracker))
        await asyncio.to_thread(self._keep, tracker)

    def ping(self) -> None:
        """Read the conversations table (for /ready); raises when it cannot."""
        with self.engine.connect() as connection:
            connection.execute(sa.text("SELECT 1 FROM events LIMIT 1")).all()


def civicline_store(store: TrackerStore | None) -> CivicLineTrackerStore | None:
    """Our store inside Rasa's wrapper, when it fails closed (None otherwise)."""
    if isinstance(store, FailSafeTrackerStore) and \
            getattr(store, "_on_tracker_store_error", None) is fail_closed:
        inner = getattr(store, "_tracker_store", None)
        return inner if isinstance(inner, CivicLineTrackerStore) else None
    return None


_rasa_create_tracker_store = Agent._create_tracker_store


def _create_tracker_store(store: TrackerStore | None, domain: Any) -> TrackerStore:
    """Rasa's ``Agent._create_tracker_store``, with the wrapper failing closed for ours."""
    if not isinstance(store, CivicLineTrackerStore):
        return _rasa_create_tracker_store(store, domain)
    store.domain = domain
    return FailSafeTrackerStore(store, on_tracker_store_error=fail_closed)


# Rasa 3.6 offers no setting for this: the agent builds its wrapper itself. This module is
# imported (endpoints.yml names the class) before the agent is built.
Agent._create_tracker_store = staticmethod(_create_tracker_store)  # type: ignore[method-assign]

# The policies' states of a conversation, continued from the last prediction instead of
# replayed from the first event (server/tracker_states.py), and the processor's copy of the
# tracker before each action taken without a replay (server/tracker_copy.py). Here for the
# same reason.
install_tracker_states()
install_tracker_copy()
