"""Staff accounts and console sessions (SPEC §7): argon2 passwords, DB sessions, throttling.

A session is a random token in an HttpOnly cookie; the database keeps only its HMAC under
``CIVICLINE_SESSION_SECRET``, so neither a copy of the database nor a guessed id opens a
session. Each session has its own CSRF token.

**Login throttling** (SPEC §7): nobody can try many passwords, and nobody can keep a staff
member out. Failures are remembered for :data:`FAILURE_MEMORY` and counted three ways:

* per account, whatever the address (:data:`ACCOUNT_FREE` free tries), and
* per address, across accounts (:data:`ADDRESS_FREE`, ``CIVICLINE_LOGIN_FAILURES_PER_ADDRESS``:
  an office behind one NAT shares it);
* past the free tries, each next try waits a growing delay after the last failure: 1, 2, 4, 8,
  16, 32 minutes, then one hour (:func:`backoff`). Rotating addresses gains nothing (the account
  count), and one address gains nothing by rotating accounts (the address count): after the
  first hour an attacker gets about one try per hour per account.
* A **trusted device** escapes both: a browser that has logged in to this account before
  carries a signed device cookie (:func:`device_token`, an HMAC under the session secret, no
  database row). Its attempts count only against that device (:data:`DEVICE_FREE`, same
  delays), so an attacker's failures elsewhere never lock the real staff member out of their
  usual browser. On a new device during an attack the wait is at most an hour, and an
  administrator's password reset clears the account's failures.

Throttled attempts are not checked at all (no password is tried) and not counted.

Every account change, login (or refused one) and logout writes its own audit entry (SPEC §8):
the ``actor`` is the staff member (or ``cli``) who made it; for a login, the name typed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import re
import secrets
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import and_, delete, func, select
from sqlalchemy.orm import Session

from bot.config import get_settings, tunable
from bot.domain import audit
from bot.store.models import STAFF_ROLES, StaffLoginFailure, StaffSession, StaffUser, utcnow

SESSION_LIFETIME = dt.timedelta(hours=12)
IDLE_TIMEOUT = dt.timedelta(hours=2)
SEEN_RESOLUTION = dt.timedelta(seconds=60)  # how often "last seen" is written
ON_DUTY_WINDOW = dt.timedelta(minutes=10)
ACCOUNT_FREE = 5
ADDRESS_FREE = 20
DEVICE_FREE = 5
MAX_FAILURES = ACCOUNT_FREE  # free tries per account before the delays start
FAILURE_MEMORY = dt.timedelta(hours=24)
BACKOFF_FIRST = dt.timedelta(minutes=1)
BACKOFF_MAX = dt.timedelta(hours=1)
MIN_PASSWORD_LENGTH = 10
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")

_hasher = PasswordHasher()
# Verified against when the username is unknown, so that both cases take as long.
_DUMMY_HASH = _hasher.hash("not a real password")


class StaffError(ValueError):
    """A staff account request is wrong (the message says how)."""


@dataclass(frozen=True)
class LoginResult:
    """A login attempt's outcome: a session token, or why not (``throttled`` or ``refused``)."""

    token: str | None = None
    staff: StaffUser | None = None
    problem: str | None = None
    retry_after: int = 0  # seconds, when throttled
    device_token: str | None = None  # on success: the trusted-device cookie to (re)set


def normalise_username(username: str) -> str:
    return (username or "").strip().lower()


def check_password_strength(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise StaffError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")


def get_by_username(session: Session, username: str) -> StaffUser | None:
    return session.scalar(select(StaffUser).where(
        StaffUser.username == normalise_username(username)))


def all_staff(session: Session) -> list[StaffUser]:
    return list(session.scalars(select(StaffUser).order_by(StaffUser.username)))


def create(session: Session, username: str, password: str, role: str = "agent", *,
           actor: str) -> StaffUser:
    """A new account; raises :class:`StaffError` for a bad name, role, password or duplicate."""
    name = normalise_username(username)
    if not USERNAME.match(name):
        raise StaffError("a username is 2-64 characters: letters, digits, '.', '_' or '-'")
    if role not in STAFF_ROLES:
        raise StaffError(f"the role must be one of: {', '.join(STAFF_ROLES)}")
    check_password_strength(password)
    if get_by_username(session, name) is not None:
        raise StaffError(f"there is already an account called {name!r}")
    user = StaffUser(username=name, password_hash=_hasher.hash(password), role=role)
    session.add(user)
    session.flush()
    audit.record(session, actor, "staff.create", user.username, role=role)
    return user


def set_password(session: Session, user: StaffUser, password: str, *, actor: str) -> None:
    """Change the password and end every session of the account."""
    check_password_strength(password)
    user.password_hash = _hasher.hash(password)
    session.execute(delete(StaffSession).where(StaffSession.staff_id == user.id))
    session.execute(delete(StaffLoginFailure).where(StaffLoginFailure.username == user.username))
    session.flush()
    audit.record(session, actor, "staff.password_reset", user.username)


def set_role(session: Session, user: StaffUser, role: str | None = None,
             active: bool | None = None, *, actor: str) -> None:
    if role is not None:
        if role not in STAFF_ROLES:
            raise StaffError(f"the role must be one of: {', '.join(STAFF_ROLES)}")
        user.role = role
    if active is not None:
        user.active = active
        if not active:
            session.execute(delete(StaffSession).where(StaffSession.staff_id == user.id))
    session.flush()
    audit.record(session, actor, "staff.update", user.username, role=user.role,
                 active=user.active)


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def _token_hash(token: str) -> str:
    key = get_settings().session_secret.encode()
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()


def _device_mac(username: str, nonce: str) -> str:
    key = get_settings().session_secret.encode()
    return hmac.new(key, f"device:{username}:{nonce}".encode(), hashlib.sha256).hexdigest()[:32]


def device_token(username: str, nonce: str | None = None) -> str:
    """A trusted-device cookie value for ``username``: ``nonce.mac``."""
    nonce = nonce or secrets.token_hex(8)
    return f"{nonce}.{_device_mac(username, nonce)}"


def trusted_device(token: str | None, username: str) -> str | None:
    """The device id of a genuine device cookie for this account, else None."""
    nonce, _, mac = (token or "").partition(".")
    if not nonce or len(nonce) > 16 or not mac:
        return None
    return nonce if hmac.compare_digest(mac, _device_mac(username, nonce)) else None


def backoff(failures: int, free: int) -> dt.timedelta:
    """How long after the last failure the next try waits: nothing for the first ``free``,
    then 1, 2, 4... minutes, at most an hour."""
    if failures < free:
        return dt.timedelta(0)
    return min(BACKOFF_FIRST * 2 ** (failures - free), BACKOFF_MAX)


def _wait(session: Session, where: Any, free: int, now: dt.datetime) -> int:
    """Seconds until the next try is allowed for the failures matching ``where`` (0: now)."""
    count, last = session.execute(
        select(func.count(), func.max(StaffLoginFailure.at))
        .where(where, StaffLoginFailure.at > now - FAILURE_MEMORY)).one()
    if not count or last is None or count < free:
        return 0
    ready = last + backoff(int(count), free)
    return max(0, math.ceil((ready - now).total_seconds()))


def throttle_wait(session: Session, username: str, ip: str, device: str | None,
                  now: dt.datetime) -> int:
    """Seconds this attempt must wait (0: it may be checked now), per the policy above."""
    if device is not None:
        return _wait(session, StaffLoginFailure.device == device, DEVICE_FREE, now)
    untrusted = StaffLoginFailure.device.is_(None)
    per_address = int(tunable("CIVICLINE_LOGIN_FAILURES_PER_ADDRESS", ADDRESS_FREE))
    return max(_wait(session, and_(StaffLoginFailure.username == username, untrusted),
                     ACCOUNT_FREE, now),
               _wait(session, and_(StaffLoginFailure.ip == ip, untrusted), per_address, now))


def login(session: Session, username: str, password: str, ip: str,
          now: dt.datetime | None = None, device_cookie: str | None = None) -> LoginResult:
    """Check a username and password; on success open a session and return its token (and a
    trusted-device cookie for this browser). Audited either way, as the name typed."""
    result = _check_login(session, username, password, ip, now or utcnow(), device_cookie)
    name = normalise_username(username)[:64] or "-"
    if result.token:
        audit.record(session, name, "staff.login", name, ip=ip)
    else:
        audit.record(session, name, "staff.login_refused", name, ip=ip, why=result.problem)
    return result


def _check_login(session: Session, username: str, password: str, ip: str, now: dt.datetime,
                 device_cookie: str | None) -> LoginResult:
    name = normalise_username(username)[:64]
    device = trusted_device(device_cookie, name) if name else None
    session.execute(delete(StaffLoginFailure).where(
        StaffLoginFailure.at < now - FAILURE_MEMORY))
    wait = throttle_wait(session, name or "-", ip, device, now)
    if wait > 0:
        return LoginResult(problem="throttled", retry_after=wait)
    user = get_by_username(session, name) if name else None
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password or "")
        accepted = user is not None and user.active
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        accepted = False
    if not accepted or user is None:
        session.add(StaffLoginFailure(username=name or "-", ip=ip, at=now, device=device))
        session.flush()
        return LoginResult(problem="refused")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    if device is not None:
        session.execute(delete(StaffLoginFailure).where(StaffLoginFailure.device == device))
    session.execute(delete(StaffSession).where(StaffSession.expires_at < now))
    token = secrets.token_urlsafe(32)
    session.add(StaffSession(token_hash=_token_hash(token), staff_id=user.id,
                             csrf_token=secrets.token_urlsafe(32), ip=ip, created_at=now,
                             last_seen_at=now, expires_at=now + SESSION_LIFETIME))
    user.last_login_at = now
    session.flush()
    return LoginResult(token=token, staff=user,
                       device_token=device_token(name, device) if device else device_token(name))


def session_for(session: Session, token: str | None,
                now: dt.datetime | None = None) -> StaffSession | None:
    """The live session behind a cookie token (and note that its user is still there)."""
    if not token:
        return None
    now = now or utcnow()
    found = session.scalar(select(StaffSession)
                           .where(StaffSession.token_hash == _token_hash(token)))
    if found is None:
        return None
    if found.expires_at <= now or found.last_seen_at + IDLE_TIMEOUT <= now \
            or not found.staff.active:
        session.delete(found)
        session.flush()
        return None
    if now - found.last_seen_at >= SEEN_RESOLUTION:
        found.last_seen_at = now
        session.flush()
    return found


def logout(session: Session, token: str | None, *, actor: str) -> None:
    if token:
        session.execute(delete(StaffSession).where(StaffSession.token_hash == _token_hash(token)))
    audit.record(session, actor, "staff.logout", actor)


def csrf_matches(staff_session: StaffSession, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(staff_session.csrf_token.encode(),
                                               (given or "").encode())


def on_duty(session: Session, now: dt.datetime | None = None) -> int:
    """How many staff have used the console in the last few minutes."""
    now = now or utcnow()
    return session.scalar(select(func.count(func.distinct(StaffSession.staff_id)))
                          .where(StaffSession.last_seen_at > now - ON_DUTY_WINDOW)) or 0
