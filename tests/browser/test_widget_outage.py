"""The chat widget during a PostgreSQL outage: it says what the API says, waits, tries again, and carries on.

The whole site runs as deployed (gunicorn, production settings) on a PostgreSQL and a Redis that this
test started (tests/support/private_servers.py), with turns answered inside the request so no worker is
needed; the test stops that PostgreSQL while alice is chatting and starts it again. Nothing is mocked:
the 503s are the server's own. The page runs on Playwright's clock (time flows as usual), so that the wait
the API asks for (Retry-After: 5) passes by moving the page's clock forward instead of waiting it out.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import TIMEOUT_MS, Storefront, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

OUTAGE_WORDS = "We're having a brief technical problem on our side and couldn't finish that."
RETRY_AFTER_MS = 5_000  # the API's Retry-After during an outage (API_OUTAGE_RETRY_AFTER_SECONDS)


def storefront(chromium, site) -> Storefront:
    page = chromium.new_page()
    page.clock.install()
    return Storefront(page, site.url)


def test_during_a_database_outage_the_widget_shows_the_apis_message_and_sends_the_message_once_it_is_back(
    private_site, chromium
):
    site = private_site(turns_inline=True)
    store = storefront(chromium, site)
    store.add_cookies(site.sign_in("alice").cookies.get_dict())  # signed in at /accounts/login/
    store.open_shop()
    store.open_chat()
    alert = store.panel.get_by_role("alert")
    status = store.panel.locator(".oaw-status")

    # when: the database goes away while alice writes
    site.postgres.stop(mode="immediate")
    store.input.fill("hello")
    store.send_button.click()

    # then: she reads the API's own words, the widget says it will try again, and her words stay
    alert.get_by_text(OUTAGE_WORDS).wait_for()
    store.wait_until("() => /Trying again in 5 seconds/.test(document.querySelector('.oaw-status').textContent)")
    assert store.send_button.is_disabled()
    assert store.input.input_value() == "hello"
    assert store.messages("customer").count() == 0
    screenshot(store.page, "outage")

    # when: the database is back, and no one touches anything (but the clock: the widget's wait passes)
    site.postgres.start()
    store.page.clock.fast_forward(RETRY_AFTER_MS)

    # then: the widget's own retry sends the message (once) and the assistant answers it
    store.messages("customer").get_by_text("hello").wait_for(timeout=TIMEOUT_MS * 2)
    store.messages("assistant").nth(1).wait_for(timeout=TIMEOUT_MS * 2)
    store.wait_until_idle()
    assert not alert.is_visible()
    assert "Trying again" not in status.inner_text()
    assert store.input.input_value() == ""
    assert store.messages("customer").count() == 1
    screenshot(store.page, "outage-recovered")

    # the server stored one message and one turn for it: the retries were the same request
    stored = site.sign_in("alice").get(f"{site.url}/api/v1/conversations/{store.conversation_id()}/", timeout=30)
    customer_messages = [m for m in stored.json()["messages"] if m["role"] == "customer"]
    assert [m["text"] for m in customer_messages] == ["hello"]
    store.assert_no_outside_requests()


def test_opening_the_chat_during_an_outage_waits_for_the_shop_and_then_greets(private_site, chromium):
    site = private_site(turns_inline=True)
    store = storefront(chromium, site)
    store.add_cookies(site.sign_in("alice").cookies.get_dict())  # signed in at /accounts/login/
    store.open_shop()

    site.postgres.stop(mode="immediate")
    store.launcher.click()
    store.panel.get_by_role("alert").get_by_text(OUTAGE_WORDS).wait_for()
    assert store.messages("assistant").count() == 0

    site.postgres.start()
    store.page.clock.fast_forward(RETRY_AFTER_MS)
    store.messages("assistant").first.wait_for(timeout=TIMEOUT_MS * 2)
    store.wait_until_idle()
    assert not store.panel.get_by_role("alert").is_visible()
    store.assert_no_outside_requests()
