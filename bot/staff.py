"""Staff accounts and console sessions (SPEC §7): argon2 passwords, DB sessions, throttling.

A session is a random token in an HttpOnly cookie; the database keeps only its HMAC under
``CIVICLINE_SESSION_SECRET``, so neither a copy of the database nor a guessed id opens a
session. Each session has its own CSRF token. Failed logins are counted per username and
address: :data:`MAX_FAILURES` within :data:`FAILURE_WINDOW` locks that pair out until the oldest
failure ages out.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot.config import get_settings
from bot.models import STAFF_ROLES, StaffLoginFailure, StaffSession, StaffUser, utcnow

SESSION_LIFETIME = dt.timedelta(hours=12)
IDLE_TIMEOUT = dt.timedelta(hours=2)
SEEN_RESOLUTION = dt.timedelta(seconds=60)  # how often "last seen" is written
ON_DUTY_WINDOW = dt.timedelta(minutes=10)
MAX_FAILURES = 5
FAILURE_WINDOW = dt.timedelta(minutes=15)
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


def create(session: Session, username: str, password: str, role: str = "agent") -> StaffUser:
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
    return user


def set_password(session: Session, user: StaffUser, password: str) -> None:
    """Change the password and end every session of the account."""
    check_password_strength(password)
    user.password_hash = _hasher.hash(password)
    session.execute(delete(StaffSession).where(StaffSession.staff_id == user.id))
    session.flush()


def set_role(session: Session, user: StaffUser, role: str | None = None,
             active: bool | None = None) -> None:
    if role is not None:
        if role not in STAFF_ROLES:
            raise StaffError(f"the role must be one of: {', '.join(STAFF_ROLES)}")
        user.role = role
    if active is not None:
        user.active = active
        if not active:
            session.execute(delete(StaffSession).where(StaffSession.staff_id == user.id))
    session.flush()


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def _token_hash(token: str) -> str:
    key = get_settings().session_secret.encode()
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()


def _recent_failures(session: Session, username: str, ip: str,
                     now: dt.datetime) -> list[dt.datetime]:
    return list(session.scalars(
        select(StaffLoginFailure.at)
        .where(StaffLoginFailure.username == username, StaffLoginFailure.ip == ip,
               StaffLoginFailure.at > now - FAILURE_WINDOW)
        .order_by(StaffLoginFailure.at)))


def login(session: Session, username: str, password: str, ip: str,
          now: dt.datetime | None = None) -> LoginResult:
    """Check a username and password; on success open a session and return its token."""
    now = now or utcnow()
    name = normalise_username(username)[:64]
    failures = _recent_failures(session, name, ip, now)
    if len(failures) >= MAX_FAILURES:
        wait = failures[-MAX_FAILURES] + FAILURE_WINDOW - now
        return LoginResult(problem="throttled", retry_after=max(1, int(wait.total_seconds())))
    user = get_by_username(session, name) if name else None
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password or "")
        accepted = user is not None and user.active
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        accepted = False
    if not accepted or user is None:
        session.add(StaffLoginFailure(username=name or "-", ip=ip, at=now))
        session.flush()
        return LoginResult(problem="refused")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    session.execute(delete(StaffLoginFailure).where(StaffLoginFailure.username == name,
                                                    StaffLoginFailure.ip == ip))
    session.execute(delete(StaffSession).where(StaffSession.expires_at < now))
    token = secrets.token_urlsafe(32)
    session.add(StaffSession(token_hash=_token_hash(token), staff_id=user.id,
                             csrf_token=secrets.token_urlsafe(32), ip=ip, created_at=now,
                             last_seen_at=now, expires_at=now + SESSION_LIFETIME))
    user.last_login_at = now
    session.flush()
    return LoginResult(token=token, staff=user)


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


def logout(session: Session, token: str | None) -> None:
    if token:
        session.execute(delete(StaffSession).where(StaffSession.token_hash == _token_hash(token)))


def csrf_matches(staff_session: StaffSession, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(staff_session.csrf_token.encode(),
                                               (given or "").encode())


def on_duty(session: Session, now: dt.datetime | None = None) -> int:
    """How many staff have used the console in the last few minutes."""
    now = now or utcnow()
    return session.scalar(select(func.count(func.distinct(StaffSession.staff_id)))
                          .where(StaffSession.last_seen_at > now - ON_DUTY_WINDOW)) or 0
