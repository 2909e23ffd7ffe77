"""End-to-end fixtures: the three services as real processes, headless Chromium, screenshots."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

from tests.e2e.processes import System, running_system
from tests.support.accounts import PASSWORD
from tests.support.processes import REPO_ROOT

SCREENSHOT_DIR = REPO_ROOT / "artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}


# Package scope, not session: Playwright's sync API keeps an event loop running while its
# browser lives, which would break every async test collected after this package.
@pytest.fixture(scope="package")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    """One running system shared by the browser tests that don't break anything."""
    with running_system(tmp_path_factory.mktemp("e2e-system")) as running:
        yield running


@pytest.fixture
def own_system(tmp_path: Path) -> Iterator[System]:
    """A system of its own, for a test that stops one of its services."""
    with running_system(tmp_path) as running:
        yield running


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Screenshots:
    """Full-page screenshots of every screen, for a reviewer, under artifacts/screenshots/."""

    directory: Path
    taken: list[Path] = field(default_factory=list)

    def take(self, page: Page, name: str) -> Path:
        path = self.directory / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)
        return path


@pytest.fixture(scope="session")
def screenshots() -> Screenshots:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    return Screenshots(SCREENSHOT_DIR)


def open_page(
    browser: Browser,
    base_url: str,
    viewport: ViewportSize,
    user: tuple[str, str] | None = ("tester", PASSWORD),
) -> tuple[Page, list[str]]:
    """A page in a fresh context, signed in as `user` (name, password; None: anonymous);
    uncaught script errors are collected so tests can fail on them."""
    context = browser.new_context(
        base_url=base_url,
        viewport=viewport,
        locale="en-US",
        timezone_id="UTC",
        # The accessibility scans inject axe-core; a Content-Security-Policy must not stop it.
        bypass_csp=True,
    )
    if user is not None:
        # The context's request client shares the browser's cookie jar: the page is signed in.
        answer = context.request.post("/auth/login", data={"name": user[0], "password": user[1]})
        assert answer.ok, answer.text()
    page = context.new_page()
    page.set_default_timeout(10_000)
    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(str(error)))
    page.on(
        "console",
        lambda message: (
            script_errors.append(message.text)
            if message.type == "error" and not re.search(r"Failed to load resource", message.text)
            else None
        ),
    )
    return page, script_errors


@pytest.fixture
def page(browser: Browser, system: System) -> Iterator[Page]:
    """A desktop-sized page on the shared system; the test fails on any uncaught script error."""
    page, script_errors = open_page(browser, system.web_url, DESKTOP)
    yield page
    page.context.close()
    assert script_errors == [], f"script errors in the page: {script_errors}"
