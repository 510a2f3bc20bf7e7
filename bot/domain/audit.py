"""The append-only, hash-chained audit log (SPEC §8): every staff action and every API write.

Each entry carries ``prev_hash``, the hash of the entry before it, and ``hash``, the SHA-256 of
its own canonical serialisation (:func:`canonical`: id, time, actor, action, target, detail and
``prev_hash`` as sorted, compact JSON). Changing an entry breaks its own hash; deleting one
breaks the next entry's ``prev_hash``; deleting the newest ones no longer matches the head
(``audit_chain_head``, one row holding the last id and hash). :func:`verify` walks the chain and
names the first broken link (``python -m bot audit verify``).

Entries are written by the operations they record, in the operation's own transaction, never
by the front ends: staff accounts, logins and logouts (bot.callcentre.staff), hand-offs and
canned replies (bot.callcentre.handoffs), staffed hours (bot.callcentre.staffed_hours), cases
(bot.domain.cases), services (bot.domain.services), retention (bot.domain.retention). Each takes
the ``actor`` (a staff member, ``api``, ``cli``, ``assistant``) from its caller.

Appends are serialised so that two writers never fork the chain: :func:`record` first updates
the head row, which takes its row lock on PostgreSQL (held until the caller's transaction ends)
and SQLite's database write lock, and only then reads the last hash.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.orm import Session

from bot.store.models import AuditChainHead, AuditEntry, utcnow

GENESIS = "0" * 64  # the prev_hash of the first entry
HEAD_ID = 1
_BATCH = 500


def canonical(entry_id: int, at: dt.datetime, actor: str, action: str, target: str | None,
              detail: Any, prev_hash: str) -> bytes:
    """The bytes an entry's hash covers: sorted, compact, UTF-8 JSON."""
    document = {"id": entry_id, "at": at.replace(tzinfo=None).isoformat(timespec="microseconds"),
                "actor": actor, "action": action, "target": target, "detail": detail or {},
                "prev": prev_hash}
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str).encode("utf-8")


def entry_hash(entry_id: int, at: dt.datetime, actor: str, action: str, target: str | None,
               detail: Any, prev_hash: str) -> str:
    return hashlib.sha256(canonical(entry_id, at, actor, action, target, detail,
                                    prev_hash)).hexdigest()


def _lock_head(session: Session) -> AuditChainHead:
    """Take the chain's lock (the head row) for the rest of the transaction; the head."""
    locked = session.execute(
        text("UPDATE audit_chain_head SET last_id = last_id WHERE id = :id"),
        {"id": HEAD_ID}).rowcount
    if not locked:  # a database created without the migration's row
        session.add(AuditChainHead(id=HEAD_ID, last_id=0, last_hash=GENESIS))
        session.flush()
    # The UPDATE waited for any other appender to commit; this read sees what it wrote.
    head = session.scalar(select(AuditChainHead).where(AuditChainHead.id == HEAD_ID)
                          .execution_options(populate_existing=True))
    assert head is not None
    return head


def record(session: Session, actor: str, action: str, target: str | None = None,
           **detail: Any) -> AuditEntry:
    """Append one entry in the caller's transaction (so it commits with the change)."""
    detail = json.loads(json.dumps(detail, default=str))  # hashed as it will be read back
    head = _lock_head(session)
    entry = AuditEntry(at=utcnow(), actor=actor, action=action, target=target, detail=detail,
                       prev_hash=head.last_hash)
    session.add(entry)
    session.flush()  # its id is part of what is hashed
    entry.hash = entry_hash(entry.id, entry.at, actor, action, target, detail, head.last_hash)
    head.last_id, head.last_hash = entry.id, entry.hash
    session.flush()
    return entry


@dataclass(frozen=True)
class Verdict:
    """The chain's state: ``ok``, how many entries were checked, and the first broken link."""

    ok: bool
    checked: int
    entry_id: int | None = None
    problem: str | None = None

    def describe(self) -> str:
        if self.ok:
            return f"audit: OK, {self.checked} entries, chain intact"
        where = f"entry {self.entry_id}" if self.entry_id is not None else "the chain's head"
        return f"audit: BROKEN at {where}: {self.problem}"


def _entries(session: Session) -> Iterator[AuditEntry]:
    last = 0
    while True:
        batch = list(session.scalars(select(AuditEntry).where(AuditEntry.id > last)
                                     .order_by(AuditEntry.id).limit(_BATCH)))
        if not batch:
            return
        yield from batch
        last = batch[-1].id
        session.expunge_all()


def verify(session: Session) -> Verdict:
    """Walk the chain from the first entry; the first link that does not hold, or OK."""
    prev_hash, prev_id, checked = GENESIS, None, 0
    for entry in _entries(session):
        if entry.prev_hash != prev_hash:
            after = f"entry {prev_id}" if prev_id is not None else "the start of the log"
            return Verdict(False, checked, entry.id,
                           f"it does not follow {after} (prev_hash differs): an entry before "
                           "it was deleted, changed or inserted")
        expected = entry_hash(entry.id, entry.at, entry.actor, entry.action, entry.target,
                              entry.detail, entry.prev_hash or "")
        if entry.hash != expected:
            return Verdict(False, checked, entry.id,
                           "its content does not match its hash: the entry was changed")
        prev_hash, prev_id, checked = entry.hash, entry.id, checked + 1
    head = session.get(AuditChainHead, HEAD_ID)
    if head is not None and (head.last_hash != prev_hash or head.last_id != (prev_id or 0)):
        return Verdict(False, checked, None,
                       f"the newest entry is {prev_id or 'none'} but the head says "
                       f"{head.last_id}: the newest entries were deleted")
    return Verdict(True, checked)


def chain_all(session: Session) -> int:
    """(Re)compute every entry's links in id order and the head; for the migration that adds
    the chain to existing rows (Core statements on the named columns only, so it runs whatever
    columns later migrations add). Returns how many entries were chained."""
    table, columns = AuditEntry.__table__, AuditEntry.__table__.c
    prev_hash, last_id, count = GENESIS, 0, 0
    while True:
        rows = session.execute(
            select(columns.id, columns.at, columns.actor, columns.action, columns.target,
                   columns.detail).where(columns.id > last_id).order_by(columns.id)
            .limit(_BATCH)).all()
        if not rows:
            break
        for row in rows:
            digest = entry_hash(row.id, row.at, row.actor, row.action, row.target, row.detail,
                                prev_hash)
            session.execute(update(table).where(columns.id == row.id)
                            .values(prev_hash=prev_hash, hash=digest))
            prev_hash, last_id, count = digest, row.id, count + 1
    head = AuditChainHead.__table__
    session.execute(delete(head).where(head.c.id == HEAD_ID))
    session.execute(insert(head).values(id=HEAD_ID, last_id=last_id, last_hash=prev_hash))
    return count
