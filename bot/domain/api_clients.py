"""The systems allowed to use the API, each with its own bearer token (SPEC §7).

A client is a name (``case-system``, ``city-website``...) and the SHA-256 of its token: the
token itself (``cl_`` and 43 random URL-safe characters, 256 bits) is shown once, when made
(``python -m bot api token create NAME``), and never stored. A plain hash suffices because the
token is random and long: nothing can be guessed from it. Revoking keeps the row (the audit
log's ``api:NAME`` entries still name a known client) and its token stops working at once, on
every replica (the database decides).

``CIVICLINE_API_TOKEN`` keeps working beside them as the bootstrap client, audited as ``api``
(server/http.py); named clients are audited as ``api:NAME``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.domain import audit
from bot.store.models import ApiClient, utcnow

LEGACY_ACTOR = "api"  # CIVICLINE_API_TOKEN's writes, as before there were named clients
TOKEN_PREFIX = "cl_"
NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{1,39}")
SEEN_EVERY = dt.timedelta(minutes=1)  # last_used_at is written at most this often


class ClientError(ValueError):
    """A name that is taken, malformed or unknown."""


def actor(name: str) -> str:
    """Who a client's writes are audited as."""
    return f"{LEGACY_ACTOR}:{name}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def get(session: Session, name: str) -> ApiClient | None:
    return session.scalar(select(ApiClient).where(ApiClient.name == name))


def all_clients(session: Session) -> list[ApiClient]:
    return list(session.scalars(select(ApiClient).order_by(ApiClient.name)))


def create(session: Session, name: str, actor_name: str) -> tuple[ApiClient, str]:
    """A new client and its token (the only time the token exists outside the caller)."""
    if not NAME_PATTERN.fullmatch(name):
        raise ClientError("a client name is 2 to 40 characters: lower-case letters, digits, "
                          "'.', '_' or '-', starting with a letter or digit")
    if get(session, name) is not None:
        raise ClientError(f"a client named {name!r} exists already (revoked ones keep "
                          "their name: choose another)")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    client = ApiClient(name=name, token_hash=token_hash(token))
    session.add(client)
    session.flush()
    audit.record(session, actor_name, "api_client.create", name)
    return client, token


def revoke(session: Session, name: str, actor_name: str) -> ApiClient:
    client = get(session, name)
    if client is None:
        raise ClientError(f"no client named {name!r}")
    if client.revoked_at is None:
        client.revoked_at = utcnow()
        audit.record(session, actor_name, "api_client.revoke", name)
    return client


def authenticate(session: Session, token: str) -> str | None:
    """The audit actor of the live client whose token this is, or None."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    client = session.scalar(select(ApiClient).where(ApiClient.token_hash == token_hash(token),
                                                    ApiClient.revoked_at.is_(None)))
    if client is None:
        return None
    now = utcnow()
    if client.last_used_at is None or now - client.last_used_at >= SEEN_EVERY:
        session.execute(update(ApiClient).where(ApiClient.id == client.id)
                        .values(last_used_at=now))
    return actor(client.name)


def to_json(client: ApiClient) -> dict:
    def iso(value: dt.datetime | None) -> str | None:
        return value.isoformat(timespec="seconds") + "Z" if value else None

    return {"name": client.name, "actor": actor(client.name), "created_at": iso(client.created_at),
            "revoked_at": iso(client.revoked_at), "last_used_at": iso(client.last_used_at)}
