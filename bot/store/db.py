"""Database engine and sessions.

SQLite is written by two processes (the Rasa server and the action server), so every SQLite
connection uses WAL (readers never block the writer) and a busy timeout (a writer waits for the
other's lock instead of failing with "database is locked").
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from threading import Lock
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from bot.config import get_settings

# A writer waits this long for the other process's lock, then fails: short enough that a
# webhook still answers (with an apology) within Twilio's 15 s when the file stays locked.
SQLITE_BUSY_TIMEOUT_MS = 5_000
# An error's message never carries its bound parameters (a phone, a date of birth, a citizen's
# words) into a log (SPEC §8); the SQL itself still shows what failed.
HIDE_PARAMETERS = True

_engines: dict[str, Engine] = {}
_factories: dict[str, sessionmaker] = {}
_lock = Lock()


def on_sqlite_connect(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def sqlite_pool(database: str | None) -> dict[str, Any]:
    """Pooled connections for a SQLite file. SQLAlchemy 1.4 opens and closes one per session
    there, and closing the last connection to a WAL database checkpoints the log into the
    file: with the pragmas above, a third of a turn's time went on that (issue 12 §5)."""
    if not database or database == ":memory:":
        return {}
    return {"poolclass": QueuePool, "pool_size": 5, "max_overflow": 10}


def build_engine(url: str) -> Engine:
    """Create an engine for ``url``; SQLite gets its directory, WAL and busy timeout."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            future=True,
            hide_parameters=HIDE_PARAMETERS,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
            **sqlite_pool(parsed.database),
        )
        event.listen(engine, "connect", on_sqlite_connect)
        return engine
    return create_engine(url, future=True, hide_parameters=HIDE_PARAMETERS, pool_pre_ping=True,
                         pool_size=5, max_overflow=10)


def get_engine(url: str | None = None) -> Engine:
    """The process-wide engine for ``url`` (default: ``DATABASE_URL``)."""
    url = url or get_settings().database_url
    with _lock:
        if url not in _engines:
            _engines[url] = build_engine(url)
        return _engines[url]


def dispose_engines() -> None:
    """Close every pooled connection (tests and forks call this)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _factories.clear()


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """A transaction: commits on success, rolls back on error, always closes."""
    engine = get_engine(url)
    key = str(engine.url)
    with _lock:
        factory = _factories.get(key)
        if factory is None:
            factory = sessionmaker(bind=engine, future=True, expire_on_commit=False)
            _factories[key] = factory
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def rolled_back(url: str | None = None) -> Iterator[Session]:
    """A transaction that is always rolled back: for dry runs and previews."""
    session = Session(bind=get_engine(url), future=True)
    try:
        yield session
    finally:
        session.rollback()
        session.close()
