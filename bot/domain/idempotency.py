"""``Idempotency-Key`` on the API's creates (SPEC §7): a retried create does not create twice.

The answer to a create sent with a key is stored with the key, per client, in the same
transaction as the row it created (:func:`remember`), so it exists exactly when the row does,
on every replica. The same key again: with the same method, path and body (its
:func:`fingerprint`), the stored answer is given again and nothing is done; with anything else,
:class:`KeyReused` (the API answers 422). Two requests with one key at once: the database's
unique (client, key) lets one commit; the other's transaction fails and, tried again, finds
the stored answer. Keys are kept :data:`KEPT` (a day), then forgotten.

A create whose effect leaves the database (a message sent to a citizen: an agent's reply,
an outreach) cannot share a transaction with its answer, so its key is taken first
(:func:`reserve`: a row whose status is :data:`PENDING`, committed before the send; the
unique (client, key) lets one request take it), the work is done, and :func:`settle` stores
the answer, or frees the key when the work failed. Another request with the key meanwhile
finds the pending row and waits for the answer; a pending row older than :data:`ABANDONED`
(its process died mid-send) is taken over.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.store.models import IdempotencyKey, utcnow

KEPT = dt.timedelta(hours=24)
MAX_KEY = 255
PENDING = 0  # the status of a key taken by a request still at work
ABANDONED = dt.timedelta(minutes=2)


class KeyReused(ValueError):
    """The key was used for a different request."""


@dataclass(frozen=True)
class Stored:
    status: int
    body: Any


def fingerprint(method: str, path: str, body: Any) -> str:
    canonical = json.dumps([method.upper(), path, body], sort_keys=True, separators=(",", ":"),
                           ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def valid_key(key: str) -> bool:
    return 0 < len(key) <= MAX_KEY and key.isascii() and key.isprintable()


def recall(session: Session, client: str, key: str, print_: str) -> Stored | None:
    """The stored answer for this client's key, None when the key is new (or expired)."""
    row = session.scalar(select(IdempotencyKey).where(IdempotencyKey.client == client,
                                                      IdempotencyKey.key == key))
    if row is None:
        return None
    age = utcnow() - row.created_at
    if age > KEPT or (row.status == PENDING and age > ABANDONED):
        session.delete(row)
        session.flush()
        return None
    if row.fingerprint != print_:
        raise KeyReused("this Idempotency-Key was used for a different request (another body, "
                        "method or path): use a new key for a new request")
    return Stored(row.status, row.response)


def remember(session: Session, client: str, key: str, print_: str, status: int,
             body: Any) -> None:
    """Store the answer beside the change (the caller's transaction); forget expired keys."""
    session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < utcnow() - KEPT))
    session.add(IdempotencyKey(client=client, key=key, fingerprint=print_, status=status,
                               response=json.loads(json.dumps(body, default=str))))
    session.flush()


def reserve(session: Session, client: str, key: str, print_: str) -> Stored | None:
    """Take this client's key for a request about to act outside the database: None when this
    request holds it now (commit before acting), else what is stored (status :data:`PENDING`
    while another request is still at work). Two at once: the unique (client, key) fails one
    transaction, whose caller looks again."""
    stored = recall(session, client, key, print_)
    if stored is not None:
        return stored
    session.add(IdempotencyKey(client=client, key=key, fingerprint=print_, status=PENDING,
                               response={}))
    session.flush()
    return None


def settle(session: Session, client: str, key: str, status: int | None, body: Any) -> None:
    """The answer of a reserved request: stored when it succeeded (2xx), else the key is freed
    for a retry (``status`` None: the work raised)."""
    row = session.scalar(select(IdempotencyKey).where(IdempotencyKey.client == client,
                                                      IdempotencyKey.key == key))
    if row is None or row.status != PENDING:
        return
    if status is None or not 200 <= status < 300:
        session.delete(row)
    else:
        row.status = status
        row.response = json.loads(json.dumps(body, default=str))
    session.flush()
