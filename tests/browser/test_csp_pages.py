"""The Content-Security-Policy in a real browser: the shop with its chat widget, the settings page, the
sign-in pages and the API docs run under it with no violation and no console error.

Chromium reports every blocked script, style, image or connection as a `securitypolicyviolation` event
and a console error; both are recorded from before the page's own scripts run.
"""

from __future__ import annotations

import pytest

from escalations.staff import staff_user_create
from tests.browser.conftest import Storefront, in_thread, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_tasks")]

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (event) => {
  const where = `${event.sourceFile}:${event.lineNumber}`;
  window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || 'inline'} at ${where}`);
});
"""


class Watched:
    """A page that records policy violations and console errors."""

    def __init__(self, page) -> None:
        self.page = page
        self.console_errors: list[str] = []
        page.add_init_script(RECORD_VIOLATIONS)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.console_errors.append(str(error)))

    def _console(self, message) -> None:
        # The browser asks every site for /favicon.ico on its own; we serve none, and that is no error.
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            self.console_errors.append(f"{message.text} ({message.location.get('url')})")

    def violations(self) -> list[str]:
        return self.page.evaluate("window.__cspViolations || []")

    def assert_clean(self) -> None:
        assert self.violations() == []
        assert self.console_errors == []


def test_the_shop_and_its_chat_widget_work_under_the_policy(shop, live_server, chromium):
    page = chromium.new_page()
    watched = Watched(page)
    store = Storefront(page, live_server.url)
    store.sign_in("alice")

    response = page.goto(f"{live_server.url}/")
    assert "script-src 'self' 'nonce-" in response.headers["content-security-policy"]
    # the widget's stylesheet applied (a blocked one leaves the launcher unstyled)
    assert store.launcher.evaluate("el => getComputedStyle(el).position") == "fixed"

    store.open_chat()
    store.say("Buy the Blue Runner in size 42")
    store.last_preview().wait_for()
    screenshot(page, "csp-widget")

    assert store.messages("assistant").count() >= 1
    assert "Blue Runner" in store.last_preview().inner_text()
    watched.assert_clean()
    store.assert_no_outside_requests()


def test_the_settings_page_and_customer_sign_in_work_under_the_policy(shop, live_server, chromium):
    page = chromium.new_page()
    watched = Watched(page)
    store = Storefront(page, live_server.url)

    store.sign_in_through_the_form("alice")
    response = page.goto(f"{live_server.url}/settings/")
    page.get_by_role("heading", level=1).wait_for()
    assert "script-src 'self' 'nonce-" in response.headers["content-security-policy"]
    # the site's stylesheet applied
    assert page.evaluate("getComputedStyle(document.body).fontFamily") != "Times New Roman"

    watched.assert_clean()


def test_the_staff_sign_in_works_under_the_policy(live_server, chromium):
    in_thread(staff_user_create, username="sam", password="correct-horse-battery-9", superuser=True)
    page = chromium.new_page()
    watched = Watched(page)

    response = page.goto(f"{live_server.url}/admin/login/")
    page.locator("input[name=username]").fill("sam")
    page.locator("input[name=password]").fill("correct-horse-battery-9")

    assert "script-src 'self' 'nonce-" in response.headers["content-security-policy"]
    assert page.evaluate("getComputedStyle(document.body).fontFamily") != "Times New Roman"
    watched.assert_clean()


def test_the_staff_console_works_under_the_policy(shop, live_server, chromium):
    from django_otp.oath import totp

    from escalations.services import escalation_open

    _user, device = in_thread(staff_user_create, username="sam", password="correct-horse-battery-9", superuser=True)
    escalation = in_thread(escalation_open, reason="customer_request", customer_id=shop.alice.pk, detail="help")
    page = chromium.new_page()
    watched = Watched(page)

    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    # Today the form asks for the device only after a first try ("Please select a device"; being fixed
    # on its own branch): choose it when the form shows the choice, and send the form again.
    for _attempt in range(2):
        page.locator("input[name=username]").fill("sam")
        page.locator("input[name=password]").fill("correct-horse-battery-9")
        if page.locator("select[name=otp_device]").count():
            page.locator("select[name=otp_device]").select_option(device.persistent_id)
        code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
        page.locator("input[name=otp_token]").fill(f"{code:0{device.digits}d}")
        page.locator("input[type=submit], button[type=submit]").first.click()
        page.wait_for_load_state()
        if page.url == f"{live_server.url}/admin/":
            break
    assert page.url == f"{live_server.url}/admin/", page.locator("#content").inner_text()

    pages = {
        "index": "/admin/",
        "escalation queue": "/admin/escalations/escalation/",
        "escalation detail": f"/admin/escalations/escalation/{escalation.pk}/change/",
        "audit log": "/admin/audit/auditevent/",
        "users": "/admin/auth/user/",
    }
    for name, path in pages.items():
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, name
        assert "script-src 'self' 'nonce-" in response.headers["content-security-policy"], name
        assert watched.violations() == [], name
    # the escalation pages' own styles (nonce'd <style> blocks) applied
    page.goto(f"{live_server.url}/admin/escalations/escalation/")
    assert page.locator(".esc-queue-summary").evaluate("el => getComputedStyle(el).display") == "flex"
    screenshot(page, "csp-escalation-queue")

    watched.assert_clean()


def test_the_api_docs_render_under_the_policy(shop, live_server, chromium):
    page = chromium.new_page()
    watched = Watched(page)
    store = Storefront(page, live_server.url)
    store.sign_in("alice")

    response = page.goto(f"{live_server.url}/api/docs/")
    assert "script-src 'self' 'nonce-" in response.headers["content-security-policy"]
    # Swagger UI started (its start-up script is a file) and read the schema
    page.get_by_text("Agentic ordering assistant API").first.wait_for()
    page.locator(".opblock").first.wait_for()
    screenshot(page, "csp-api-docs")

    watched.assert_clean()


def test_an_injected_inline_script_is_blocked_and_reported(shop, live_server, chromium):
    # The recorder above is live: what an HTML injection would add does not run, and shows up as a violation.
    page = chromium.new_page()
    watched = Watched(page)
    page.goto(f"{live_server.url}/")

    page.evaluate(
        """() => {
        const script = document.createElement('script');
        script.textContent = 'window.__injected = true';
        document.body.appendChild(script);
        const image = document.createElement('img');
        image.setAttribute('onerror', 'window.__injected = true');
        image.src = '/no-such-picture.png';
        document.body.appendChild(image);
    }"""
    )
    page.wait_for_function("window.__cspViolations.length >= 2")

    assert page.evaluate("window.__injected === undefined")
    assert all(violation.startswith("script-src") for violation in watched.violations())
