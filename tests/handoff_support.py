"""Helpers for the hand-off stack tests (API, console, browser), on the shared ``stack``.

The ``on_duty`` fixture (imported by those modules) staffs the call centre round the clock
during a test, so the tests do not depend on the time they run. SMS sent by the stack land in
the Twilio stand-in (``stack.providers``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from bot.callcentre import staff
from bot.store.db import session_scope
from tests.support import Stack, staffed

PASSWORD = "correct horse battery staple"
_phones = itertools.count(1)


@pytest.fixture
def on_duty(stack: Stack) -> Iterator[None]:
    with staffed(stack, True):
        yield


def new_phone() -> str:
    """A phone number no other test uses (the stack is shared by the whole session)."""
    return f"+1555014{next(_phones):04d}"


def make_staff(stack: Stack, username: str, role: str = "agent") -> str:
    """An account on the stack's database (made once); returns the username."""
    with session_scope(stack.database_url) as session:
        if staff.get_by_username(session, username) is None:
            staff.create(session, username, PASSWORD, role, actor="test")
    return username


def sms_to(stack: Stack, phone: str) -> list[str]:
    """Bodies of the SMS the stack has sent to ``phone`` through Twilio's REST API."""
    assert stack.providers is not None
    return [m.get("Body", "") for m in stack.providers.messages("Messages", To=phone)]
