"""Browser tests: Playwright's sync API driving Debian's Chromium against pytest-django's live_server.

Skipped when no Chromium is installed; a failure under REQUIRE_SERVICES=1 (CI).
"""
import os
from pathlib import Path

# Playwright's sync API runs an event loop in this thread; the Django calls the tests make
# (factories, reading the outbox) are ordinary blocking code, so allow them.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import pytest  # noqa: E402

from tests.services import chromium_path  # noqa: E402

LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--no-first-run"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PASSWORD = "pass12345!"  # tests.factories.UserFactory


@pytest.fixture(scope="session")
def browser():
    path = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=path, args=LAUNCH_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def new_page(browser):
    """new_page(viewport=...) -> a page in its own browser context (its own cookies)."""
    contexts = []

    violations = []

    def make(viewport=DESKTOP):
        context = browser.new_context(viewport=viewport)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        # Every page must pass the Content-Security-Policy: a blocked script or style fails the test.
        page.on("console", lambda msg: violations.append(msg.text)
                if "Content Security Policy" in msg.text or "Content-Security-Policy" in msg.text else None)
        return page

    yield make
    for context in contexts:
        context.close()
    assert violations == [], violations


@pytest.fixture
def screenshot():
    """screenshot(page, "name") saves docs/screenshots/name.png (the README's pictures)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def save(page, name):
        # Only refresh the committed README pictures when asked (SAVE_SCREENSHOTS=1), so a test
        # run leaves the work tree clean; the screenshot is still taken, so the page must render.
        if os.environ.get("SAVE_SCREENSHOTS") == "1":
            page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
        else:
            page.screenshot()

    return save


def login(page, base_url, user):
    page.goto(f"{base_url}/account/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_load_state()
