"""The staff console in a real browser: Playwright for Python driving Debian's Chromium.

An agent logs in, sees a citizen who asked for a person appear in the queue without reloading,
opens the conversation with the keyboard, reads the transcript (new messages appear live),
replies (the Twilio stand-in receives the SMS), hands the conversation back, and the citizen's
next message is answered by the bot again. Also: a wrong password is refused, an agent cannot
open the admin page, and a page without a session goes to the login page. The screenshot of the
live conversation is saved as results/tmp/console.png (not committed: it changes every run).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.devtools.clients import SmsClient
from tests.support import browser as chromium
from tests.support.clients import channel_hooks
from tests.support.environment import STAFF_PASSWORD as PASSWORD
from tests.support.providers import sms_to
from tests.support.stack import Stack
from tests.support.stack_data import make_staff
from tests.support.unique import phone as new_phone

pytestmark = [pytest.mark.stack, pytest.mark.usefixtures("on_duty")]

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOT = ROOT / "results" / "tmp" / "console.png"

from playwright import sync_api  # noqa: E402  (a requirement: missing, the run fails)

expect = sync_api.expect


@pytest.fixture
def page(browser) -> Iterator:
    with chromium.tab(browser) as tab:
        yield tab


def log_in(page, stack: Stack, username: str, password: str = PASSWORD) -> None:
    chromium.log_in(page, stack.url, username, password)


def test_a_page_without_a_session_goes_to_login(stack: Stack, page) -> None:
    page.goto(f"{stack.url}/console/handoffs/1")
    expect(page).to_have_url(re.compile(r"/console/login\?next=/console/handoffs/1$"))
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()


def test_a_wrong_password_is_refused(stack: Stack, page) -> None:
    log_in(page, stack, make_staff(stack, "browser-refused"), "not my password")
    expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")
    expect(page).to_have_url(re.compile(r"/console/login"))
    expect(page.get_by_label("Username")).to_have_value("browser-refused")


def test_an_agent_cannot_open_the_admin_page(stack: Stack, page) -> None:
    log_in(page, stack, make_staff(stack, "browser-agent-2"))
    expect(page.get_by_role("heading", name="Queue")).to_be_visible()
    expect(page.get_by_role("link", name="Admin")).to_have_count(0)
    response = page.goto(f"{stack.url}/console/admin")
    assert response.status == 403
    expect(page.get_by_text("This page is for administrators.")).to_be_visible()


def test_an_agent_takes_an_sms_conversation_and_hands_it_back(stack: Stack, page) -> None:
    phone = new_phone()
    citizen = SmsClient(channel_hooks(stack), phone)
    log_in(page, stack, make_staff(stack, "browser-agent"))
    expect(page.get_by_role("heading", name="Queue")).to_be_visible()

    # The skip link comes first for keyboard users.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()

    # A citizen texts for a person: the row appears while the page stays as it is.
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.notReloaded = true")
    asked = citizen.send("hola, quiero hablar con una persona por favor")
    assert any("Le paso con una persona" in body for body in asked.bodies), asked.bodies
    row = page.get_by_role("row").filter(has_text=phone)
    expect(row).to_be_visible()
    expect(row).to_contain_text("Spanish")
    expect(row).to_contain_text("SMS")
    assert page.evaluate("window.notReloaded") is True
    expect(page.locator("#queue-summary")).to_contain_text("waiting")
    page.screenshot(path=str(SCREENSHOT.with_name("console-queue.png")), full_page=True)

    # Open it with the keyboard.
    link = row.get_by_role("link", name=re.compile(r"Open conversation \d+"))
    link.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=re.compile(r"Conversation \d+"))).to_be_visible()
    transcript = page.get_by_role("log")
    expect(transcript).to_contain_text("quiero hablar con una persona")
    expect(transcript).to_contain_text("Le paso con una persona")  # the bot's queue message

    # The citizen texts again: the bot is silent, the message appears without reloading.
    assert citizen.send("tengo un problema con mi solicitud de vivienda").bodies == []
    expect(transcript).to_contain_text("tengo un problema con mi solicitud de vivienda")

    # Take it, pick a canned reply in Spanish, send it.
    page.get_by_role("button", name="Take this conversation").click()
    expect(page.get_by_role("status").first).to_contain_text("You have taken this conversation")
    page.get_by_label("Canned replies in Spanish").select_option(label="Hola")
    page.get_by_role("button", name="Use this reply").click()
    reply_box = page.get_by_label(re.compile("Reply to the citizen"))
    expect(reply_box).to_be_focused()
    expect(reply_box).to_have_value(re.compile("le puedo ayudar"))
    reply_box.fill("Hola, soy Marta. ¿Cuál es su número de caso?")
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_role("status").first).to_have_text("Your reply was sent.")
    assert sms_to(stack, phone) == ["Hola, soy Marta. ¿Cuál es su número de caso?"]
    expect(page.get_by_role("log")).to_contain_text("Agent browser-agent")

    page.get_by_label("Internal note").fill("Housing application, needs a call back.")
    page.get_by_role("button", name="Save note").click()
    expect(page.get_by_role("log")).to_contain_text("Housing application, needs a call back.")

    # The citizen answers; the agent sees it live. This is the screenshot.
    assert citizen.send("Es el 4021 7382, gracias").bodies == []
    expect(page.get_by_role("log")).to_contain_text("Es el 4021 7382, gracias")
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    # Hand back to the bot: the citizen is told, and the bot answers their next SMS.
    page.get_by_role("button", name="Hand back to the bot").click()
    expect(page.get_by_role("status").first).to_contain_text("back with the assistant")
    assert sms_to(stack, phone)[1].startswith("Vuelve a hablar con el asistente")
    assert citizen.send("hola").bodies, "the bot should answer again"
