"""Waiting for something a test can observe (a row, a message, a log line), with a deadline;
never a sleep that hopes the thing has happened."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(probe: Callable[[], T], what: str, timeout: float = 30,
               interval: float = 0.2) -> T:
    """The first truthy value of ``probe()``; fails naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what}: not within {timeout:g} s"
        time.sleep(interval)
