"""The hash-chained audit log (SPEC §8): tampering is found by `python -m bot audit verify`."""

from __future__ import annotations

import subprocess
import sys
import threading

from sqlalchemy import text

from bot.domain import audit
from bot.store.db import get_engine, session_scope
from bot.store.models import AuditEntry
from tests.support.environment import ROOT, base_env


def write_entries(count: int, actor: str = "alice") -> list[int]:
    ids = []
    for number in range(count):
        with session_scope() as session:
            ids.append(audit.record(session, actor, "case.update", f"case:{number}",
                                    status="approved", note=f"änderung {number}").id)
    return ids


def verify_command(database_url: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", "audit", "verify"], cwd=ROOT,
                          env=base_env(database_url), capture_output=True, text=True,
                          timeout=120)


def sql(statement: str, **params) -> None:
    with get_engine().begin() as connection:
        connection.execute(text(statement), params)


def test_each_entry_carries_the_previous_hash(database: str) -> None:
    ids = write_entries(3)
    with session_scope() as session:
        entries = [session.get(AuditEntry, entry_id) for entry_id in ids]
        assert entries[1].prev_hash == entries[0].hash
        assert entries[2].prev_hash == entries[1].hash
        assert all(len(e.hash) == 64 for e in entries)
        assert audit.verify(session).ok
    result = verify_command(database)
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout


def test_a_changed_entry_is_named(database: str) -> None:
    ids = write_entries(5)
    sql("UPDATE audit_log SET actor = 'mallory' WHERE id = :id", id=ids[2])
    result = verify_command(database)
    assert result.returncode == 1
    assert f"entry {ids[2]}" in result.stdout and "changed" in result.stdout


def test_a_changed_detail_is_named(database: str) -> None:
    ids = write_entries(4)
    sql("UPDATE audit_log SET detail = :d WHERE id = :id", d='{"status": "rejected"}',
        id=ids[1])
    with session_scope() as session:
        verdict = audit.verify(session)
    assert not verdict.ok and verdict.entry_id == ids[1]


def test_a_deleted_entry_is_named(database: str) -> None:
    ids = write_entries(5)
    sql("DELETE FROM audit_log WHERE id = :id", id=ids[2])
    result = verify_command(database)
    assert result.returncode == 1
    # The link that breaks is the entry after the deleted one: it no longer follows its
    # predecessor.
    assert f"entry {ids[3]}" in result.stdout and f"follow entry {ids[1]}" in result.stdout


def test_deleting_the_newest_entries_is_found(database: str) -> None:
    ids = write_entries(4)
    sql("DELETE FROM audit_log WHERE id >= :id", id=ids[2])
    with session_scope() as session:
        verdict = audit.verify(session)
    assert not verdict.ok and "newest entries were deleted" in verdict.problem


def test_concurrent_writers_do_not_fork_the_chain(database: str) -> None:
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            write_entries(15, actor=name)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(f"agent{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with session_scope() as session:
        verdict = audit.verify(session)
        assert verdict.ok, verdict.describe()
        prevs = [p for (p,) in session.execute(text("SELECT prev_hash FROM audit_log"))]
    assert len(prevs) == len(set(prevs))  # no two entries claim the same predecessor


def test_concurrent_writers_on_postgresql(postgres_database: str) -> None:
    threads = [threading.Thread(target=write_entries, args=(10, f"agent{i}")) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with session_scope() as session:
        verdict = audit.verify(session)
    assert verdict.ok and verdict.checked >= 40, verdict.describe()
    sql("UPDATE audit_log SET target = 'case:x' WHERE id = (SELECT min(id) + 3 FROM audit_log)")
    result = verify_command(postgres_database)
    assert result.returncode == 1 and "changed" in result.stdout


def test_the_migration_chains_existing_entries(database: str) -> None:
    """Entries written before the chain existed are chained by migration 0007."""
    from alembic import command
    from alembic.script import ScriptDirectory

    from bot.store.migrate import alembic_config

    write_entries(3)
    config = alembic_config(database)
    before = ScriptDirectory.from_config(config).get_revision("0007").down_revision
    command.downgrade(config, before)  # the revision before the chain, whichever it is
    sql("INSERT INTO audit_log (at, actor, action, target, detail) "
        "VALUES ('2026-01-01 10:00:00.000000', 'old', 'x', NULL, '{}')")
    command.upgrade(config, "head")
    with session_scope() as session:
        verdict = audit.verify(session)
    assert verdict.ok and verdict.checked == 4, verdict.describe()
