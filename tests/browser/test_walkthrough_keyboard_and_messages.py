"""What the walkthrough found for keyboard users and in the widget's own words, in headless Chromium: the
assistant reached from the top of the page, a too-long message said without the field's name and a box that
counts, a signed-out chat that links to signing in, and a favicon of our own on every page."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings

from tests.browser.conftest import Storefront, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_tasks")]


def focused_name(page) -> str:
    return page.evaluate("() => (document.activeElement.innerText || document.activeElement.ariaLabel || '').trim()")


def test_a_keyboard_user_reaches_the_assistant_in_two_tabs_from_the_top(shop, live_server, chromium):
    store = Storefront(chromium.new_page(), live_server.url)
    store.sign_in("alice")

    # when she tabs from the top of the shop
    names = []
    for _ in range(2):
        store.page.keyboard.press("Tab")
        names.append(focused_name(store.page))

    # then the page's own skip link comes first and the assistant second, visible while focused
    assert names == ["Skip to content", "Open the assistant"]
    skip = store.page.get_by_role("button", name="Open the assistant")
    box = skip.bounding_box()
    assert box is not None and box["x"] >= 0 and box["width"] > 20
    screenshot(store.page, "skip-to-assistant")

    # and Enter opens the chat with the message box focused
    store.page.keyboard.press("Enter")
    store.panel.wait_for(state="visible")
    store.wait_until("() => document.activeElement && document.activeElement.id === 'oaw-input'")
    store.assert_no_outside_requests()


def test_a_too_long_message_is_said_in_plain_words_and_the_box_counts(shop, live_server, chromium, settings):
    store = Storefront(chromium.new_page(), live_server.url)
    store.sign_in("alice")
    store.open_chat()

    # the box says how many characters are left near the API's limit, and how many too many past it (a pasted
    # text is not cut)
    store.input.fill("x" * 1950)
    counter = store.panel.locator("#oaw-counter")
    assert counter.is_visible() and counter.inner_text() == "50 characters left"
    store.input.fill("x" * 2100)
    assert len(store.input.input_value()) == 2100
    assert counter.inner_text() == "100 characters too many: a message can be at most 2000 characters long."
    store.input.fill("buy shoes")
    assert counter.is_hidden()

    # a message the server refuses as too long is said without the field's name
    settings.ORDERING_MESSAGE_MAX_CHARS = 20
    store.input.fill("Buy the Blue Runner in size 42 please")
    store.send_button.click()
    alert = store.panel.get_by_role("alert")
    alert.wait_for()
    assert alert.inner_text() == "A message can be at most 20 characters long; this one has 37. Please shorten it."


def test_a_signed_out_chat_links_to_signing_in_and_back_to_the_page(shop, live_server, chromium):
    store = Storefront(chromium.new_page(), live_server.url)
    store.sign_in("alice")
    store.open_chat()

    # given she signed out in another tab
    store.page.context.clear_cookies(name=django_settings.SESSION_COOKIE_NAME)

    # when she sends a message
    store.input.fill("Buy the Blue Runner in size 42")
    store.send_button.click()

    # then she is told to sign in again, with a link that comes back to this page, and her words are kept
    alert = store.panel.get_by_role("alert")
    alert.wait_for()
    assert alert.inner_text().startswith("Please sign in again to keep chatting.")
    link = alert.get_by_role("link", name="Sign in")
    assert link.get_attribute("href") == "/accounts/login/?next=/"
    assert store.input.input_value() == "Buy the Blue Runner in size 42"
    link.click()
    store.page.get_by_label("Username").wait_for()
    assert store.page.url.endswith("/accounts/login/?next=/")


def test_every_page_has_our_favicon_and_no_request_for_one_fails(shop, live_server, chromium):
    page = chromium.new_page()
    failed: list[str] = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    for path in ("/", "/accounts/login/"):
        page.goto(f"{live_server.url}{path}")
        icon = page.locator("link[rel=icon]")
        href = icon.get_attribute("href")
        assert href and href.startswith("/static/"), href
        assert page.request.get(f"{live_server.url}{href}").status == 200
    page.wait_for_timeout(300)  # the browser's own favicon request, if it made one
    assert failed == []
