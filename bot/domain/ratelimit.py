"""Rate limits and SMS cost control (SPEC §6, §10), shared by every replica.

**Counters** live where every replica sees them: Redis when ``REDIS_URL`` is set (``INCRBY`` and
``EXPIRE`` in one transaction), else the database (``rate_counters``: one row per key and fixed
window, incremented by an atomic upsert, SQLite or PostgreSQL). Never process memory. Keys are
SHA-256 hashes of what is counted, so no phone number is stored in them.

**Incoming messages** (:func:`admit_message`), per minute (a sliding window: this minute's
count plus the part of the previous minute's still inside the last 60 seconds):

* per sender (``CIVICLINE_RATE_PER_SENDER``, default 20): a phone number, a Telegram user, a
  REST sender id, on every channel;
* per client address (``CIVICLINE_RATE_PER_ADDRESS``, default 120) for callers that are *not* an
  authenticated provider (the REST channel, a web front end). Twilio's and Telegram's webhooks
  are not limited per address: all their posts come from the providers' own addresses, so such
  a limit would throttle every citizen at once; a signed webhook is limited per sender only.

Over a limit, the message is still recorded (the inbound row, the provider gets its 200) but not
handed to Rasa. The sender is told once per hour, in their language, that they are writing too
fast (``utter_rate_limited``); after that they get silence. 0 turns a limit off.

**Outbound SMS** (:func:`hold_reason`, called by ``bot.messaging.outbound`` before every REST API
send):
only to countries in ``CIVICLINE_SMS_COUNTRIES`` (ISO codes, comma-separated; default the
``CIVICLINE_DEFAULT_REGION`` country; ``*`` allows all), and at most
``CIVICLINE_SMS_BUDGET_PER_HOUR`` messages per clock hour in all (default 500). What is held back
is a ``held_messages`` row, listed in the console (/console/held) and by `python -m bot outbox`.

**Client address** (:func:`client_address`): the peer's address, unless the peer is one of
``CIVICLINE_TRUSTED_PROXIES`` (addresses or CIDRs, comma-separated): then the right-most
``X-Forwarded-For`` entry that is not itself a trusted proxy. Without that setting, headers a
caller writes are never believed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import logging
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import phonenumbers
from sqlalchemy import delete, event, func, select
from sqlalchemy.orm import Session

from bot.config import get_settings, text_setting, tunable
from bot.domain.phones import mask
from bot.store.db import session_scope
from bot.store.models import HeldMessage, RateCounter, utcnow

logger = logging.getLogger(__name__)

MINUTE, HOUR = 60, 3600
DEFAULT_PER_SENDER = 20
DEFAULT_PER_ADDRESS = 120
DEFAULT_SMS_BUDGET = 500
CLEANUP_CHANCE = 0.01  # of a database hit also deleting expired counters


# --- counters ----------------------------------------------------------------------------------

def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _window_start(window: int, now: float | None) -> int:
    moment = int(now if now is not None else time.time())
    return moment - moment % window


def _dialect_insert(session: Session) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


@contextmanager
def _writing(session: Session | None) -> Iterator[Session]:
    """Where a counter or a held message is written. SQLite has one writer at a time: a caller
    that is already writing (a console reply, the dispatcher) would wait on itself, so its own
    session is used. Elsewhere a session of its own, committed at once, so a busy counter row
    is never held across the caller's provider call."""
    if session is not None and session.get_bind().dialect.name == "sqlite":
        yield session
        session.flush()
        return
    with session_scope() as own:
        yield own


def _hit_database(key: str, window: int, amount: int, now: float | None,
                  session: Session | None = None) -> tuple[int, int]:
    start = _window_start(window, now)
    expires = dt.datetime.utcfromtimestamp(start + 2 * window)
    with _writing(session) as session:
        insert = _dialect_insert(session)
        statement = insert(RateCounter).values(key=key, window_start=start, count=amount,
                                               expires_at=expires)
        session.execute(statement.on_conflict_do_update(
            index_elements=["key", "window_start"],
            set_={"count": RateCounter.count + amount}))
        # The upsert holds the row (PostgreSQL) or the database (SQLite) until commit, so this
        # read is this hit's own count.
        count = session.scalar(select(RateCounter.count).where(
            RateCounter.key == key, RateCounter.window_start == start)) or 0
        previous = session.scalar(select(RateCounter.count).where(
            RateCounter.key == key, RateCounter.window_start == start - window)) or 0
        if random.random() < CLEANUP_CHANCE:
            session.execute(delete(RateCounter).where(RateCounter.expires_at < utcnow()))
    return int(count), int(previous)


_redis_lock = threading.Lock()
_redis_clients: dict[str, Any] = {}


def _redis(url: str) -> Any:
    with _redis_lock:
        if url not in _redis_clients:
            import redis

            _redis_clients[url] = redis.Redis.from_url(url, socket_timeout=2,
                                                       socket_connect_timeout=2)
        return _redis_clients[url]


class CountersUnavailable(RuntimeError):
    """The counters' Redis (``REDIS_URL``) did not answer: nothing can be counted, so nothing
    is admitted (a caller fails closed; the socket timeouts bound the wait to seconds)."""


def _hit_redis(url: str, key: str, window: int, amount: int, now: float | None
               ) -> tuple[int, int]:
    import redis

    start = _window_start(window, now)
    name = f"civicline:rate:{key}:{start}"
    try:
        pipe = _redis(url).pipeline(transaction=True)
        pipe.incrby(name, amount)
        pipe.expire(name, 2 * window)
        pipe.get(f"civicline:rate:{key}:{start - window}")
        count, _, previous = pipe.execute()
    except redis.RedisError as exc:
        raise CountersUnavailable(f"Redis did not answer ({type(exc).__name__})") from exc
    return int(count), int(previous or 0)


def _hit_both(what: str, window: int, amount: int, now: float | None,
              session: Session | None = None) -> tuple[int, int]:
    key = _digest(what)
    url = get_settings().redis_url
    if url:
        return _hit_redis(url, key, window, amount, now)
    return _hit_database(key, window, amount, now, session)


def hit(what: str, window: int, amount: int = 1, now: float | None = None,
        session: Session | None = None) -> int:
    """Add ``amount`` to the counter of ``what`` in the current ``window`` (seconds, fixed
    windows, e.g. a clock hour); the count after this hit. Shared by every process.
    ``session``: the caller's, when it is already writing (see :func:`_writing`)."""
    return _hit_both(what, window, amount, now, session)[0]


def sliding_rate(what: str, window: int, now: float | None = None) -> float:
    """Count one event of ``what``; the events in the last ``window`` seconds, estimated from
    this window's count and the previous one's (weighted by how much of it is still inside),
    so a burst across a window boundary is not forgiven."""
    moment = now if now is not None else time.time()
    count, previous = _hit_both(what, window, 1, moment)
    elapsed = (moment - _window_start(window, moment)) / window
    return count + previous * (1 - elapsed)


def _limit(name: str, default: int) -> int:
    return int(tunable(name, default))


# --- incoming messages -------------------------------------------------------------------------

@dataclass(frozen=True)
class Admission:
    """Whether a message goes on to the assistant; if not, whether to tell the sender (once)."""

    allowed: bool
    notify: bool = False


ALLOWED = Admission(True)


def admit_message(sender: str, address: str | None = None,
                  now: float | None = None) -> Admission:
    """Count one incoming message of ``sender`` (and of the client ``address`` for callers that
    are not an authenticated provider); over a limit, not allowed, with a notice once an hour.
    """
    over: str | None = None  # who is over: told once an hour, then silence
    per_address = _limit("CIVICLINE_RATE_PER_ADDRESS", DEFAULT_PER_ADDRESS)
    if address and per_address > 0 \
            and sliding_rate(f"address:{address}", MINUTE, now) > per_address:
        over = f"address:{address}"  # rotating sender ids from one address: one notice
    per_sender = _limit("CIVICLINE_RATE_PER_SENDER", DEFAULT_PER_SENDER)
    if per_sender > 0 and sliding_rate(f"sender:{sender}", MINUTE, now) > per_sender:
        over = f"sender:{sender}"
    if over is None:
        return ALLOWED
    notify = hit(f"notice:{over}", HOUR, now=now) == 1
    if notify:
        logger.warning("rate limit: %s is over the limit; told once, then silence",
                       mask(sender) if over.startswith("sender:") else "an address")
    return Admission(False, notify)


# --- client address ----------------------------------------------------------------------------

@lru_cache(maxsize=8)
def _networks(raw: str) -> tuple[Any, ...]:
    networks = []
    for part in raw.split(","):
        if part.strip():
            networks.append(ipaddress.ip_network(part.strip(), strict=False))
    return tuple(networks)


def trusted_proxies() -> tuple[Any, ...]:
    return _networks(text_setting("CIVICLINE_TRUSTED_PROXIES"))


def address_in(address: str, networks: tuple[Any, ...]) -> bool:
    """Whether ``address`` (a client address, :func:`client_address`) is in ``networks``."""
    return _trusted(address, networks)


def _trusted(address: str, networks: tuple[Any, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(peer: str | None, forwarded_for: str | None = None) -> str:
    """The caller's address: the peer, or behind a trusted proxy the right-most
    ``X-Forwarded-For`` entry that is not a trusted proxy."""
    peer = (peer or "").strip() or "-"
    networks = trusted_proxies()
    if not networks or not _trusted(peer, networks) or not forwarded_for:
        return peer[:64]
    for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
        if not _trusted(hop, networks):
            return hop[:64]
    return peer[:64]


def is_https(scheme: str | None, peer: str | None, forwarded_proto: str | None) -> bool:
    """True for an https request: directly, or per ``X-Forwarded-Proto`` from a trusted proxy."""
    if (scheme or "").lower() == "https":
        return True
    networks = trusted_proxies()
    if forwarded_proto and networks and _trusted(peer or "", networks):
        return forwarded_proto.split(",")[0].strip().lower() == "https"
    return False


# --- outbound SMS: country allow-list and hourly budget ----------------------------------------

def allowed_countries() -> frozenset[str]:
    """``CIVICLINE_SMS_COUNTRIES``; unset: the default region's country in production, any
    country in development (the demo's people write from Spain, France and Morocco, and the
    simulator's inbox is on this machine)."""
    settings = get_settings()
    raw = text_setting("CIVICLINE_SMS_COUNTRIES") or (
        settings.default_region if settings.is_production else "*")
    return frozenset(code.strip().upper() for code in raw.split(",") if code.strip())


def country_of(phone: str) -> str | None:
    """The ISO country of an E.164 number (NANP numbers by their area code), or None."""
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return None
    return (phonenumbers.region_code_for_number(number)
            or phonenumbers.region_code_for_country_code(number.country_code)
            if number.country_code else None)


def _hold(recipient: str, country: str | None, reason: str, bodies: list[str],
          session: Session | None = None) -> None:
    """Record a held-back message for the console. It must outlive the caller's transaction,
    which a :class:`~bot.messaging.delivery.HeldBack` usually rolls back: written in the
    caller's session (SQLite, see :func:`_writing`), it is written again on its own if that
    session rolls back."""
    fields = {"channel": "sms", "recipient": recipient[:20], "country": country,
              "reason": reason, "segments": len(bodies), "body": "\n\n".join(bodies)}

    def on_its_own(_session: Session | None = None) -> None:
        with session_scope() as own:
            own.add(HeldMessage(**fields))

    with _writing(session) as writing:
        writing.add(HeldMessage(**fields))
        if writing is session:
            def kept(_session: Session) -> None:  # committed with the caller's work: done
                if event.contains(session, "after_rollback", on_its_own):
                    event.remove(session, "after_rollback", on_its_own)

            event.listen(session, "after_rollback", on_its_own, once=True)
            event.listen(session, "after_commit", kept, once=True)
    logger.warning("sms: held back %d message(s) to %s (%s)", len(bodies), mask(recipient),
                   reason)


def sms_budget() -> int:
    """Outbound SMS per clock hour, all recipients together (0: no budget)."""
    return _limit("CIVICLINE_SMS_BUDGET_PER_HOUR", DEFAULT_SMS_BUDGET)


def hold_reason(recipient: str, bodies: list[str], now: float | None = None,
                session: Session | None = None) -> str | None:
    """Before sending ``bodies`` to ``recipient`` by Twilio's REST API: None to go ahead (and
    the budget is spent), else why not ("country", "budget"); a held message is recorded.
    ``session``: the caller's, when it is already writing (see :func:`_writing`)."""
    country = country_of(recipient)
    allowed = allowed_countries()
    if "*" not in allowed and (country is None or country not in allowed):
        _hold(recipient, country, "country", bodies, session)
        return "country"
    budget = sms_budget()
    if budget > 0:
        spent = hit("sms-budget", HOUR, amount=len(bodies), now=now, session=session)
        if spent > budget:
            # not sent: not spent
            hit("sms-budget", HOUR, amount=-len(bodies), now=now, session=session)
            _hold(recipient, country, "budget", bodies, session)
            return "budget"
    return None


def held_messages(session: Session, limit: int = 50) -> list[HeldMessage]:
    """The newest held-back messages."""
    return list(session.scalars(select(HeldMessage).order_by(HeldMessage.id.desc())
                                .limit(limit)))


def held_counts(session: Session, since: dt.datetime) -> dict[str, int]:
    """How many messages were held back since ``since``, per reason."""
    rows = session.execute(select(HeldMessage.reason, func.count()).where(
        HeldMessage.at >= since).group_by(HeldMessage.reason)).all()
    return {reason: int(count) for reason, count in rows}
