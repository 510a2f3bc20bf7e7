"""The running stack's data, read and set up from a test: rows, cases, staff, staffed hours,
drafts, bookings, the age of a conversation."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import create_engine, text

from bot.callcentre import staff
from bot.config import get_settings
from bot.domain import bookings
from bot.store.db import dispose_engines, session_scope
from tests.support.environment import ROOT, STAFF_PASSWORD, base_env
from tests.support.stack import Stack
from tests.support.unique import phone
from tests.support.waiting import eventually


def query(stack: Stack, sql: str, **params: Any) -> list[tuple]:
    """Rows of a read-only query on the stack's database."""
    engine = create_engine(stack.database_url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql), params)]
    finally:
        engine.dispose()


def execute(stack: Stack, sql: str, **params: Any) -> None:
    """One write on the stack's database (test set-up only)."""
    engine = create_engine(stack.database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text(sql), params)
    finally:
        engine.dispose()


def json_column(value: Any) -> Any:
    """A JSON column as :func:`query` returns it: text on SQLite, already parsed on
    PostgreSQL."""
    return json.loads(value) if isinstance(value, (str, bytes)) else value


def user_turns(stack: Stack, sender_id: str) -> int:
    """How many user messages Rasa has processed for ``sender_id``."""
    return query(stack, "SELECT count(*) FROM events WHERE sender_id = :s AND type_name = 'user'",
                 s=sender_id)[0][0]


def new_case(stack: Stack, phone: str | None, *, status: str = "approved",
             language: str = "en", date_of_birth: str = "1980-01-31",
             service: str = "id_cards") -> str:
    """A case of its own for one test, created through the API; its 8-digit reference."""
    body = {"service": service, "status": status, "language": language,
            "date_of_birth": date_of_birth, **({"phone": phone} if phone else {})}
    status_code, created = stack.api("POST", "/api/cases", body)
    assert status_code == 201, created
    return created["reference"]


def spaced(reference: str) -> str:
    """A case reference as the assistant writes it: "4021 7382"."""
    return f"{reference[:4]} {reference[4:]}"


def waiting_handoff(stack: Stack, sender: str) -> dict:
    """The one hand-off of ``sender`` waiting for staff, as the API lists it."""
    listed = stack.api_items("/api/handoffs?status=waiting&limit=200")
    mine = [h for h in listed if h["sender_id"] == sender]
    assert len(mine) == 1, listed
    return mine[0]


def make_staff(stack: Stack, username: str, role: str = "agent") -> str:
    """An account on the stack's database (made once, password ``STAFF_PASSWORD``); returns
    the username."""
    with session_scope(stack.database_url) as session:
        if staff.get_by_username(session, username) is None:
            staff.create(session, username, STAFF_PASSWORD, role, actor="test")
    return username


@contextmanager
def staffed(stack: Stack, on_duty: bool) -> Iterator[None]:
    """The call centre staffed all week (``on_duty``) or never, for one test; then restored."""
    before = query(stack, "SELECT weekday, opens, closes FROM staffed_hours")
    execute(stack, "DELETE FROM staffed_hours")
    for day in range(7):
        execute(stack, "INSERT INTO staffed_hours (weekday, opens, closes) VALUES (:d, :o, :c)",
                d=day, o="00:00" if on_duty else None, c="24:00" if on_duty else None)
    try:
        yield
    finally:
        execute(stack, "DELETE FROM staffed_hours")
        for day, opens, closes in before:
            execute(stack, "INSERT INTO staffed_hours (weekday, opens, closes) "
                           "VALUES (:d, :o, :c)", d=day, o=opens, c=closes)


def draft_of(stack: Stack, number: str) -> dict | None:
    """The answers of the form draft kept for the person behind ``number``, if any."""
    rows = query(stack, "SELECT d.answers FROM form_drafts d JOIN people p ON p.id = "
                        "d.person_id WHERE p.phone = :p", p=number)
    return json_column(rows[0][0]) if rows else None


def expire_session(stack: Stack, sender: str) -> None:
    """Make the conversation's last events two hours old: the next message opens a new Rasa
    session (session_expiration_time is 60 minutes), exactly as after a real wait."""
    rows = query(stack, "SELECT id, data FROM events WHERE sender_id = :s", s=sender)
    for event_id, data in rows:  # in Python: SQLite and PostgreSQL spell JSON edits apart
        event = json.loads(data)
        event["timestamp"] -= 7200
        execute(stack, "UPDATE events SET timestamp = :t, data = :d WHERE id = :i",
                t=event["timestamp"], d=json.dumps(event), i=event_id)


def book_directly(stack: Stack, sender: str, at: dt.datetime, language: str = "en") -> str:
    """A booking of ``sender``'s at City Hall, through the same code the form uses (someone
    else taking a desk, or a citizen's own earlier booking); its reference."""
    before = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = stack.database_url
    get_settings.cache_clear()
    try:
        return bookings.book(sender, "id_cards", "city_hall", at, language).reference
    finally:
        if before is None:
            os.environ.pop("DATABASE_URL")
        else:
            os.environ["DATABASE_URL"] = before
        dispose_engines()
        get_settings.cache_clear()


def dispatched_round(stack: Stack) -> None:
    """Wait until the stack's outbox dispatcher has finished a round that began after now.

    A marker notification (another case, a number of its own) is queued now and waited for at
    the Twilio stand-in. Each round sends what is due in queue order, so any row still due
    before the marker (a notification about to go twice) was sent before it: "sent once" is
    then a fact, not a hope."""
    assert stack.providers is not None
    marker = phone()
    reference = new_case(stack, marker, status="received")
    status, body = stack.api("PATCH", f"/api/cases/{reference}", {"status": "in_review"})
    assert status == 200, body
    eventually(lambda: stack.providers.messages("Messages", To=marker),
               "the dispatcher's next round (the marker notification)", timeout=60)


def api_command(stack: Stack, *args: str) -> subprocess.CompletedProcess:
    """`python -m bot api ...` on the stack's database, as an operator runs it."""
    return subprocess.run([sys.executable, "-m", "bot", "api", *args], cwd=ROOT,
                          env=base_env(stack.database_url), capture_output=True, text=True,
                          timeout=120)


def api_client(stack: Stack, name: str) -> str:
    """A named API client made with `python -m bot api token create NAME`; its token (printed
    once, the last line)."""
    done = api_command(stack, "token", "create", name)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


CATALOGUE_TABLES = ("services", "offices", "digital_places", "digital_guides")


@contextmanager
def catalogue_kept(stack: Stack) -> Iterator[None]:
    """The catalogue entries a test adds are removed afterwards (with their offices' services
    and holidays): the assistant lists every office, service and place, and the tests after
    this one expect the demo's."""
    def ids(table: str) -> set[int]:
        return {row[0] for row in query(stack, f"SELECT id FROM {table}")}

    before = {table: ids(table) for table in CATALOGUE_TABLES}
    try:
        yield
    finally:
        added = {table: sorted(ids(table) - before[table]) for table in CATALOGUE_TABLES}
        links = {"offices": ("office_services", "office_id"),
                 "services": ("office_services", "service_id")}
        for table, new in added.items():
            for number in new:
                if table in links:
                    link, column = links[table]
                    execute(stack, f"DELETE FROM {link} WHERE {column} = :n", n=number)
                if table == "offices":
                    execute(stack, "DELETE FROM office_holidays WHERE office_id = :n", n=number)
                execute(stack, f"DELETE FROM {table} WHERE id = :n", n=number)
