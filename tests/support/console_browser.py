"""The console in a real browser: Debian's Chromium driven by Playwright for Python (never a
downloaded browser), and logging in as a staff member."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.support.environment import STAFF_PASSWORD

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]
TIMEOUT_MS = 15_000


@contextmanager
def chromium() -> Iterator[Any]:
    """A launched Chromium (closed afterwards); fails clearly when it is not installed."""
    from playwright import sync_api

    if not Path(CHROMIUM).exists():
        raise RuntimeError("Chromium is missing: `make browser-deps` installs it (apt)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def tab(browser: Any) -> Iterator[Any]:
    """A fresh page in its own context (no cookies shared with other tests)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def log_in(page: Any, base_url: str, username: str, password: str = STAFF_PASSWORD) -> None:
    page.goto(f"{base_url}/console/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
