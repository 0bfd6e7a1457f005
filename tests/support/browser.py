"""`chromium`: headless Chromium for a test, in fresh contexts of one browser per pytest process.

Loaded for the whole suite from `tests/conftest.py` (`pytest_plugins`): the browser tests (tests/browser/),
the staff login's smoke test and the settings page's tests in Chromium share it.

One Chromium per pytest process serves all its browser tests (launching one costs ~0.8 s of CPU and
1-2 s of wall time on these machines); each test gets fresh browser contexts (their own cookies,
storage, cache and clock), closed when it ends.
"""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from tests.support import services


class _PlaywrightSession:
    """Playwright's driver and one Chromium, started at the first browser test of this process.

    Playwright's sync API marks its event loop as running in this thread from its start to its stop, and
    Django refuses ORM calls while a loop runs. Other tests of the same pytest process use the ORM here,
    so the mark is set only while a browser test runs (`active`) and cleared between them.
    """

    def __init__(self) -> None:
        from playwright.sync_api import sync_playwright

        self._manager = sync_playwright()
        self.playwright = self._manager.start()
        self._loop = asyncio.get_running_loop()
        self.browser = self._launch()

    def _launch(self):
        return self.playwright.chromium.launch(
            executable_path=services.chromium_path(), args=services.chromium_args(), headless=True
        )

    def active(self, running: bool) -> None:
        asyncio._set_running_loop(self._loop if running else None)  # what Playwright itself sets and clears

    def usable_browser(self):
        if not self.browser.is_connected():  # crashed in an earlier test: start another
            self.browser = self._launch()
        return self.browser

    def stop(self) -> None:
        self.active(True)
        try:
            if self.browser.is_connected():
                self.browser.close()
        finally:
            self._manager.__exit__(None, None, None)
            self.active(False)


@pytest.fixture(scope="session")
def _playwright_session():
    session = _PlaywrightSession()
    session.active(False)
    yield session
    session.stop()


class TestBrowser:
    """The process' Chromium as one test sees it: the contexts (and pages) it opens are closed when it ends.

    `new_page()` opens a context of its own, as Playwright's `Browser.new_page()` does.
    """

    __test__ = False  # not a test class, whatever its name

    def __init__(self, browser) -> None:
        self._browser = browser
        self._contexts: list = []

    def new_context(self, **options):
        options.setdefault("reduced_motion", "reduce")  # the widget's typing dots stand still (docs/widget.md)
        context = self._browser.new_context(**options)
        self._contexts.append(context)
        return context

    def new_page(self, **options):
        return self.new_context(**options).new_page()

    def __getattr__(self, name: str):
        return getattr(self._browser, name)

    def close(self) -> None:
        from playwright.sync_api import Error

        for context in self._contexts:
            with contextlib.suppress(Error):  # the browser went away in the test; the next test starts another
                context.close()


@pytest.fixture
def chromium(_playwright_session):
    """Headless Chromium for this test (the system's browser, never a downloaded one), in fresh contexts.

    Playwright's loop is marked running in this thread while the test runs: read and write the database
    through `tests.browser.conftest.in_thread`.
    """
    _playwright_session.active(True)
    browser = TestBrowser(_playwright_session.usable_browser())
    try:
        yield browser
    finally:
        browser.close()
        _playwright_session.active(False)
