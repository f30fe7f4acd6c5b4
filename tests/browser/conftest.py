"""Fixtures of the browser suite: Debian's Chromium driven by Playwright, a page that fails the test on
any console error or page error (unless the test says which ones it expects)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Playwright, sync_playwright

from tests.browser.browser_kit import CHROMIUM_ARGS, chromium_path, missing_tools


@pytest.fixture
def playwright_driver(_swoosh_target: dict[str, Any]) -> Iterator[Playwright]:
    """Playwright's sync driver runs an event loop in this thread, and a swoosh server starts its own
    loop from the calling thread (emulator/serving.py), which fails while Playwright's runs. So the
    plugin's stack is started first, and the driver lives for one test only: later tests in the same
    worker start servers of their own. A test starting a `Stack` of its own must do so before `page`."""
    why = missing_tools()
    if why:
        pytest.skip(f"browser tests skipped: {why}")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture
def browser_context(playwright_driver: Playwright, tmp_path: Path) -> Iterator[BrowserContext]:
    """A fresh Chromium with a fresh user-data dir: nothing (cookies, localStorage) carries between tests."""
    context = playwright_driver.chromium.launch_persistent_context(
        str(tmp_path / "chromium-profile"),
        executable_path=chromium_path(),
        headless=True,
        args=CHROMIUM_ARGS,
    )
    try:
        yield context
    finally:
        context.close()


class ConsoleWatch:
    """Console errors and uncaught page errors; the ones a test expects are matched by regex and allowed."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.expected: list[re.Pattern[str]] = []

    def expect(self, pattern: str) -> None:
        self.expected.append(re.compile(pattern))

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text} ({message.location.get('url', '')})")

    def on_page_error(self, error: Exception) -> None:
        self.errors.append(f"page error: {error}")

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in self.expected)]


@pytest.fixture
def console() -> ConsoleWatch:
    return ConsoleWatch()


@pytest.fixture
def page(browser_context: BrowserContext, console: ConsoleWatch) -> Iterator[Page]:
    """A tab that fails the test on any console error or page error it did not declare with `console.expect`."""
    tab = browser_context.pages[0] if browser_context.pages else browser_context.new_page()
    tab.on("console", console.on_console)
    tab.on("pageerror", console.on_page_error)
    yield tab
    unexpected = console.unexpected()
    if unexpected:
        pytest.fail("the page logged errors:\n  " + "\n  ".join(unexpected), pytrace=False)
