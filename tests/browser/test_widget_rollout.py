"""The chat widget and the rollout (#17), in headless Chromium: paused by the kill switch, or not available to
this customer in the current phase. Either way the customer reads why and gets the shop's own checkout."""

from __future__ import annotations

import pytest

from ordering.models import FlowStatus, OrderFlow, RolloutSettings
from ordering.rollout.access import NOT_AVAILABLE_TEXT, PAUSED_TEXT
from ordering.rollout.assignment import rollout_settings_forget
from ordering.rollout.services import kill_switch_set
from tests.browser.conftest import SEED, Storefront, in_thread, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_tasks")]


@pytest.fixture(autouse=True)
def _fresh_rollout_copy():
    # The live server runs in this process: it shares the settings copy, which each test starts and ends without.
    rollout_settings_forget()
    yield
    rollout_settings_forget()


def test_the_kill_switch_shows_a_friendly_message_and_the_shops_checkout(shop, live_server, chromium):
    store = Storefront(chromium.new_page(), live_server.url)
    store.sign_in("alice")
    store.open_chat()
    store.say(SEED)
    preview = store.last_preview()
    preview.wait_for()
    notice = store.panel.locator(".oaw-notice")
    assert not notice.is_visible()

    # when: the operator stops the assistant taking orders, and alice confirms the preview she has
    in_thread(kill_switch_set, on=True, reason="incident", actor_type="staff", actor_id=None, actor_name="oncall")
    preview.get_by_role("button", name="Confirm").click()

    # then: the notice says so, with the shop's checkout; nothing was confirmed; the chat stays to read
    notice.wait_for(state="visible")
    assert notice.locator(".oaw-notice-text").inner_text() == PAUSED_TEXT.format(url="/shop/checkout/")
    link = notice.get_by_role("link", name="Go to the checkout")
    assert link.get_attribute("href") == f"{live_server.url}/shop/checkout/"
    assert not store.panel.get_by_role("alert").is_visible()
    assert store.log.is_visible()
    flow = in_thread(OrderFlow.objects.get, conversation_id=store.conversation_id())
    assert flow.status == FlowStatus.PREVIEWED and flow.confirmations == 0
    screenshot(store.page, "rollout-paused")

    # a reload shows the notice at once (the conversation says the assistant is not taking orders)
    store.page.reload()
    store.panel.wait_for(state="visible")  # it comes back open, with the same conversation
    notice.wait_for(state="visible")
    assert "paused" in notice.inner_text()

    # switched off again: the notice goes with the next look at the conversation
    in_thread(kill_switch_set, on=False, reason="", actor_type="staff", actor_id=None, actor_name="oncall")
    store.page.reload()
    store.panel.wait_for(state="visible")
    store.log.locator(".oaw-message").first.wait_for()
    store.wait_until_idle()
    assert not notice.is_visible()
    store.assert_no_outside_requests()


def test_a_customer_outside_the_assistants_arm_sees_the_shops_checkout_instead_of_a_chat(shop, live_server, chromium):
    def internal_phase():
        RolloutSettings.objects.update_or_create(pk=1, defaults={"phase": 0})
        rollout_settings_forget()

    store = Storefront(chromium.new_page(), live_server.url)
    store.sign_in("alice")  # a customer, not staff: phase 0 is staff only
    # The demo shop embeds the widget only for the assistant's arm (sandbox_merchant/storefront.py); a page
    # opened before the operator moved to phase 0 (or a shop that embeds it for everyone) still has it:
    # the API refuses her and the widget says where to go instead.
    assert store.launcher.is_visible()
    in_thread(internal_phase)
    store.launcher.click()
    store.panel.wait_for(state="visible")
    notice = store.panel.locator(".oaw-notice")
    notice.wait_for(state="visible")

    assert notice.locator(".oaw-notice-text").inner_text() == NOT_AVAILABLE_TEXT.format(url="/shop/checkout/")
    assert notice.get_by_role("link", name="Go to the checkout").get_attribute("href") == (
        f"{live_server.url}/shop/checkout/"
    )
    assert not store.input.is_visible() and not store.log.is_visible()
    assert not store.panel.get_by_role("alert").is_visible()
    screenshot(store.page, "rollout-not-available")
    store.assert_no_outside_requests()
