"""The widget's behaviour around the order path: consent revoked on the settings page, a phone-sized
screen, a reload, errors the API returns, the network going away, signed-out visitors and the keyboard."""

from __future__ import annotations

import itertools

import pytest

from consent.models import ConsentGrant, GrantStatus
from ordering.models import Message, OrderFlow
from tests.browser.conftest import SEED, Storefront, in_thread, screenshot
from tests.support.merchant_state import merchant_order_count

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_tasks")]


def test_after_revoking_the_ordering_grant_on_the_settings_page_the_widget_refuses_with_a_reason(
    shop, live_server, chromium
):
    store = Storefront(chromium.new_page(), live_server.url)
    store.sign_in("alice")

    # given alice revokes "Place orders for me" on the settings page, with a click
    store.page.get_by_role("link", name="What the assistant may do").click()
    store.page.get_by_role("button", name="Revoke: Place orders for me").click()
    store.page.get_by_text("Revoked: “Place orders for me”").wait_for()
    grant = in_thread(ConsentGrant.objects.filter(user=shop.alice, scope="place_orders").latest, "granted_at")
    assert grant.status == GrantStatus.REVOKED
    screenshot(store.page, "settings-revoked", full_page=True)

    # when she goes back to the shop and asks the assistant to order
    store.open_shop()
    store.open_chat()
    store.say(SEED)

    # then the widget shows what it would order, says it may not order for her and why, offers no Confirm,
    # and links to the settings page; nothing is ordered
    refusal = store.log.get_by_text("You revoked the assistant's permission to place orders").last
    refusal.wait_for()
    store.wait_until_idle()
    assert "settings page" in refusal.inner_text()
    blocked = store.log.locator(".oaw-message[data-kind=preview_blocked]").last
    assert blocked.get_by_role("link", name="Open your settings").get_attribute("href") == "/settings/"
    assert blocked.get_by_role("button", name="Confirm").count() == 0
    # the shop holds nothing for it (its flow was ended at once); after a reload, with the flow's status known
    # to the widget, the card still says why it cannot be placed, not "Cancelled"
    store.page.reload()
    store.panel.wait_for(state="visible")
    store.wait_until_idle()
    blocked = store.log.locator(".oaw-message[data-kind=preview_blocked]").last
    blocked.wait_for()
    assert blocked.get_by_role("link", name="Open your settings").is_visible()
    assert blocked.locator(".oaw-progress").is_hidden()
    assert merchant_order_count() == 0
    assert store.page.locator(".oaw-message[data-kind=flow_placed]").count() == 0
    screenshot(store.page, "revoked-refused")


def test_at_375_px_wide_the_panel_fits_the_screen_and_sending_works(shop, live_server, chromium):
    page = chromium.new_page(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    store = Storefront(page, live_server.url)
    store.sign_in("alice")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # the shop itself fits too
    screenshot(page, "375px-shop")

    store.open_chat()
    store.say("Buy the Blue Runner in size 42")

    preview = store.last_preview()
    preview.wait_for()
    panel = store.panel.bounding_box()
    assert panel["x"] >= 0 and panel["x"] + panel["width"] <= 375
    assert panel["y"] >= 0 and panel["y"] + panel["height"] <= 740
    box = preview.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 375
    # nothing in the panel is wider than the screen (no sideways scrolling)
    assert page.evaluate("(log => log.scrollWidth <= log.clientWidth)(document.querySelector('.oaw-log'))")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    send = store.send_button.bounding_box()
    assert send["x"] + send["width"] <= 375
    assert preview.get_by_role("button", name="Confirm").is_visible()
    screenshot(page, "375px")


def test_the_conversation_survives_a_reload_and_its_preview_can_still_be_confirmed(shop, live_server, chromium):
    store = Storefront(chromium.new_page(), live_server.url)
    store.sign_in("alice")
    store.open_chat()
    store.say("Buy the Blue Runner in size 42")
    store.last_preview().wait_for()
    conversation_id = store.conversation_id()
    shown = store.log.locator(".oaw-message").count()

    # when the page is reloaded
    store.page.reload()

    # then the panel comes back open with the same conversation, and the preview still works
    store.panel.wait_for(state="visible")
    store.last_preview().wait_for()
    store.wait_until_idle()
    assert store.conversation_id() == conversation_id
    assert store.log.locator(".oaw-message").count() == shown
    assert store.messages("customer").last.inner_text().endswith("Buy the Blue Runner in size 42")
    store.last_preview().get_by_role("button", name="Confirm").click()
    store.log.locator(".oaw-message[data-kind=flow_placed]").wait_for()
    assert merchant_order_count() == 1
    assert in_thread(OrderFlow.objects.filter(conversation_id=conversation_id).count) == 1
    screenshot(store.page, "after-reload")


def test_api_errors_limits_and_a_lost_network_are_told_to_the_person(shop, live_server, chromium, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"conversation_turns": "4/min"},
    }
    store = Storefront(chromium.new_page(), live_server.url)
    store.sign_in("alice")
    store.open_chat()
    alert = store.panel.get_by_role("alert")

    # a message over the length limit: the API's 400 message is shown, and the text is kept to shorten it
    store.input.fill("x" * 2001)
    store.send_button.click()
    alert.get_by_text("A message can be at most 2000 characters long; this one has 2001.").wait_for()
    assert store.input.input_value() == "x" * 2001

    # text that looks like markup is shown as text, never run or rendered
    store.say('<img src="/nowhere.png" onerror="window.__injected = 1"><b>bold?</b>')
    assert store.messages("customer").last.locator(".oaw-bubble").inner_text() == (
        '<img src="/nowhere.png" onerror="window.__injected = 1"><b>bold?</b>'
    )
    assert store.log.locator("img[src='/nowhere.png'], b").count() == 0
    assert store.page.evaluate("window.__injected === undefined")

    # the turn limit (4 a minute here; the too-long message counted too): 429, said in words, and Send waits
    store.say("hello")
    store.say("hello again")
    store.input.fill("and once more")
    store.send_button.click()
    alert.get_by_text("You're sending messages faster than I can answer").wait_for()
    assert store.send_button.is_disabled()
    assert in_thread(Message.objects.filter(text="and once more").count) == 0

    # the network goes away: the widget says so; when it is back, it says so and carries on
    store.page.context.set_offline(True)
    alert.get_by_text("You seem to be offline").wait_for()
    assert "oaw-offline" in store.panel.get_attribute("class")
    screenshot(store.page, "offline")
    store.page.context.set_offline(False)
    store.wait_until("() => !document.querySelector('.oaw-panel').classList.contains('oaw-offline')")
    assert not alert.is_visible()
    screenshot(store.page, "back-online")


def test_a_signed_out_visitor_is_asked_to_sign_in_instead_of_chatting(shop, live_server, chromium):
    store = Storefront(chromium.new_page(), live_server.url)
    store.open_shop()
    requests: list[str] = []
    store.page.on("request", lambda request: requests.append(request.url))

    store.launcher.click()

    store.panel.get_by_text("Sign in to chat").wait_for()
    assert not store.panel.get_by_label("Your message").is_visible()
    assert not any("/api/v1/" in url for url in requests)  # no conversation is opened for nobody
    store.panel.get_by_role("link", name="Sign in").click()
    store.page.wait_for_url("**/accounts/login/?next=/")
    screenshot(store.page, "signed-out-login")


def test_the_widget_works_from_the_keyboard(shop, live_server, chromium):
    store = Storefront(chromium.new_page(), live_server.url)
    store.sign_in("alice")

    # the launcher is reachable and opens the panel with Enter; focus lands in the message box
    launcher = store.page.locator(".oaw-launcher")  # hidden while the panel is open: the panel has Close
    store.launcher.focus()
    store.page.keyboard.press("Enter")
    store.panel.wait_for(state="visible")
    store.wait_until_idle()
    assert store.page.evaluate("document.activeElement.id") == "oaw-input"
    assert launcher.get_attribute("aria-expanded") == "true"

    # typing and Enter sends; the reply is added to the live log
    store.page.keyboard.type("Buy the Blue Runner in size 42")
    store.page.keyboard.press("Enter")
    store.last_preview().wait_for()
    store.wait_until_idle()
    assert store.log.get_attribute("aria-live") == "polite"
    assert store.page.evaluate("document.activeElement.id") == "oaw-input"

    # Escape closes the panel and gives focus back to the launcher
    store.page.keyboard.press("Escape")
    assert not store.panel.is_visible()
    assert store.page.evaluate("document.activeElement.classList.contains('oaw-launcher')")
    assert launcher.get_attribute("aria-expanded") == "false"
    screenshot(store.page, "keyboard-closed")


def test_the_widget_polls_for_events_and_backs_off_while_nothing_happens(shop, live_server, chromium):
    # The page runs on Playwright's clock, paused once the chat is open: the quiet seconds pass by moving it
    # forward a tenth of a second at a time (each look answered before it moves on), and each look is timed
    # on that clock, so a busy machine's slow answers cannot stretch one wait and not the next.
    page = chromium.new_page()
    page.clock.install()
    page.add_init_script(
        "(() => { const fetch = window.fetch; window.__looks = [];"
        "  window.fetch = function (url, ...rest) {"
        "    if (String(url).includes('/events/')) window.__looks.push(Date.now());"
        "    return fetch.call(this, url, ...rest); }; })()"
    )
    store = Storefront(page, live_server.url)
    store.sign_in("alice")
    looks = {"sent": 0, "answered": 0}

    def count(key):
        return lambda request: looks.__setitem__(key, looks[key] + 1) if "/events/" in request.url else None

    page.on("request", count("sent"))
    page.on("requestfinished", count("answered"))
    page.on("requestfailed", count("answered"))

    store.open_chat()
    page.clock.pause_at(page.evaluate("Date.now()") + 1)
    for _ in range(78):  # 7.8 s of the page's time
        page.clock.run_for(100)
        while looks["answered"] < looks["sent"]:
            page.wait_for_timeout(10)
    polls = [ms / 1000 for ms in page.evaluate("window.__looks")]

    # quiet: 1 s, then 2 s, then 4 s between looks (not a steady hammering)
    gaps = [later - earlier for earlier, later in itertools.pairwise(polls)]
    assert len(polls) >= 3, polls
    assert gaps == sorted(gaps), gaps
    assert gaps[-1] >= 1.8 * gaps[0], gaps
    screenshot(store.page, "polling-quiet")


def test_while_the_assistant_answers_send_is_disabled_and_a_typing_indicator_shows(shop, live_server, chromium):
    store = Storefront(chromium.new_page(), live_server.url)
    store.sign_in("alice")
    store.open_chat()
    # the shop answers its product search slowly, once: the turn takes a while
    shop.sandbox.add_fault("slow", operation="search", delay_ms=1200, times=1)

    store.input.fill("Buy the Blue Runner in size 42")
    store.input.press("Enter")

    typing = store.panel.locator(".oaw-typing")
    typing.wait_for(state="visible")
    assert store.send_button.is_disabled()
    assert store.log.get_attribute("aria-busy") == "true"
    assert store.panel.get_by_role("status").filter(has_text="The assistant is typing").count() == 1
    # the tests' browser prefers reduced motion (tests/support/browser.py): the dots stand still
    assert typing.locator(".oaw-dot").first.evaluate("dot => getComputedStyle(dot).animationName") == "none"
    store.input.press("Enter")  # an impatient second Enter sends nothing more
    store.last_preview().wait_for()
    store.wait_until_idle()
    assert not typing.is_visible()
    assert store.log.get_attribute("aria-busy") == "false"
    conversation_id = store.conversation_id()
    assert in_thread(Message.objects.filter(conversation_id=conversation_id, role="customer").count) == 1
    screenshot(store.page, "answered-after-typing")
