"""Rate limits, the outbound SMS budget and allow-list, and login throttling, on the real
database (SQLite and PostgreSQL) and Redis: the parts every replica shares (SPEC §6-§8)."""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from collections import Counter

import pytest
from sqlalchemy import func, select

from bot.callcentre import staff
from bot.config import get_settings
from bot.domain import ratelimit
from bot.messaging.delivery import HeldBack
from bot.messaging.sms.client import TwilioSmsSender
from bot.store.db import session_scope
from bot.store.models import HeldMessage, StaffLoginFailure, utcnow
from tests.support.environment import PRODUCTION_SETTINGS

T0 = 1_800_000_000.0  # a fixed moment at the start of a minute (and of an hour)


DEFAULTS = ("CIVICLINE_RATE_PER_SENDER", "CIVICLINE_RATE_PER_ADDRESS",
            "CIVICLINE_SMS_BUDGET_PER_HOUR", "CIVICLINE_SMS_COUNTRIES",
            "CIVICLINE_LOGIN_FAILURES_PER_ADDRESS")


@pytest.fixture
def defaults(database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The limits' own defaults (tests/support.base_env sets them out of reach for the suite's
    shared stack, and the database fixture copies that environment)."""
    for name in DEFAULTS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres), "redis"])
def store(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The counters' store: the SQLite or PostgreSQL database, or Redis (REDIS_URL)."""
    if request.param == "postgresql":
        request.getfixturevalue("postgres_database")
    else:
        request.getfixturevalue("database")
    for name in DEFAULTS:
        monkeypatch.delenv(name, raising=False)
    if request.param == "redis":
        monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/15")
        get_settings.cache_clear()
    return request.param


def someone() -> str:
    return f"+1555{secrets.randbelow(10**7):07d}"


def test_a_sender_over_the_limit_is_told_once_then_silence(store: str) -> None:
    sender = someone()
    outcomes = [ratelimit.admit_message(sender, now=T0 + i) for i in range(23)]
    assert all(o.allowed for o in outcomes[:20])
    assert outcomes[20] == ratelimit.Admission(False, notify=True)
    assert outcomes[21:] == [ratelimit.Admission(False, notify=False)] * 2
    # Once the last 60 seconds are calm the sender may write again, and being over again is
    # not told again within the hour.
    assert not ratelimit.admit_message(sender, now=T0 + 61).allowed  # 23 in the last minute
    assert ratelimit.admit_message(sender, now=T0 + 121).allowed
    again = [ratelimit.admit_message(sender, now=T0 + 122 + i / 10) for i in range(21)]
    assert again[-1] == ratelimit.Admission(False, notify=False)
    assert ratelimit.admit_message(someone(), now=T0 + 5).allowed  # others are not affected


def test_a_burst_across_a_minute_boundary_is_not_forgiven(store: str) -> None:
    sender = someone()
    late = [ratelimit.admit_message(sender, now=T0 + 50 + i / 2) for i in range(15)]
    early = [ratelimit.admit_message(sender, now=T0 + 60 + i / 2) for i in range(10)]
    assert all(a.allowed for a in late)
    # 15 + 10 messages within about 15 seconds: over 20 a minute, though each clock minute
    # alone holds fewer than 20.
    assert [a.allowed for a in early] == [True] * 5 + [False] * 5


def test_an_address_is_limited_across_senders(store: str, monkeypatch) -> None:
    monkeypatch.setenv("CIVICLINE_RATE_PER_ADDRESS", "10")
    # Unique per run: the counters and the one-notice mark outlive a run in Redis, at a fixed T0.
    address = f"2001:db8:{secrets.token_hex(2)}:{secrets.token_hex(2)}::{secrets.token_hex(2)}"
    results = [ratelimit.admit_message(someone(), address, now=T0) for _ in range(13)]
    assert [r.allowed for r in results] == [True] * 10 + [False] * 3
    assert [r.notify for r in results[10:]] == [True, False, False]  # one notice, not one each
    assert ratelimit.admit_message(someone(), "203.0.113.9", now=T0).allowed


def test_concurrent_hits_are_all_counted(store: str) -> None:
    key = f"concurrent:{secrets.token_hex(4)}"
    counts: list[int] = []

    def hammer() -> None:
        for _ in range(25):
            counts.append(ratelimit.hit(key, 60, now=T0))

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(counts) == list(range(1, 101))  # no lost update, no count given twice


def test_client_address_believes_only_trusted_proxies(monkeypatch) -> None:
    monkeypatch.delenv("CIVICLINE_TRUSTED_PROXIES", raising=False)
    assert ratelimit.client_address("10.0.0.5", "1.2.3.4") == "10.0.0.5"
    monkeypatch.setenv("CIVICLINE_TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1")
    assert ratelimit.client_address("10.0.0.5", "6.6.6.6, 1.2.3.4") == "1.2.3.4"
    assert ratelimit.client_address("10.0.0.5", "1.2.3.4, 10.0.0.7") == "1.2.3.4"
    assert ratelimit.client_address("192.0.2.1", "1.2.3.4") == "192.0.2.1"  # not a proxy
    assert ratelimit.is_https("http", "10.0.0.5", "https")
    assert not ratelimit.is_https("http", "192.0.2.1", "https")
    assert ratelimit.is_https("https", "192.0.2.1", None)


def test_country_of_numbers() -> None:
    assert ratelimit.country_of("+15550100001") == "US"  # fictional, still the NANP's US
    assert ratelimit.country_of("+18765550123") == "JM"  # +1 876: Jamaica, not the US
    assert ratelimit.country_of("+447012345678") == "GB"
    assert ratelimit.country_of("+33612345678") == "FR"


def held_rows() -> list[tuple[str, str | None, str]]:
    with session_scope() as session:
        return [(h.recipient, h.country, h.reason)
                for h in session.scalars(select(HeldMessage).order_by(HeldMessage.id))]


def test_a_country_outside_the_allow_list_is_held(defaults: None, monkeypatch) -> None:
    monkeypatch.setenv("CIVICLINE_SMS_COUNTRIES", "US,CA")
    assert ratelimit.hold_reason("+15550100001", ["hello"]) is None
    assert ratelimit.hold_reason("+18765550123", ["hello"]) == "country"
    assert ratelimit.hold_reason("+447012345678", ["hi", "there"]) == "country"
    assert held_rows() == [("+18765550123", "JM", "country"), ("+447012345678", "GB", "country")]
    monkeypatch.delenv("CIVICLINE_SMS_COUNTRIES")  # development's default: any country
    assert ratelimit.hold_reason("+16135550123", ["hello"]) is None
    for name, value in PRODUCTION_SETTINGS.items():  # production's: the default region (US)
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    assert ratelimit.hold_reason("+16135550123", ["hello"]) == "country"  # Canada
    monkeypatch.setenv("CIVICLINE_SMS_COUNTRIES", "US,CA")
    # The sender refuses before reaching Twilio (no request is made at all).
    with pytest.raises(HeldBack) as raised:
        TwilioSmsSender().send_bodies("+447012345678", ["hello"])
    assert not raised.value.retryable and "CIVICLINE_SMS_COUNTRIES" in str(raised.value)
    get_settings.cache_clear()  # the production settings above go with the environment


def test_messages_beyond_the_hourly_budget_are_held(store: str, monkeypatch) -> None:
    monkeypatch.setenv("CIVICLINE_SMS_BUDGET_PER_HOUR", "5")
    hour = T0 + 3600 * secrets.randbelow(10**6)  # an hour of its own (Redis is shared)
    sent = [ratelimit.hold_reason("+15550100001", ["a", "b"], now=hour + i) for i in range(3)]
    assert sent == [None, None, "budget"]  # 2 + 2 fit in 5; 2 more would not
    assert ratelimit.hold_reason("+15550100002", ["c"], now=hour + 5) is None  # 1 still fits
    assert ratelimit.hold_reason("+15550100002", ["d"], now=hour + 6) == "budget"
    assert ratelimit.hold_reason("+15550100002", ["e"], now=hour + 3601) is None  # next hour
    assert [reason for *_, reason in held_rows()] == ["budget", "budget"]
    with session_scope() as session:
        assert ratelimit.held_counts(session, utcnow() - dt.timedelta(hours=1)) == {"budget": 2}


def test_the_outbox_command_shows_what_was_held(defaults: None, monkeypatch, capsys) -> None:
    from bot.cli import main as cli

    monkeypatch.setenv("CIVICLINE_SMS_COUNTRIES", "US")
    ratelimit.hold_reason("+447012345678", ["hello"])
    assert cli.main(["outbox", "--held"]) == 0
    out = capsys.readouterr().out
    assert "held back (24 h): 0 over the hourly SMS budget, 1 to a country not allowed" in out
    assert "country" in out and "+4" in out and "+447012345678" not in out  # masked


# --- console login throttling ----------------------------------------------------------------

PASSWORD = "correct horse battery"


def flood(session, *, hours: int, every: dt.timedelta, start: dt.datetime,
          rotate_accounts: bool = False, address: str | None = None) -> Counter:
    """An attacker trying a wrong password every ``every`` for ``hours``, from a new address
    each time (or from one ``address``); how many tries were actually checked, per hour."""
    checked: Counter = Counter()
    moment, number = start, 0
    while moment < start + dt.timedelta(hours=hours):
        username = f"victim{number % 10}" if rotate_accounts else "ana"
        ip = address or f"203.0.{number // 250 % 250}.{number % 250}"
        result = staff.login(session, username, f"guess {number}", ip, now=moment)
        if result.problem == "refused":
            checked[int((moment - start).total_seconds() // 3600)] += 1
        moment, number = moment + every, number + 1
    return checked


@pytest.mark.slow
def test_a_login_flood_from_rotating_addresses_gets_few_tries(session, defaults) -> None:
    staff.create(session, "ana", PASSWORD, actor="test")
    start = utcnow()
    device = staff.login(session, "ana", PASSWORD, "192.0.2.10", now=start).device_token
    assert device
    tries = flood(session, hours=6, every=dt.timedelta(seconds=5), start=start)
    # 4,320 attempts in 6 hours; the account's back-off lets through 5 free tries and then 1, 2,
    # 4, 8, 16, 32 minutes, then one an hour.
    assert tries[0] <= 11 and all(tries[h] <= 2 for h in range(1, 6)), tries
    assert sum(tries.values()) <= 17, tries
    end = start + dt.timedelta(hours=6)
    # The real staff member's own browser is never held up by the flood...
    ok = staff.login(session, "ana", PASSWORD, "192.0.2.10", now=end, device_cookie=device)
    assert ok.token
    # ...and on a new device they wait at most an hour.
    fresh = staff.login(session, "ana", PASSWORD, "192.0.2.77", now=end)
    assert fresh.token or (fresh.problem == "throttled" and fresh.retry_after <= 3600)
    # A forged or another account's device cookie is worth nothing.
    assert staff.trusted_device("abc." + "0" * 32, "ana") is None
    assert staff.trusted_device(staff.device_token("omar"), "ana") is None


@pytest.mark.slow
def test_one_address_rotating_accounts_is_throttled(session, defaults) -> None:
    for number in range(10):
        staff.create(session, f"victim{number}", PASSWORD, actor="test")
    start = utcnow()
    tries = flood(session, hours=3, every=dt.timedelta(seconds=5), start=start,
                  rotate_accounts=True, address="198.51.100.7")
    # 20 free tries for the address, then the same growing delays; the accounts' own counts
    # (2 failures each) never start their back-off.
    assert tries[0] <= 26 and tries[1] <= 2 and tries[2] <= 2, tries
    # The victims themselves, from their own addresses, are not held up.
    assert staff.login(session, "victim3", PASSWORD, "192.0.2.3",
                       now=start + dt.timedelta(hours=3)).token


@pytest.mark.slow
def test_a_password_reset_clears_the_account_failures(session, defaults) -> None:
    user = staff.create(session, "ana", PASSWORD, actor="test")
    now = utcnow()
    for attempt in range(8):
        staff.login(session, "ana", "wrong", f"203.0.113.{attempt}",
                    now=now + dt.timedelta(minutes=attempt * 10))
    staff.set_password(session, user, "a brand new password", actor="test")
    assert session.scalar(select(func.count()).select_from(StaffLoginFailure)) == 0
    assert staff.login(session, "ana", "a brand new password", "203.0.113.50",
                       now=now + dt.timedelta(minutes=81)).token


def test_held_messages_go_with_an_erasure_and_with_age(defaults: None, monkeypatch) -> None:
    from bot.domain import retention

    monkeypatch.setenv("CIVICLINE_SMS_COUNTRIES", "US")
    ratelimit.hold_reason("+34612349999", ["hola"])
    ratelimit.hold_reason("+33612349999", ["bonjour"])
    with session_scope() as session:
        erased = retention.erase(session, "+34612349999", actor="test")
    assert erased.counts["held-back SMS"] == 1
    assert [recipient for recipient, *_ in held_rows()] == ["+33612349999"]
    with session_scope() as session:
        assert retention.purge(session, dt.timedelta(days=30), actor="test")["held-back SMS"] == 0
        session.execute(HeldMessage.__table__.update().values(at=utcnow() - dt.timedelta(days=31)))
        assert retention.purge(session, dt.timedelta(days=30), actor="test")["held-back SMS"] == 1
