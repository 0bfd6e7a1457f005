"""The storefront's own cart and checkout (the A/B experiment's control arm) in headless Chromium.

A control-arm customer shops without the assistant: adds two products, checks out with a saved address
and card, and sees the merchant's order number; the merchant has the order and the funnel events are
recorded. An assistant-arm customer gets the chat widget on the same page.
"""

from __future__ import annotations

import re

import pytest

from ordering.models import ExperimentEvent, RolloutSettings
from ordering.rollout.assignment import rollout_settings_forget
from sandbox_merchant.models import ShopCheckout
from tests.browser.conftest import Storefront, in_thread, screenshot
from tests.support.merchant_state import merchant_orders

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_tasks")]

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (event) => {
  window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || 'inline'}`);
});
"""


def _phase_2(assistant_percent: int) -> None:
    def write():
        RolloutSettings.objects.update_or_create(pk=1, defaults={"phase": 2, "assistant_percent": assistant_percent})

    in_thread(write)
    rollout_settings_forget()  # the live server runs in this process: it reads the new row at once


@pytest.fixture
def rollout_reset():
    yield
    in_thread(lambda: RolloutSettings.objects.filter(pk=1).delete())
    rollout_settings_forget()


def _add(page, product_id: str, *, option: str | None, quantity: int) -> None:
    card = page.locator(f"li#{product_id}")
    if option:
        card.get_by_label("Option").select_option(label=option)
    card.get_by_label("Quantity").fill(str(quantity))
    card.get_by_role("button", name=re.compile("^Add .* to cart$")).click()
    page.get_by_text("to your cart.").wait_for()


def test_a_control_customer_checks_out_with_the_shops_own_checkout(shop, live_server, chromium, rollout_reset):
    _phase_2(assistant_percent=0)  # everyone in the control arm
    page = chromium.new_page()
    page.add_init_script(RECORD_VIOLATIONS)
    store = Storefront(page, live_server.url)
    store.sign_in("alice")

    # the control arm gets no chat widget, the shop's own cart instead
    assert page.locator('script[src$="widget/widget.js"]').count() == 0
    assert store.launcher.count() == 0
    assert page.get_by_role("link", name="Your cart (0)").is_visible()

    # she adds two products: the Blue Runner in 42 (two of them) and a blue steel bottle
    _add(page, "prod_blue_runner", option="blue, 42", quantity=2)
    _add(page, "prod_steel_bottle", option="blue", quantity=1)
    page.get_by_role("link", name="Your cart (3)").click()
    assert page.locator(".cart-line").count() == 2

    # checkout: the merchant's totals, her Home address, her Visa
    page.get_by_role("link", name="Go to checkout").click()
    page.get_by_role("heading", name="Checkout").wait_for()
    page.get_by_label(re.compile("Home: 1 Main St")).check()
    page.get_by_role("button", name="Use this address").click()
    page.get_by_text("Shipping to 1 Main St").wait_for()
    total_text = page.locator("tr.total-total td").inner_text()
    page.get_by_label(re.compile("Visa •••• 4242")).check()
    screenshot(page, "shop-checkout")
    page.get_by_role("button", name="Place order").click()

    # the confirmation shows the merchant's order number
    page.wait_for_url(re.compile(r"/shop/orders/[0-9a-f-]+/$"))
    page.get_by_role("heading", name="Thank you, your order is placed").wait_for()
    number = page.locator(".order-number").inner_text()
    [order] = in_thread(merchant_orders, customer="cus_alice")
    checkout = in_thread(ShopCheckout.objects.get, user=shop.alice)
    assert number == checkout.order_number and checkout.order_id == order.id
    assert f"${order.total / 100:,.2f}" == total_text
    assert order.vault_reference == "pm_alice_visa"
    screenshot(page, "shop-order-placed")

    # the funnel, in her arm, from the storefront
    events = in_thread(
        lambda: list(
            ExperimentEvent.objects.filter(customer=shop.alice).values_list("kind", "arm", "channel", "amount")
        )
    )
    assert events == [
        ("session_started", "control", "storefront", None),
        ("checkout_started", "control", "storefront", None),
        ("order_placed", "control", "storefront", order.total),
    ]
    assert page.evaluate("window.__cspViolations") == []
    store.assert_no_outside_requests()


def test_a_declined_card_shows_the_message_and_keeps_the_cart(shop, live_server, chromium, rollout_reset):
    _phase_2(assistant_percent=0)
    page = chromium.new_page()
    store = Storefront(page, live_server.url)
    store.sign_in("alice")
    _add(page, "prod_blue_runner", option="blue, 42", quantity=1)
    page.goto(f"{live_server.url}/shop/checkout/")

    page.get_by_label(re.compile("Visa •••• 0002")).check()
    page.get_by_role("button", name="Place order").click()

    page.get_by_text(re.compile("was declined. Nothing was charged")).wait_for()
    assert page.url.endswith("/shop/checkout/")
    assert "Blue Runner" in page.locator("main").inner_text()  # still the checkout of her cart
    assert in_thread(merchant_orders, customer="cus_alice") == []
    page.goto(f"{live_server.url}/shop/cart/")
    assert page.locator(".cart-line").count() == 1
    screenshot(page, "shop-declined-cart-kept")


def test_an_assistant_arm_customer_gets_the_widget_next_to_the_cart(shop, live_server, chromium, rollout_reset):
    _phase_2(assistant_percent=100)
    store = Storefront(chromium.new_page(), live_server.url)
    store.sign_in("alice")

    assert store.launcher.is_visible()
    assert store.page.get_by_role("button", name=re.compile("^Add Blue Runner to cart$")).is_visible()
    store.assert_no_outside_requests()
