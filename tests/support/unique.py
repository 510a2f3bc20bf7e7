"""Phone numbers, Telegram user ids and sender ids that no other test of the session uses:
the stack (and its database) is shared by the whole session, so a test that reused someone's
number would find their conversation, language and cases.

One counter for the whole session, whatever the prefix: two modules using the same prefix
still never meet. The prefixes are fictional ranges (+1 555 01xx… is reserved for fiction);
the demo data's own numbers (+1 555 0100 0xx) are never produced.
"""

from __future__ import annotations

import itertools

DEFAULT_PREFIX = "+1555030"  # + 4 digits: +1 555 030 nnnn
_numbers = itertools.count(1)
_telegram_users = itertools.count(9_100_001)
_senders = itertools.count(1)


def phone(prefix: str = DEFAULT_PREFIX) -> str:
    """A phone number (E.164) no other test uses: ``prefix`` and four more digits (a country's
    own prefix gives a number of that country: "+3461200" → a Spanish mobile)."""
    number = next(_numbers)
    assert number < 10_000, "a session of more than 9,999 numbers: widen unique.phone"
    return f"{prefix}{number:04d}"


def telegram_user() -> int:
    """A Telegram user id no other test uses."""
    return next(_telegram_users)


def sender(prefix: str = "test") -> str:
    """A REST sender id no other test uses."""
    return f"{prefix}-{next(_senders)}"
