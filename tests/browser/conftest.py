"""Browser harness: Debian's Chromium driven by Playwright against a live Django server.

Fixtures:
- `browser`: one headless Chromium per session (/usr/bin/chromium, never a
  downloaded one).
- `visitor`: a fresh page at a laptop's 1440×900 wrapped in `Visitor`, which
  fails the test on any JavaScript error, console error, failed request or
  response >= 400 (page or asset), and on a page (or an admin changelist) wider
  than the window, and keeps a full-page screenshot of every page visited in
  the test's artifacts folder (test-artifacts/<test name>/).
- `ops_visitor`: the same, logged in as an Operations Manager through the real
  login form.

Tests using these are marked @pytest.mark.browser and run on the live server
(committed data: `live_server` implies a transactional database).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 15_000
LAPTOP_VIEWPORT = {"width": 1440, "height": 900}
# The admin puts a changelist's table in a box that scrolls sideways
# (#changelist .results), so the page itself never gets wider: measure both.
OVERFLOW_SCRIPT = """() => {
    const window_width = document.documentElement.clientWidth;
    const found = [];
    if (document.documentElement.scrollWidth > window_width) {
        found.push(`page is ${document.documentElement.scrollWidth}px wide`);
    }
    for (const box of document.querySelectorAll('#changelist .results')) {
        if (box.scrollWidth > box.clientWidth) {
            found.push(`changelist is ${box.scrollWidth}px wide in a ${box.clientWidth}px box`);
        }
    }
    return found.map(what => `${what}, window ${window_width}px`);
}"""
ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on the main thread, where the test's
    # own ORM calls run; Django's async-safety check would refuse them (see
    # "Async safety" in Django's docs, which names this case).
    previous = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    try:
        with sync_playwright() as p:
            chromium = p.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop(ASYNC_UNSAFE, None)
        else:
            os.environ[ASYNC_UNSAFE] = previous


class Visitor:
    """A page that records every error and screenshots every page it lands on."""

    def __init__(self, page: Any, base_url: str, artifacts: Path) -> None:
        self.page = page
        self.base_url = base_url.rstrip("/")
        self.artifacts = artifacts
        self.errors: list[str] = []
        self.screenshots: list[Path] = []
        self.loads = 0
        page.set_default_timeout(TIMEOUT_MS)
        page.on("pageerror", lambda exc: self.errors.append(f"JavaScript error: {exc}"))
        page.on("console", self._console)
        page.on("response", self._response)
        page.on("requestfailed", self._failed)
        page.on("load", self._loaded)

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(f"console error: {message.text}")

    def _response(self, response: Any) -> None:
        if response.status >= 400:
            self.errors.append(f"HTTP {response.status}: {response.url}")

    def _failed(self, request: Any) -> None:
        # A page's own fetch cut short because the page was left is no failed asset.
        if request.resource_type in ("fetch", "xhr") and request.failure == "net::ERR_ABORTED":
            return
        self.errors.append(f"request failed: {request.url}")

    def _loaded(self, _page: Any) -> None:
        self.loads += 1

    def goto(self, path: str) -> Any:
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        response = self.page.goto(url, wait_until="load")
        self.landed()
        return response

    def follow(self, locator: Any) -> None:
        """Click a link or button that leads to another page, and check that page."""
        with self.page.expect_navigation(wait_until="load"):
            locator.click()
        self.landed()

    def landed(self) -> None:
        self.screenshot()
        self.errors += [f"too wide: {what}" for what in self.page.evaluate(OVERFLOW_SCRIPT)]
        self.check()

    def screenshot(self) -> Path:
        path = self.page.url.removeprefix(self.base_url)
        slug = re.sub(r"[^A-Za-z0-9]+", "-", path).strip("-")[:80] or "root"
        target = self.artifacts / f"{len(self.screenshots) + 1:02d}-{slug}.png"
        self.page.screenshot(path=str(target), full_page=True)
        self.screenshots.append(target)
        return target

    def log_in(self, username: str, password: str) -> None:
        """Through the admin's own login form, as a person would."""
        self.goto("/admin/login/?next=/admin/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", password)
        self.follow(self.page.locator("input[type=submit]"))
        assert self.page.url.endswith("/admin/"), f"login failed, at {self.page.url}"

    def check(self) -> None:
        errors, self.errors = self.errors, []
        if errors:
            pytest.fail("browser reported errors:\n" + "\n".join(errors), pytrace=False)


@pytest.fixture
def visitor(
    browser: Any, live_server: Any, artifacts_dir: Path, settings: Any
) -> Iterator[Visitor]:
    # The live server speaks plain HTTP: cookies marked Secure would not come back.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    for old in artifacts_dir.glob("*.png"):
        old.unlink()
    context = browser.new_context(viewport=LAPTOP_VIEWPORT)
    page = context.new_page()
    visit = Visitor(page, live_server.url, artifacts_dir)
    try:
        yield visit
        # A page reached some other way than goto/follow still gets its screenshot.
        if visit.loads > len(visit.screenshots):
            visit.screenshot()
        visit.check()
    finally:
        context.close()


@pytest.fixture
def ops_visitor(visitor: Visitor, transactional_db: None) -> Visitor:
    """Logged in through the admin's login form as a (view-only) Operations Manager.

    For flows that need more (consent actions, pausing a broadcast), make the user
    with tests.ops.factories.ops_manager(extra_permissions=...) and call
    visitor.log_in(user.username, OPS_PASSWORD) instead.
    """
    from tests.ops.factories import OPS_PASSWORD, ops_manager

    user = ops_manager("opsmanager")
    visitor.log_in(user.username, OPS_PASSWORD)
    return visitor
