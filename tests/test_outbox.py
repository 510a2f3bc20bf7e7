"""Status notifications through the outbox (SPEC §5.7): at least once, never twice per change.

The dispatcher runs here in-process with the real Twilio sender against this test's own Twilio
stand-in (tests/support/providers.py: the ``twilio`` fixture), which answers as Twilio does:
503 while it is made unavailable, error 21211 for a number it cannot text.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.config import get_settings
from bot.domain import cases, notifications, people
from bot.language.detect import detect
from bot.store.db import session_scope
from bot.store.models import OutboxMessage, ProblemReport
from server import api
from tests.support.environment import free_port
from tests.support.providers import TWILIO_INVALID_NUMBER, TWILIO_MESSAGES, Providers

pytestmark = pytest.mark.usefixtures("fast_retries")
OWNER = ("40217382", "+15550100001")  # English, in_review
SPANISH = ("12345674", "+34612345678")  # Spanish, approved


def patch_status(reference: str, status: str) -> dict:
    """PATCH /api/cases/{reference}, minus HTTP (the same handler function)."""
    code, body = api._patch_case(reference, {"status": status})
    assert code == 200, body
    return body


def rows() -> list[OutboxMessage]:
    with session_scope() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def unreachable_owner(reference: str) -> None:
    """The case's owner has a number Twilio refuses (21211: not a valid phone number)."""
    with session_scope() as session:
        case = cases.get_by_reference(session, reference)
        case.person_id = None
        case.phone = TWILIO_INVALID_NUMBER


def test_a_status_change_queues_one_notification_in_the_same_transaction(database: str) -> None:
    body = patch_status(OWNER[0], "approved")
    queued = rows()
    assert len(queued) == 1
    assert queued[0].status == "pending" and queued[0].payload == {"status": "approved"}
    assert queued[0].idempotency_key.startswith("case-event-")
    assert body["notifications"][0]["status"] == "pending"
    # A note without a change, or the same status again, notifies nobody.
    api._patch_case(OWNER[0], {"status": "approved", "note": "checked twice"})
    assert len(rows()) == 1


def test_no_notification_when_the_change_is_rolled_back(database: str) -> None:
    with pytest.raises(RuntimeError), session_scope() as session:
        case = cases.get_by_reference(session, OWNER[0])
        cases.change_status(session, case, "rejected", None, actor="test")
        raise RuntimeError("the transaction fails after the change")
    assert rows() == []
    with session_scope() as session:
        assert cases.get_by_reference(session, OWNER[0]).status == "in_review"


def test_sent_once_in_the_owners_language(twilio: Providers) -> None:
    patch_status(SPANISH[0], "completed")
    assert notifications.dispatch_due() == {"sent": 1}
    assert notifications.dispatch_due() == {}  # nothing is sent twice
    [sms] = twilio.messages("Messages")
    assert sms["To"] == SPANISH[1]
    assert "1234 5674" in sms["Body"] and detect(sms["Body"]).language == "es"
    [row] = rows()
    assert row.status == "sent" and row.language == "es" and row.provider_id.startswith("SM")


def test_a_text_for_one_person_is_queued_once_per_key_and_sent_by_sms(twilio: Providers
                                                                       ) -> None:
    """What a USSD session that goes on by SMS queues (bot/messaging/ussd/turn.py)."""
    with session_scope() as session:
        person = people.get_or_create(session, "+254712000777")
        for _ in range(2):  # the gateway sent the request again: still one message
            notifications.enqueue_text(session, person, "Where is it?", "en", key="ussd-S1")
    assert notifications.dispatch_due() == {"sent": 1}
    assert notifications.dispatch_due() == {}
    [sms] = twilio.messages("Messages")
    assert sms["To"] == "+254712000777" and sms["Body"] == "Where is it?"
    [row] = rows()
    assert (row.kind, row.status, row.channel, row.case_id) == ("text", "sent", "sms", None)
    assert notifications.to_json(row)["reference"] is None


def test_retryable_failures_back_off_then_succeed(twilio: Providers,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIVICLINE_OUTBOX_BACKOFF_SECONDS", "3600")
    twilio.twilio_unavailable(OWNER[1], 2)
    patch_status(OWNER[0], "approved")
    assert notifications.dispatch_due() == {"pending": 1}
    assert notifications.dispatch_due() == {}  # backing off: not due yet
    [row] = rows()
    assert row.attempts == 1 and "503" in row.last_error
    for _ in range(2):  # time passes
        with session_scope() as session:
            session.execute(update(OutboxMessage).values(next_attempt_at=row.created_at))
        notifications.dispatch_due()
    [row] = rows()
    assert (row.status, row.attempts) == ("sent", 3)
    assert len(twilio.messages("Messages", To=OWNER[1])) == 1


def test_backoff_grows_exponentially(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIVICLINE_OUTBOX_BACKOFF_SECONDS", "10")
    assert [notifications.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [10, 20, 40, 80]


def test_permanent_failures_and_too_many_tries_are_shown_and_can_be_retried(
        twilio: Providers, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIVICLINE_OUTBOX_MAX_ATTEMPTS", "2")
    unreachable_owner(OWNER[0])  # Twilio refuses the number: not worth a second try
    twilio.twilio_unavailable(SPANISH[1], 2)  # Twilio down for this one: tried twice
    patch_status(OWNER[0], "approved")
    patch_status(SPANISH[0], "completed")
    assert notifications.dispatch_due() == {"failed": 1, "pending": 1}
    assert notifications.dispatch_due() == {"failed": 1}
    assert [r.status for r in rows()] == ["failed", "failed"]
    assert len(twilio.messages("Messages", To=TWILIO_INVALID_NUMBER)) == 1  # refused once
    assert [sms.params["To"] for sms in twilio.turned_away] == [SPANISH[1]] * 2
    _code, body = api._get_case(OWNER[0])
    assert body["notifications"][0]["status"] == "failed"
    assert "21211" in body["notifications"][0]["last_error"]
    _code, body = api._get_case(SPANISH[0])
    assert "503" in body["notifications"][0]["last_error"]
    with session_scope() as session:  # staff correct the number; Twilio is back
        cases.get_by_reference(session, OWNER[0]).phone = OWNER[1]
        assert notifications.retry(session) == 2
    assert notifications.dispatch_due() == {"sent": 2}
    assert len(twilio.sms_to(OWNER[1])) == len(twilio.sms_to(SPANISH[1])) == 1


def test_an_opted_out_owner_gets_nothing(database: str) -> None:
    with session_scope() as session:
        people.get_or_create(session, OWNER[1]).sms_opted_out = True
    patch_status(OWNER[0], "approved")
    # The real sender: it refuses to text someone who opted out, before any HTTP.
    assert notifications.dispatch_due() == {"skipped": 1}
    [row] = rows()
    assert row.status == "skipped" and "opted out" in row.last_error


def test_no_contact_wanted_means_no_notification(twilio: Providers) -> None:
    with session_scope() as session:
        case = cases.get_by_reference(session, OWNER[0])
        session.add(ProblemReport(case_id=case.id, kind="pothole", place="Elm Street",
                                  contact="no_contact", media=[]))
    patch_status(OWNER[0], "completed")
    assert notifications.dispatch_due() == {"skipped": 1}
    assert twilio.messages("Messages") == []


def test_a_claim_is_exclusive_and_a_dead_claim_expires(twilio: Providers) -> None:
    patch_status(OWNER[0], "approved")
    [row] = rows()
    token = notifications.claim(row.id)
    assert token and notifications.claim(row.id) is None  # another dispatcher: hands off
    assert notifications.dispatch_due() == {}
    # The claiming process died: once its lease is over, the row is taken again...
    with session_scope() as session:
        session.execute(update(OutboxMessage).values(claimed_until=row.created_at))
    assert notifications.dispatch_due() == {"sent": 1}
    assert len(twilio.messages("Messages", To=OWNER[1])) == 1
    # ...and the dead claim's late outcome changes nothing.
    with session_scope() as session:
        notifications._finish(session, session.get(OutboxMessage, row.id), token,
                              status="failed")
    assert rows()[0].status == "sent"


def test_two_dispatchers_at_once_send_each_row_once(twilio: Providers) -> None:
    for reference in ("40217382", "12345674", "55501233", "90000001"):
        patch_status(reference, "completed")
    start = threading.Barrier(2)

    def run() -> None:
        start.wait()
        notifications.dispatch_due()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    sent_to = sorted(sms["To"] for sms in twilio.messages("Messages"))
    assert sent_to == sorted(["+15550100001", "+34612345678", "+33612345678", "+212612345678"])
    assert {r.status for r in rows()} == {"sent"}


def test_twilio_fails_twice_then_one_sms_is_delivered(twilio: Providers) -> None:
    twilio.twilio_unavailable(OWNER[1], 2)
    patch_status(OWNER[0], "approved")
    outcomes = [notifications.dispatch_due() for _ in range(4)]
    assert outcomes == [{"pending": 1}, {"pending": 1}, {"sent": 1}, {}]
    [sms] = twilio.messages("Messages", To=OWNER[1])
    assert "4021 7382" in sms["Body"] and "approved" in sms["Body"]
    [row] = rows()
    assert (row.status, row.attempts, row.channel) == ("sent", 3, "sms")
    assert row.provider_id.startswith("SM")


@pytest.mark.slow
def test_a_dispatcher_killed_mid_send_is_restarted_and_delivers_once(
        twilio: Providers, database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The status change is committed with its outbox row; the dispatcher process claims it
    and is killed (SIGKILL) while Twilio has not answered yet; a new dispatcher process takes
    the row once the dead claim's lease is over: exactly one SMS, nothing lost."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.support.environment import ROOT, base_env

    hanging, release = threading.Event(), threading.Event()

    def hang(_request: Any) -> Any:
        from werkzeug import Response

        hanging.set()
        release.wait(30)  # the process is killed meanwhile: this answer goes nowhere
        return Response("", status=503)

    twilio.server.expect_oneshot_request(TWILIO_MESSAGES, method="POST").respond_with_handler(hang)
    patch_status(OWNER[0], "approved")  # committed: status change + outbox row
    # The lease is never shorter than a send can take (2 × the provider timeout + 3 s).
    env = {**base_env(database), **twilio.env, "CIVICLINE_OUTBOX_LEASE_SECONDS": "4",
           "CIVICLINE_PROVIDER_TIMEOUT_SECONDS": "1", "CIVICLINE_OUTBOX_POLL_SECONDS": "0.2"}

    def dispatcher() -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "bot", "dispatch"], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)

    first = dispatcher()
    try:
        assert hanging.wait(60), "the dispatcher never called Twilio"
        os.killpg(first.pid, signal.SIGKILL)
    finally:
        first.wait(10)
        release.set()
    [row] = rows()
    assert row.status == "sending" and twilio.messages("Messages") == []
    second = dispatcher()
    try:
        deadline = time.monotonic() + 60
        while rows()[0].status != "sent" and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(10)
    [row] = rows()
    assert (row.status, row.attempts) == ("sent", 2)
    assert notifications.dispatch_due() == {}  # another round: nothing is due, nothing resent
    assert len(twilio.messages("Messages", To=OWNER[1])) == 1


def test_operators_list_and_retry_failures_from_the_command_line(
        twilio: Providers, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.cli.main import main

    unreachable_owner(OWNER[0])
    patch_status(OWNER[0], "approved")
    assert notifications.dispatch_due() == {"failed": 1}  # Twilio refused the number (21211)
    assert main(["outbox", "--status", "failed"]) == 0
    listed = capsys.readouterr().out
    assert "failed" in listed and OWNER[0] in listed and "21211" in listed
    assert main(["outbox", "--retry-failed"]) == 0
    assert "1 failed notification(s) queued again" in capsys.readouterr().out
    monkeypatch.setenv("TWILIO_API_BASE_URL", f"http://127.0.0.1:{free_port()}")  # unreachable
    get_settings.cache_clear()
    assert main(["dispatch", "--once"]) == 0  # the real sender: Twilio is unreachable
    assert "pending" in capsys.readouterr().out
    assert main(["outbox", "--json"]) == 0
    [line] = capsys.readouterr().out.strip().splitlines()[-1:]
    assert json.loads(line)["reference"] == OWNER[0]
