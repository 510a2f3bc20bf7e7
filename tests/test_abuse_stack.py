"""Abuse and cost control through the real webhooks (SPEC §6-§8), on a stack of its own whose
limits are low enough to reach: 3 messages a minute per sender, an SMS budget of 3 an hour,
SMS only to the US, 127.0.0.1 a trusted proxy (so X-Forwarded-For rotates the address).

Twilio's and Telegram's servers are the stand-ins (``providers``); everything else is real.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import pytest

from bot.devtools.clients import CallClient, SmsClient, TelegramClient, UssdClient
from tests.support.clients import channel_hooks
from tests.support.environment import ROOT, base_env
from tests.support.environment import STAFF_PASSWORD as PASSWORD
from tests.support.providers import Providers, sms_to
from tests.support.stack import Stack, running_stack
from tests.support.stack_data import make_staff, query, staffed
from tests.support.unique import phone as us_phone  # a US number (the allow-list is US)
from tests.support.unique import telegram_user
from tests.support.web import Browser, csrf, http

pytestmark = pytest.mark.stack

PER_SENDER = 3
PER_ADDRESS = 5  # REST callers (not Twilio or Telegram)
BUDGET = 3
T = TypeVar("T")


@pytest.fixture(scope="module")
def abuse_stack(tmp_path_factory: pytest.TempPathFactory,
                providers: Providers) -> Iterator[Stack]:
    env = {**providers.env, "CIVICLINE_RATE_PER_SENDER": str(PER_SENDER),
           "CIVICLINE_RATE_PER_ADDRESS": str(PER_ADDRESS),
           "CIVICLINE_SMS_BUDGET_PER_HOUR": str(BUDGET),
           "CIVICLINE_SMS_COUNTRIES": "US", "CIVICLINE_TRUSTED_PROXIES": "127.0.0.1",
           "CIVICLINE_LOGIN_FAILURES_PER_ADDRESS": "20"}
    with running_stack(tmp_path_factory.mktemp("abuse"), extra_env=env) as running:
        running.providers = providers
        yield running


def handoffs_of(stack: Stack, sender: str) -> list[tuple]:
    return query(stack, "SELECT status, urgent, reason FROM handoffs WHERE sender_id = :s",
                 s=sender)


# --- A. rate limits ---------------------------------------------------------------------------

def at_once(count: int, send: Callable[[int], T]) -> list[T]:
    """``count`` requests sent together (a flood: all counted before any turn is over)."""
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(send, range(count)))


def test_a_flood_from_one_sender_gets_one_polite_reply_then_silence(abuse_stack: Stack
                                                                     ) -> None:
    phone = us_phone()
    client = SmsClient(channel_hooks(abuse_stack), phone)
    client.send("hola")  # the person's language is Spanish from now on
    replies = at_once(PER_SENDER + 3, lambda _n: client.send("hola"))
    assert all(r.status == 200 and "<Response" in r.raw for r in replies)  # 200 for Twilio
    notices = [r.bodies for r in replies if r.bodies and r.bodies[0].startswith("Recibimos")]
    answered = [r.bodies for r in replies if r.bodies and not r.bodies[0].startswith("Recib")]
    silent = [r for r in replies if not r.bodies]
    assert len(answered) == PER_SENDER - 1  # with the first "hola": PER_SENDER turns
    [[notice]] = notices  # told once, in Spanish, with a number to call
    assert "+15550109999" in notice
    assert len(silent) == 3
    # Every message is recorded (the inbound row, with its person); the flood never reached
    # the assistant.
    [(person_id,)] = query(abuse_stack, "SELECT id FROM people WHERE phone = :p", p=phone)
    assert query(abuse_stack, "SELECT count(*) FROM inbound_messages WHERE person_id = :p",
                 p=person_id) == [(PER_SENDER + 4,)]
    assert query(abuse_stack, "SELECT count(*) FROM events WHERE sender_id = :s AND "
                 "type_name = 'user'", s=phone) == [(PER_SENDER,)]
    # STOP still works over the limit: carriers require it.
    stop = client.send("STOP")
    assert stop.status == 200 and len(stop.bodies) == 1  # the opt-out confirmation
    assert query(abuse_stack, "SELECT sms_opted_out FROM people WHERE id = :p",
                 p=person_id) == [(True,)]
    assert "Traceback" not in abuse_stack.full_logs()


def test_telegram_flood_is_told_once_then_silence(abuse_stack: Stack) -> None:
    user_id = telegram_user()
    client = TelegramClient(channel_hooks(abuse_stack), user_id, language_code="fr")
    assert client.send("bonjour")[0] == 200  # the person's language is French from now on
    outcomes = at_once(PER_SENDER + 2, lambda _n: client.send("bonjour"))
    assert all(status == 200 for status, _ in outcomes)
    throttled = [body for _, body in outcomes if body.get("throttled")]
    assert len(throttled) == 3
    notices = [r["text"] for body in throttled for r in body["replies"]]
    assert len(notices) == 1 and notices[0].startswith("Vous envoyez des messages trop vite")
    assert abuse_stack.providers is not None
    assert notices[0] in [m.get("text") for m in abuse_stack.providers.messages(
        "sendMessage", chat_id=user_id)]  # sent to the Telegram user who wrote


def test_a_caller_over_the_limit_hears_goodbye(abuse_stack: Stack) -> None:
    call = CallClient(channel_hooks(abuse_stack), us_phone())
    turn = call.start()
    for _ in range(PER_SENDER - 1):
        assert turn.status == 200 and turn.gather, turn.raw
        turn = call.press("1")
    assert turn.status == 200 and turn.gather, turn.raw  # the 5th step is still answered
    over = call.press("1")
    assert over.status == 200 and over.hangup and over.gather is None and over.says, over.raw


def test_a_ussd_session_over_the_limit_is_closed_with_the_notice(abuse_stack: Stack) -> None:
    ussd = UssdClient(channel_hooks(abuse_stack), us_phone())
    screen = ussd.dial()  # the language menu: one request of PER_SENDER
    for key in ("2", "9")[:PER_SENDER - 1]:
        assert screen.waits, screen.raw
        screen = ussd.answer(key)
    assert screen.waits, screen.raw
    over = ussd.answer("1")
    assert over.ends and over.text.startswith("Recibimos"), over.raw  # in Spanish, picked
    assert "+15550109999" in over.text
    assert ussd.resend().raw == over.raw  # the gateway again: the same screen


def rest(stack: Stack, sender: str, text: str, address: str) -> list[str]:
    """One REST message from ``address`` (through the trusted proxy's X-Forwarded-For)."""
    status, body, _ = http("POST", f"{stack.url}/webhooks/rest/webhook",
                           {"sender": sender, "message": text},
                           headers={"X-Forwarded-For": address})
    assert status == 200, (status, body)
    return [m.get("text", "") for m in body]


def test_rest_is_limited_per_sender_and_per_address(abuse_stack: Stack) -> None:
    replies = at_once(PER_SENDER + 2, lambda _n: rest(abuse_stack, "web-flood", "hello",
                                                      "192.0.2.50"))
    notices = [r for r in replies if r and r[0].startswith("You are sending messages too fast")]
    assert len(notices) == 1 and replies.count([]) == 1
    assert len([r for r in replies if r and r not in notices]) == PER_SENDER
    # Rotating sender ids from one address: the address's limit, one notice, then silence.
    replies = at_once(PER_ADDRESS + 3, lambda n: rest(abuse_stack, f"web-rotating-{n}",
                                                      "hello", "192.0.2.60"))
    refused = [n for n, r in enumerate(replies) if not r or r[0].startswith("You are sending")]
    assert len(refused) == 3
    assert sum(bool(replies[n]) for n in refused) == 1  # one notice, then silence
    assert rest(abuse_stack, "web-other", "hello", "192.0.2.61")  # another address is fine
    # The refused ones never reached the assistant, and made no person.
    for n in refused:
        assert query(abuse_stack, "SELECT count(*) FROM events WHERE sender_id = :s",
                     s=f"web-rotating-{n}") == [(0,)]
        assert query(abuse_stack, "SELECT count(*) FROM people WHERE external_id = :s",
                     s=f"web-rotating-{n}") == [(0,)]


def test_sms_pumping_through_a_hand_off_sends_nothing(abuse_stack: Stack) -> None:
    """A distressed message inside a hand-off, from a premium number abroad: the emergency
    numbers are in the reply to that message; nothing goes out by Twilio's REST API."""
    premium = "+447012345678"  # a UK personal-numbering (premium-rate) number
    client = SmsClient(channel_hooks(abuse_stack), premium)
    with staffed(abuse_stack, True):
        queued = client.send("I want to talk to a person")
        assert queued.status == 200 and "in line" in " ".join(queued.bodies), queued.bodies
        told = client.send("I want to kill myself")
        assert told.status == 200
        assert len(told.bodies) == 1 and "911" in told.bodies[0] and "988" in told.bodies[0]
        again = client.send("I want to kill myself")
        assert again.status == 200 and again.bodies == []  # told once
        # Through REST as well (a claimed sender id): the numbers in the JSON reply.
        claimed = "+18765550123"  # Jamaica, +1 876
        abuse_stack.say(claimed, "I want to talk to a person")
        reply = abuse_stack.texts(claimed, "I want to kill myself")
        assert len(reply) == 1 and "911" in reply[0]
        abuse_stack.texts(claimed, "I want to kill myself")
    assert sms_to(abuse_stack, premium) == []
    assert sms_to(abuse_stack, claimed) == []
    assert handoffs_of(abuse_stack, premium) == [("waiting", True, "request_human")]
    assert handoffs_of(abuse_stack, claimed) == [("waiting", True, "request_human")]
    assert query(abuse_stack, "SELECT count(*) FROM held_messages WHERE recipient IN (:a, :b)",
                 a=premium, b=claimed) == [(0,)]  # not even attempted


# --- A. outbound budget and allow-list ---------------------------------------------------------

def outreach(stack: Stack, phone: str) -> tuple[int, dict]:
    return stack.api("POST", "/api/outreach", {"phone": phone, "task": "status",
                                               "language": "en"})


def held(stack: Stack) -> list[tuple[str, str]]:
    return query(stack, "SELECT recipient, reason FROM held_messages ORDER BY id")


def test_a_number_outside_the_allow_list_is_held(abuse_stack: Stack) -> None:
    foreign = "+33612345678"
    status, body = outreach(abuse_stack, foreign)
    assert status == 502 and body["delivered"] is False, body
    assert "CIVICLINE_SMS_COUNTRIES" in body["error"]
    assert sms_to(abuse_stack, foreign) == []
    assert (foreign, "country") in held(abuse_stack)


def test_messages_beyond_the_hourly_budget_are_held_and_shown(abuse_stack: Stack) -> None:
    hour = dt.datetime.now().hour
    phones = [us_phone() for _ in range(BUDGET + 2)]
    outcomes = [outreach(abuse_stack, phone) for phone in phones]
    assert all(status == (200 if body["delivered"] else 502) for status, body in outcomes)
    by_phone = dict(zip(phones, (body["delivered"] for _, body in outcomes), strict=True))
    delivered = [phone for phone, ok in by_phone.items() if ok]
    refused = [phone for phone, ok in by_phone.items() if not ok]
    sent = sum(len(sms_to(abuse_stack, phone)) for phone in phones)
    if dt.datetime.now().hour == hour:  # (a new clock hour starts a new budget)
        assert sent <= BUDGET and refused, (sent, outcomes)
    assert all(sms_to(abuse_stack, phone) == [] for phone in refused)
    assert {(phone, "budget") for phone in refused} <= set(held(abuse_stack))
    assert delivered and all(sms_to(abuse_stack, p) for p in delivered)
    # Staff see it: the console's held-back page and `python -m bot outbox`.
    browser = Browser(abuse_stack.url)
    assert browser.login(make_staff(abuse_stack, "held-viewer"))[0] == 303
    status, page, _ = browser.get("/console/held")
    assert status == 200
    assert f"{len(refused)} over the budget" in page and "1 to a country not allowed" in page
    assert refused[0] in page
    result = subprocess.run([sys.executable, "-m", "bot", "outbox", "--held"], cwd=ROOT,
                            env=base_env(abuse_stack.database_url), capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert f"held back (24 h): {len(refused)} over the hourly SMS budget, 1 to a country " \
           "not allowed" in result.stdout


# --- B. staff access ---------------------------------------------------------------------------

def test_a_login_flood_from_rotating_addresses(abuse_stack: Stack) -> None:
    name = make_staff(abuse_stack, "flooded-agent")
    owner = Browser(abuse_stack.url)
    assert owner.login(name)[0] == 303  # the real agent's browser, earlier in the day
    attacker = Browser(abuse_stack.url)
    outcomes: Counter = Counter()
    for number in range(40):
        _, page, _ = attacker.get("/console/login")
        status, _, _ = attacker.request(
            "POST", "/console/login",
            {"csrf_token": csrf(page), "username": name, "password": f"guess {number}",
             "next": "/console"},
            headers={"X-Forwarded-For": f"198.51.100.{number}"})
        outcomes[status] += 1
    # 40 tries from 40 addresses within a minute: 5 were checked, the rest had to wait.
    assert outcomes == Counter({401: 5, 429: 35}), outcomes
    assert query(abuse_stack, "SELECT count(DISTINCT ip) FROM staff_login_failures "
                 "WHERE username = :n", n=name) == [(5,)]
    # The real agent, from the browser that logged in before, is not locked out.
    status, _, headers = owner.request(
        "POST", "/console/login",
        {"csrf_token": csrf(owner.get("/console/login")[1]), "username": name,
         "password": PASSWORD, "next": "/console"},
        headers={"X-Forwarded-For": "192.0.2.44"})
    assert status == 303 and headers["Location"] == "/console"


def test_hsts_only_on_https(abuse_stack: Stack) -> None:
    _, _, plain = http("GET", f"{abuse_stack.url}/console/login")
    assert "Strict-Transport-Security" not in plain
    _, _, secure = http("GET", f"{abuse_stack.url}/console/login",
                        headers={"X-Forwarded-Proto": "https"})
    assert secure["Strict-Transport-Security"].startswith("max-age=31536000")


def test_hsts_not_from_an_untrusted_caller(stack: Stack) -> None:
    """The shared stack trusts no proxy: a caller's X-Forwarded-Proto is not believed."""
    _, _, headers = http("GET", f"{stack.url}/console/login",
                         headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in headers


def test_the_audit_chain_of_a_live_stack_verifies(abuse_stack: Stack) -> None:
    result = subprocess.run([sys.executable, "-m", "bot", "audit", "verify"], cwd=ROOT,
                            env=base_env(abuse_stack.database_url), capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0 and "OK" in result.stdout, result.stdout + result.stderr
    assert query(abuse_stack, "SELECT count(*) FROM audit_log WHERE hash IS NULL") == [(0,)]
