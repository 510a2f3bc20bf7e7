"""The parts of the API for other systems, on a real database without the server: keyset
pages and their cursors, named clients' tokens, and stored idempotent answers."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from bot.domain import api_clients, idempotency
from bot.store import pages
from bot.store.db import get_engine
from bot.store.migrate import alembic_config
from bot.store.models import ApiClient, Base, Handoff, IdempotencyKey, Service, utcnow

BY_SLUG = [(Service.slug, True)]


def test_pages_walk_everything_once_in_order(session: Session) -> None:
    everything = list(session.scalars(select(Service.slug).order_by(Service.slug)))
    walked, cursor = [], None
    while True:
        page = pages.page(session, select(Service), BY_SLUG, "services", 4, cursor)
        walked += [s.slug for s in page.rows]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert walked == everything and len(everything) >= 9


def test_a_mixed_order_cursor_with_times_and_booleans(session: Session) -> None:
    base = dt.datetime(2026, 12, 1, 9, 0)
    for minute, urgent in [(3, False), (1, True), (2, False), (0, False), (4, True)]:
        session.add(Handoff(sender_id=f"s{minute}", urgent=urgent, status="waiting",
                            created_at=base + dt.timedelta(minutes=minute)))
    session.flush()
    order = [(Handoff.urgent, False), (Handoff.created_at, True), (Handoff.id, True)]
    query = select(Handoff).where(Handoff.sender_id.like("s%"))
    walked, cursor = [], None
    while True:
        page = pages.page(session, query, order, "q", 2, cursor)
        walked += [h.sender_id for h in page.rows]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert walked == ["s1", "s4", "s0", "s2", "s3"]  # urgent first, then oldest


@pytest.mark.parametrize("cursor", ["garbage", "e30", "eyJzIjoic2VydmljZXMiLCJrIjpbMV19",
                                    "eyJzIjoic2VydmljZXMiLCJrIjpbXX0", "%%%", "😀"])
def test_a_cursor_that_is_not_ours_is_refused(session: Session, cursor: str) -> None:
    with pytest.raises(pages.CursorError):
        pages.page(session, select(Service), BY_SLUG, "services", 2, cursor)


def test_a_cursor_of_another_scope_is_refused(session: Session) -> None:
    cursor = pages.page(session, select(Service), BY_SLUG, "services", 2, None).next_cursor
    assert cursor
    with pytest.raises(pages.CursorError, match="another list"):
        pages.page(session, select(Service), BY_SLUG, "offices", 2, cursor)


def test_a_client_token_is_shown_once_and_stored_hashed(session: Session) -> None:
    _, token = api_clients.create(session, "case-system", "cli")
    stored = session.scalar(select(ApiClient).where(ApiClient.name == "case-system"))
    assert stored.token_hash == api_clients.token_hash(token) != token
    assert api_clients.authenticate(session, token) == "api:case-system"
    assert api_clients.authenticate(session, token + "x") is None
    assert api_clients.authenticate(session, "not-a-client-token") is None
    api_clients.revoke(session, "case-system", "cli")
    assert api_clients.authenticate(session, token) is None
    with pytest.raises(api_clients.ClientError, match="exists already"):
        api_clients.create(session, "case-system", "cli")
    for bad in ("A", "Has Space", "x" * 41, "-dash", ""):
        with pytest.raises(api_clients.ClientError):
            api_clients.create(session, bad, "cli")


def test_last_used_is_written_at_most_once_a_minute(session: Session) -> None:
    client, token = api_clients.create(session, "website", "cli")
    api_clients.authenticate(session, token)
    session.refresh(client)
    first = client.last_used_at
    assert first is not None
    api_clients.authenticate(session, token)
    session.refresh(client)
    assert client.last_used_at == first


def test_an_answer_is_given_again_for_the_same_request_only(session: Session) -> None:
    same = idempotency.fingerprint("POST", "/api/cases", {"a": 1, "b": [2]})
    assert same == idempotency.fingerprint("post", "/api/cases", {"b": [2], "a": 1})
    assert idempotency.recall(session, "api", "k1", same) is None
    idempotency.remember(session, "api", "k1", same, 201, {"reference": "40217382"})
    assert idempotency.recall(session, "api", "k1", same) == idempotency.Stored(
        201, {"reference": "40217382"})
    assert idempotency.recall(session, "api:other", "k1", same) is None  # per client
    other = idempotency.fingerprint("POST", "/api/cases", {"a": 2})
    with pytest.raises(idempotency.KeyReused):
        idempotency.recall(session, "api", "k1", other)


def test_a_key_is_forgotten_after_a_day(session: Session) -> None:
    print_ = idempotency.fingerprint("POST", "/api/offices", {})
    idempotency.remember(session, "api", "old", print_, 201, {})
    row = session.scalar(select(IdempotencyKey).where(IdempotencyKey.key == "old"))
    row.created_at = utcnow() - idempotency.KEPT - dt.timedelta(minutes=1)
    session.flush()
    assert idempotency.recall(session, "api", "old", "anything else") is None


@pytest.mark.parametrize(("key", "valid"), [("abc-123", True), ("x" * 255, True), ("", False),
                                            ("x" * 256, False), ("naïve", False),
                                            ("tab\there", False)])
def test_what_a_key_may_be(key: str, valid: bool) -> None:
    assert idempotency.valid_key(key) is valid


def test_migration_0014_matches_the_model_and_downgrades(database: str) -> None:
    ours = ("api_clients", "idempotency_keys", "desks")
    with get_engine().connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [d for d in diff if any(name in repr(d) for name in ours)] == []
    config = alembic_config(database)
    command.downgrade(config, "0011")
    with get_engine().connect() as connection:
        assert not inspect(connection).has_table("api_clients")
        assert "desks" not in {c["name"] for c in inspect(connection).get_columns("offices")}
    command.upgrade(config, "head")
    with get_engine().connect() as connection:
        assert inspect(connection).has_table("idempotency_keys")


@pytest.mark.parametrize("backend", ["database", "postgres_database"])
def test_one_key_from_eight_threads_creates_once(backend: str,
                                                 request: pytest.FixtureRequest) -> None:
    """Eight requests with one key at once (as from eight replicas): one case, one answer, on
    SQLite and on PostgreSQL (the unique key makes the losers find the winner's answer)."""
    import threading

    from bot.domain import cases
    from bot.store.db import session_scope
    from bot.store.models import Case
    from server.http import _create_once

    request.getfixturevalue(backend)
    phone = "+15550177001"

    def work(session: Session, body: dict, actor: str) -> tuple[int, dict]:
        case = cases.create_case(session, service_slug="id_cards", status="received",
                                 phone=body["phone"], actor=actor)
        return 201, cases.to_json(case)

    answers: list[dict] = []
    start = threading.Barrier(8)

    def send() -> None:
        start.wait()
        answers.append(_create_once(work, {"phone": phone}, "api", "burst",
                                    idempotency.fingerprint("POST", "/api/cases", {})))

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 8 and {status for status, _, _ in answers} == {201}
    assert len({body["reference"] for _, body, _ in answers}) == 1
    assert sum(replayed for _, _, replayed in answers) == 7
    with session_scope() as session:
        assert session.query(Case).filter(Case.phone == phone).count() == 1


@pytest.mark.parametrize("backend", ["database", "postgres_database"])
def test_one_key_from_eight_threads_sends_once(backend: str,
                                               request: pytest.FixtureRequest) -> None:
    """A send (an agent's reply, an outreach) cannot share a transaction with its answer: its
    key is taken first. Eight requests with one key at once: the work runs once (here it writes
    a case in its own transaction, as a send leaves the database), all eight get its answer,
    seven replayed; on SQLite and on PostgreSQL."""
    import asyncio
    import threading

    from bot.domain import cases
    from bot.store.db import session_scope
    from bot.store.models import Case
    from server.http import once_outside

    request.getfixturevalue(backend)
    phone = "+15550177002"
    print_ = idempotency.fingerprint("POST", "/api/outreach", {"phone": phone})

    async def work() -> tuple[int, dict]:
        with session_scope() as session:
            case = cases.create_case(session, service_slug="id_cards", status="received",
                                     phone=phone, actor="api")
            return 200, {"reference": case.reference}

    answers: list[tuple[int, dict, bool]] = []
    start = threading.Barrier(8)

    def send() -> None:
        start.wait()
        answers.append(asyncio.run(once_outside("api", "burst-send", print_, work)))

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 8 and {status for status, _, _ in answers} == {200}
    assert len({body["reference"] for _, body, _ in answers}) == 1
    assert sum(replayed for _, _, replayed in answers) == 7
    with session_scope() as session:
        assert session.query(Case).filter(Case.phone == phone).count() == 1
        row = session.scalar(select(IdempotencyKey).where(IdempotencyKey.key == "burst-send"))
        assert (row.status, row.response) == (200, answers[0][1])


def test_a_failed_send_frees_its_key_and_a_pending_one_is_waited_for(database: str) -> None:
    """Not 2xx (the provider refused) or an exception: the key is free for a retry. A key
    another request holds: the answer is awaited; one held past ABANDONED is taken over."""
    import asyncio

    from bot.store.db import session_scope
    from server.http import InputError, once_outside

    print_ = idempotency.fingerprint("POST", "/api/handoffs/1/messages", {"text": "hi"})
    calls: list[int] = []

    async def refused() -> tuple[int, dict]:
        calls.append(502)
        return 502, {"delivered": False}

    async def delivered() -> tuple[int, dict]:
        calls.append(200)
        return 200, {"delivered": True}

    async def broken() -> tuple[int, dict]:
        raise InputError("no hand-off 1", status=404)

    assert asyncio.run(once_outside("api", "k", print_, refused)) == (
        502, {"delivered": False}, False)
    with pytest.raises(InputError):
        asyncio.run(once_outside("api", "k", print_, broken))
    assert asyncio.run(once_outside("api", "k", print_, delivered)) == (
        200, {"delivered": True}, False)
    assert asyncio.run(once_outside("api", "k", print_, delivered)) == (
        200, {"delivered": True}, True)
    assert calls == [502, 200]
    other = idempotency.fingerprint("POST", "/api/handoffs/1/messages", {"text": "bye"})
    with pytest.raises(InputError, match="different request"):
        asyncio.run(once_outside("api", "k", other, delivered))

    with session_scope() as session:  # a request still at work on "held"
        assert idempotency.reserve(session, "api", "held", print_) is None
    with session_scope() as session:
        assert idempotency.reserve(session, "api", "held", print_) == idempotency.Stored(
            idempotency.PENDING, {})

    async def finish_then_ask() -> tuple[int, dict, bool]:
        asking = asyncio.ensure_future(once_outside("api", "held", print_, delivered))
        await asyncio.sleep(0.2)  # the second request is waiting on the first's answer
        assert not asking.done()
        with session_scope() as session:
            idempotency.settle(session, "api", "held", 200, {"delivered": "first"})
        return await asking

    assert asyncio.run(finish_then_ask()) == (200, {"delivered": "first"}, True)
    assert calls == [502, 200]

    with session_scope() as session:  # a process that died mid-send
        assert idempotency.reserve(session, "api", "dead", print_) is None
        row = session.scalar(select(IdempotencyKey).where(IdempotencyKey.key == "dead"))
        row.created_at = utcnow() - idempotency.ABANDONED - dt.timedelta(seconds=1)
    assert asyncio.run(once_outside("api", "dead", print_, delivered))[2] is False
    assert calls == [502, 200, 200]
