"""Debian's Chromium through Playwright for the browser tests, logging in to the console,
and axe-core (installed by `make browser-tools` from tools/browser/package-lock.json) run
on a page."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.support.environment import ROOT, STAFF_PASSWORD

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]
TOOLS = ROOT / "tools" / "browser" / "node_modules"
AXE = TOOLS / "axe-core" / "axe.min.js"
SEGMENTS_CALCULATOR = TOOLS / "sms-segments-calculator"
TIMEOUT_MS = 15_000  # the console polls every 3 s; a slow CI machine gets some slack
SERIOUS = ("serious", "critical")


@contextmanager
def chromium() -> Iterator[Any]:
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
def tab(browser: Any, **options: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB",
                                  **options)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def log_in(page: Any, url: str, username: str, password: str = STAFF_PASSWORD) -> None:
    page.goto(f"{url}/console/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now (the tab must
    bypass the console's CSP to inject it)."""
    if not AXE.exists():
        raise RuntimeError("axe-core is missing: `make browser-tools` installs it (npm ci)")
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("""async () => (await axe.run(document, {resultTypes: ['violations']}))
        .violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                               nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}))""")
    return [violation for violation in found if violation["impact"] in SERIOUS]
