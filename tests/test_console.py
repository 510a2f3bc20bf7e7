"""The staff console over plain HTTP against the real stack: sessions, cookies, CSRF, login
throttling, roles, security headers, and each page and form (the browser tests drive it as a
person would; these check what a browser does not show)."""

from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request

import pytest

from tests.support.environment import STAFF_PASSWORD as PASSWORD
from tests.support.providers import sms_to
from tests.support.stack import Stack
from tests.support.stack_data import execute, make_staff, query
from tests.support.unique import phone as new_phone
from tests.support.web import Browser, csrf

pytestmark = [pytest.mark.stack, pytest.mark.usefixtures("on_duty")]


@pytest.fixture
def agent(stack: Stack) -> Browser:
    browser = Browser(stack.url)
    status, _, _ = browser.login(make_staff(stack, "console-agent"))
    assert status == 303
    return browser


@pytest.fixture
def admin(stack: Stack) -> Browser:
    browser = Browser(stack.url)
    assert browser.login(make_staff(stack, "console-admin", "admin"))[0] == 303
    return browser


@pytest.mark.parametrize("path", ["/console", "/console/admin", "/console/send",
                                  "/console/handoffs/1"])
def test_pages_without_a_session_redirect_to_login(stack: Stack, path: str) -> None:
    status, _, headers = Browser(stack.url).get(path)
    assert status == 303
    assert headers["Location"] == f"/console/login?next={urllib.parse.quote(path)}"


def test_background_refresh_without_a_session_is_401(stack: Stack) -> None:
    status, _, _ = Browser(stack.url).get("/console/queue",
                                                  headers={"X-Requested-With": "fetch"})
    assert status == 401


def test_login_sets_a_strict_cookie_and_logout_ends_it(stack: Stack) -> None:
    browser = Browser(stack.url)
    status, _, headers = browser.login(make_staff(stack, "cookie-agent"))
    assert status == 303 and headers["Location"] == "/console"
    assert sessions_of(stack, "cookie-agent") == 1
    cookie = next(v for v in headers.get_all("Set-Cookie") if "civicline_staff=" in v)
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # PUBLIC_BASE_URL is http in the tests
    status, page, headers = browser.get("/console")
    assert status == 200 and "cookie-agent" in page
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY" and headers["Cache-Control"] == "no-store"
    assert browser.post("/console/logout", {"csrf_token": csrf(page)})[0] == 303
    assert sessions_of(stack, "cookie-agent") == 0
    assert browser.get("/console")[0] == 303
    assert ("cookie-agent", "staff.logout") in query(
        stack, "SELECT actor, action FROM audit_log WHERE target = 'cookie-agent'")


def test_wrong_password_is_refused_and_throttled(stack: Stack) -> None:
    name = make_staff(stack, "throttled-agent")
    browser = Browser(stack.url)
    for _ in range(5):
        status, page, _ = browser.login(name, "wrong password")
        assert status == 401 and "Wrong username or password" in page
    status, page, _ = browser.login(name)  # even the right one, for a while
    assert status == 429 and "Too many failed attempts" in page
    status, page, _ = browser.login("nobody-at-all", "whatever")
    assert status == 401 and "Wrong username or password" in page
    refused = query(stack, "SELECT count(*) FROM audit_log WHERE action = "
                    "'staff.login_refused' AND target = :name", name=name)[0][0]
    assert refused == 6


def test_login_form_needs_its_csrf_token(stack: Stack) -> None:
    browser = Browser(stack.url)
    status, page, _ = browser.post("/console/login", {"username": "x", "password": "y",
                                                      "csrf_token": "forged"})
    assert status == 403 and "expired" in page


def test_login_never_redirects_off_site(stack: Stack) -> None:
    browser = Browser(stack.url)
    _, page, _ = browser.get("/console/login?next=https://evil.example/")
    status, _, headers = browser.post("/console/login", {
        "csrf_token": csrf(page), "username": make_staff(stack, "redirect-agent"),
        "password": PASSWORD, "next": "//evil.example/"})
    assert status == 303 and headers["Location"] == "/console"


def test_posts_without_the_csrf_token_are_refused(agent: Browser) -> None:
    status, page, _ = agent.post("/console/handoffs/1/claim", {"csrf_token": "forged"})
    assert status == 403 and "expired" in page
    assert agent.post("/console/send", {"phone": "+15550100001", "task": "status"})[0] == 403


def test_agents_cannot_open_the_admin_page(agent: Browser) -> None:
    status, page, _ = agent.get("/console/admin")
    assert status == 403 and "administrators" in page
    _, queue, _ = agent.get("/console")
    assert 'href="/console/admin"' not in queue
    status, _, _ = agent.post("/console/admin/hours", {"csrf_token": csrf(queue)})
    assert status == 403


def test_250_waiting_are_all_reachable_page_by_page(stack: Stack, agent: Browser) -> None:
    """The queue shows 100 rows of a table a page, with the API's cursors behind "Next 100
    waiting": 250 waiting conversations (and whoever else waits) are each on exactly one
    page, in queue order; a cursor that is not ours is a 422 with a reason."""
    import datetime as dt

    from bot.store.models import Handoff
    from tests.support.analytics_data import session_on
    from tests.support.unique import sender

    ours = [sender("queue250") for _ in range(250)]
    start = dt.datetime.utcnow() - dt.timedelta(hours=2)
    with session_on(stack.database_url) as session:
        session.add_all(Handoff(sender_id=who, channel="sms", language="en",
                                reason="request_human", status="waiting",
                                created_at=start + dt.timedelta(seconds=n))
                        for n, who in enumerate(ours))
    try:
        seen: list[str] = []
        path, pages = "/console", 0
        while path:
            status, html, _ = agent.get(path)
            assert status == 200, html
            waiting = html.split('id="waiting-heading"')[1].split('id="active-heading"')[0]
            rows = re.findall(r"<tr[^>]*>\s*<td>.*?</td>\s*<td>([^<]+)</td>", waiting, re.S)
            assert 0 < len(rows) <= 100
            seen += rows
            pages += 1
            found = re.search(r'<a href="([^"]+)" id="waiting-next"', waiting)
            path = found.group(1).replace("&amp;", "&") if found else None
            if path:
                status, fragment, _ = agent.get(path.replace("/console?", "/console/queue?"),
                                                headers={"X-Requested-With": "fetch"})
                assert status == 200 and f">{rows[-1]}<" not in fragment  # refresh: that page
        assert [who for who in seen if who.startswith("queue250-")] == ours  # all, in order
        assert len(seen) == len(set(seen)) and pages >= 3
        assert "First 100 waiting" in html
        status, refused, _ = agent.get("/console?waiting=not-a-cursor")
        assert status == 422 and "not one this API gave" in refused
    finally:
        execute(stack, "UPDATE handoffs SET status = 'resolved', resolution = 'resolved', "
                "closed_at = created_at WHERE sender_id LIKE 'queue250-%'")


def test_queue_conversation_and_actions(stack: Stack, agent: Browser) -> None:
    phone = new_phone()
    stack.texts(phone, "I need to speak to someone, I have nothing to eat")
    status, queue, _ = agent.get("/console")
    assert status == 200 and phone in queue
    handoff_id = int(re.search(rf"{re.escape(phone)}.*?/console/handoffs/(\d+)", queue,
                               re.S).group(1))
    status, fragment, _ = agent.get("/console/queue", headers={"X-Requested-With": "fetch"})
    assert status == 200 and phone in fragment and "Urgent" in fragment

    status, page, _ = agent.get(f"/console/handoffs/{handoff_id}")
    assert status == 200 and "I have nothing to eat" in page and "Distress words" in page
    token = csrf(page)
    base = f"/console/handoffs/{handoff_id}"
    assert agent.post(f"{base}/note", {"csrf_token": token, "text": "Food bank referral"}
                      )[0] == 303
    assert query(stack, "SELECT kind, author, text FROM handoff_notes WHERE handoff_id = :id",
                 id=handoff_id) == [("note", "console-agent", "Food bank referral")]
    status, page, _ = agent.post(f"{base}/note", {"csrf_token": token, "text": "  "})
    assert status == 422 and "empty" in page
    status, _, headers = agent.post(f"{base}/claim", {"csrf_token": token})
    assert status == 303 and headers["Location"].endswith("done=claimed#main")
    assert handoff_row(stack, handoff_id)[:3] == ("active", True, "console-agent")
    status, page, _ = agent.get(f"{base}?done=claimed")
    assert "You have taken this conversation" in page and "Food bank referral" in page
    assert "With console-agent (you)" in page
    status, transcript, _ = agent.get(f"{base}/transcript",
                                      headers={"X-Requested-With": "fetch"})
    assert status == 200 and transcript.strip().startswith("<li")
    assert agent.post(f"{base}/resolve", {"csrf_token": token})[0] == 303
    assert handoff_row(stack, handoff_id) == ("resolved", False, "console-agent", "resolved",
                                              "console-agent")
    status, page, _ = agent.post(f"{base}/resolve", {"csrf_token": token})
    assert status == 409 and "already resolved" in page
    actions = query(stack, "SELECT actor, action FROM audit_log WHERE target = :t "
                    "ORDER BY id", t=str(handoff_id))
    assert actions == [("assistant", "handoff.open"), ("console-agent", "handoff.view"),
                       ("console-agent", "handoff.note"), ("console-agent", "handoff.claim"),
                       ("console-agent", "handoff.view"), ("console-agent", "handoff.resolve")]
    assert agent.get("/console/handoffs/999999")[0] == 404


def test_send_a_citizen_to_the_bot_from_the_console(stack: Stack, agent: Browser) -> None:
    phone = new_phone()
    _, page, _ = agent.get("/console/send")
    status, page, _ = agent.post("/console/send", {"csrf_token": csrf(page), "phone": phone,
                                                   "task": "status", "language": "es"})
    assert status == 200 and f"to {phone} in Spanish" in page
    assert "número de caso" in sms_to(stack, phone)[0]
    status, page, _ = agent.post("/console/send", {"csrf_token": csrf(page),
                                                   "phone": "12", "task": "status"})
    assert status == 422 and "phone" in page


def test_admin_manages_accounts_hours_holidays_and_canned_replies(stack: Stack,
                                                                  admin: Browser) -> None:
    status, page, _ = admin.get("/console/admin")
    assert status == 200 and "Staffed hours" in page
    token = csrf(page)
    status, page, _ = admin.post("/console/admin/staff", {
        "csrf_token": token, "username": "new-agent-1", "role": "agent", "password": ""})
    assert status == 200
    password = re.search(r"<code>([^<]+)</code>", page).group(1)
    assert Browser(stack.url).login("new-agent-1", password)[0] == 303
    status, page, _ = admin.post("/console/admin/staff", {
        "csrf_token": token, "username": "new-agent-1", "role": "agent", "password": ""})
    assert status == 422 and "already" in page

    admin_id = query(stack, "SELECT id FROM staff_users WHERE username = "
                     "'console-admin'")[0][0]
    status, page, _ = admin.post(f"/console/admin/staff/{admin_id}", {
        "csrf_token": token, "role": "agent", "active": "yes"})
    assert status == 422 and "lock yourself out" in page
    assert query(stack, "SELECT role FROM staff_users WHERE id = :id", id=admin_id) == [
        ("admin",)]

    hours = {"csrf_token": token, **{f"opens_{d}": "00:00" for d in range(7)},
             **{f"closes_{d}": "24:00" for d in range(7)}}
    week = "SELECT weekday, opens, closes FROM staffed_hours ORDER BY weekday"
    before = query(stack, week)
    assert admin.post("/console/admin/hours", {**hours, "closes_2": "07:00", "opens_2": "09:00"}
                      )[0] == 422
    assert query(stack, week) == before  # nothing saved, not even the good days
    assert admin.post("/console/admin/hours", hours)[0] == 303
    assert query(stack, week) == [(day, "00:00", "24:00") for day in range(7)]
    assert admin.post("/console/admin/holidays", {"csrf_token": token, "day": "2099-12-25",
                                                  "name": "Winter break"})[0] == 303
    assert admin.post("/console/admin/holidays", {"csrf_token": token, "day": "25/12/2099"}
                      )[0] == 422
    [(holiday_id, holiday_name)] = query(stack, "SELECT id, name FROM staff_holidays WHERE "
                                         "day = '2099-12-25'")
    assert holiday_name == "Winter break"
    assert admin.post(f"/console/admin/holidays/{holiday_id}/delete",
                      {"csrf_token": token})[0] == 303
    assert query(stack, "SELECT id FROM staff_holidays WHERE id = :id", id=holiday_id) == []
    assert admin.post("/console/admin/canned", {"csrf_token": token, "language": "fr",
                                                "title": "Rappel", "text": "Je vous rappelle."}
                      )[0] == 303
    [(reply_id, language, text)] = query(stack, "SELECT id, language, text FROM canned_replies "
                                         "WHERE title = 'Rappel'")
    assert (language, text) == ("fr", "Je vous rappelle.")
    assert admin.post(f"/console/admin/canned/{reply_id}/delete", {"csrf_token": token}
                      )[0] == 303
    assert query(stack, "SELECT id FROM canned_replies WHERE id = :id", id=reply_id) == []
    actions = {a for (a,) in query(stack, "SELECT action FROM audit_log WHERE actor = "
                                   "'console-admin'")}
    assert {"staff.create", "hours.update", "holiday.add", "holiday.remove", "canned.add",
            "canned.remove"} <= actions


def sessions_of(stack: Stack, username: str) -> int:
    """Console sessions the database holds for ``username``."""
    return query(stack, "SELECT count(*) FROM staff_sessions s JOIN staff_users u ON "
                 "u.id = s.staff_id WHERE u.username = :name", name=username)[0][0]


def handoff_row(stack: Stack, handoff_id: int) -> tuple:
    """(status, paused, assignee, resolution, closed_by) of a hand-off in the database."""
    return query(stack, "SELECT h.status, h.paused, u.username, h.resolution, h.closed_by "
                 "FROM handoffs h LEFT JOIN staff_users u ON u.id = h.assignee_id "
                 "WHERE h.id = :id", id=handoff_id)[0]
