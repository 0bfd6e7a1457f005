"""Browser tests of the chat widget, the storefront and the settings page in headless Chromium.

They run the real stack: pytest-django's live server serves the site and the sandbox merchant (`shop`),
Celery tasks run in-process (`eager_tasks`, so a confirmation places the order within the request), and
Playwright drives the system's Chromium (`chromium`, tests/support/browser.py: one Chromium per pytest process,
fresh contexts per test). Django refuses ORM calls from the thread where Playwright's sync API runs its
event loop, so tests read and write the database through `in_thread`. Customers sign in with a session made server-side
(`Storefront.sign_in`), exactly what the login form leaves in the browser; the tests about signing in
use the form (`Storefront.sign_in_through_the_form`, tests/browser/test_staff_sign_in.py).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.core.cache import cache

from tests.ordering.conftest import shop  # noqa: F401 - fixtures reused as they are
from tests.support.kept_connections import connections_release_all
from tests.support.services import ARTIFACTS_DIR

SEED = "Buy the blue running shoes I liked last week and apply my 10% promo"
PASSWORDS = {"alice": "alice-demo-2026", "bob": "bob-demo-2026"}
TIMEOUT_MS = 20_000
POLL_MS = 50  # how often `Storefront.wait_until` looks


def in_thread(function, *args, **kwargs):
    """Run an ORM call in a worker thread (Playwright's loop lives in the test's thread)."""

    def call():
        try:
            return function(*args, **kwargs)
        finally:
            connections_release_all()  # the next call's thread takes its PostgreSQL session

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()


def session_cookie(username: str) -> str:
    """A signed-in session for the user, as the login form makes it (ModelBackend; user_logged_in is sent)."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    user = get_user_model().objects.get(username=username)
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client.cookies[settings.SESSION_COOKIE_NAME].value


@pytest.fixture(autouse=True)
def _fresh_throttle():
    # Turn throttling counts live in the shared cache (this run's own Redis db): start each test at zero.
    cache.clear()
    yield
    cache.clear()


def screenshot(page, name: str, *, full_page: bool = False) -> None:
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS_DIR / f"widget-{name}.png"), full_page=full_page)


class Storefront:
    """The customer's side: the shop page and its chat widget, driven as a person would."""

    def __init__(self, page, base_url: str) -> None:
        self.page = page
        self.base_url = base_url
        page.set_default_timeout(TIMEOUT_MS)
        self.outside_requests: list[str] = []
        page.on("request", self._watch)
        self.console_errors: list[str] = []
        page.on("pageerror", lambda error: self.console_errors.append(str(error)))

    def _watch(self, request) -> None:
        if not request.url.startswith((self.base_url, "data:", "about:")):
            self.outside_requests.append(request.url)

    def open_shop(self) -> None:
        self.page.goto(f"{self.base_url}/")

    def sign_in(self, username: str = "alice") -> None:
        """Signed in with a session made server-side, then on the shop: the browser holds what the login form
        would leave it (the session cookie; the shop sets the CSRF cookie), without the form's three page
        loads. For the tests about signing in: `sign_in_through_the_form`."""
        self.add_cookies({settings.SESSION_COOKIE_NAME: in_thread(session_cookie, username)})
        self.open_shop()

    def add_cookies(self, cookies) -> None:
        """Cookies (a name -> value mapping, e.g. a requests session's) for this site, in this page's context."""
        self.page.context.add_cookies(
            [{"name": name, "value": value, "url": self.base_url} for name, value in dict(cookies).items()]
        )

    def sign_in_through_the_form(self, username: str = "alice") -> None:
        """Through the real login form, from the shop's Sign in link."""
        self.open_shop()
        self.page.get_by_role("banner").get_by_role("link", name="Sign in").click()
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password").fill(PASSWORDS[username])
        self.page.get_by_role("button", name="Sign in").click()
        self.page.wait_for_url(f"{self.base_url}/")

    @property
    def launcher(self):
        return self.page.get_by_role("button", name="Chat with the ordering assistant")

    @property
    def panel(self):
        return self.page.get_by_role("dialog", name="Ordering assistant")

    @property
    def log(self):
        return self.panel.get_by_role("log")

    @property
    def input(self):
        return self.panel.get_by_label("Your message")

    @property
    def send_button(self):
        return self.panel.get_by_role("button", name="Send", exact=True)

    def open_chat(self) -> None:
        self.launcher.click()
        self.panel.wait_for(state="visible")
        # the greeting (or the stored conversation) is on screen and the composer is ready
        self.log.locator(".oaw-message").first.wait_for()
        self.wait_until_idle()

    def wait_until(self, expression: str, arg=None, *, timeout: float = TIMEOUT_MS) -> None:
        """Wait until the page's `expression` (called with `arg`) is truthy, looking every POLL_MS.

        (Playwright's default looks at every animation frame: headless Chromium then draws 60 frames a
        second for as long as the wait lasts, ~0.1 s of CPU per second of waiting.)
        """
        self.page.wait_for_function(expression, arg=arg, timeout=timeout, polling=POLL_MS)

    def wait_until_idle(self) -> None:
        self.wait_until("() => { const b = document.querySelector('.oaw-send'); return b && !b.disabled; }")

    def say(self, text: str) -> None:
        before = self.messages("customer").count()
        self.input.fill(text)
        self.input.press("Enter")
        self.wait_until("n => document.querySelectorAll('.oaw-log .oaw-customer').length > n", before)
        self.wait_until_idle()

    def messages(self, role: str):
        return self.log.locator(f".oaw-{role}")

    def last_preview(self):
        return self.log.locator(".oaw-preview").last

    def conversation_id(self) -> str:
        return self.page.evaluate(
            "() => Object.keys(localStorage).filter(k => k.startsWith('ordering-assistant:conversation:'))"
            ".map(k => localStorage.getItem(k))[0]"
        )

    def assert_no_outside_requests(self) -> None:
        assert self.outside_requests == [], self.outside_requests
        assert self.console_errors == [], self.console_errors
