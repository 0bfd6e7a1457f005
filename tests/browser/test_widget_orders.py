"""The chat widget on the storefront, end to end in headless Chromium: order, decline, 3-D Secure hand-over."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from catalog_adapters.registry import get_merchant
from ordering.agent.tools.catalog import product_card
from ordering.evaluation.sandbox_control import SandboxOrder
from ordering.models import ConversationRating, FlowStatus, MessageRole, OrderFlow
from ordering.services import conversation_post, conversation_staff_reply
from tests.browser.conftest import SEED, Storefront, in_thread, screenshot
from tests.support.merchant_state import merchant_order_count, merchant_orders

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_tasks")]


def alice_orders(shop) -> list[SandboxOrder]:
    return merchant_orders(customer="cus_alice")[::-1]  # oldest first; each test starts with an empty shop


def test_alice_orders_the_blue_running_shoes_with_her_promo_and_sees_the_order_id(shop, live_server, chromium):
    store = Storefront(chromium.new_page(), live_server.url)

    # given alice signed in through the login form, on the shop
    store.sign_in_through_the_form("alice")
    assert store.page.get_by_role("heading", name="Blue Runner").is_visible()

    # when she opens the widget and asks for the shoes she liked, with her 10% promo
    store.open_chat()
    assert "ordering assistant" in store.messages("assistant").first.inner_text()
    store.say(SEED)

    # then she sees a preview priced by the merchant, with Confirm and Cancel
    preview = store.last_preview()
    preview.wait_for()
    assert "Blue Runner" in preview.inner_text() and "blue, 42" in preview.inner_text()
    assert "ALICE10" in preview.inner_text()
    flow = in_thread(OrderFlow.objects.get, conversation_id=store.conversation_id())
    assert f"${flow.total_amount / 100:.2f}" in preview.locator(".oaw-total").last.inner_text()
    assert preview.get_by_role("button", name="Cancel this order").is_visible()

    # when she confirms
    preview.get_by_role("button", name="Confirm").click()

    # then the widget says the order is placed, with the merchant's order id
    store.log.locator(".oaw-message[data-kind=flow_placed]").wait_for()
    [order] = in_thread(alice_orders, shop)
    assert order.total == flow.total_amount
    placed = store.log.locator(".oaw-message[data-kind=flow_placed]")
    assert order.id in placed.inner_text()
    assert preview.locator(".oaw-progress").inner_text() == f"Order placed · {order.id}"
    assert not preview.get_by_role("button", name="Confirm").is_visible()  # a decided preview has no buttons
    assert in_thread(lambda: OrderFlow.objects.get(pk=flow.pk).status) == FlowStatus.PLACED

    # and she is asked for a rating, which reaches the server
    placed.get_by_role("button", name="Rate 5 out of 5").click()
    store.panel.get_by_text("Thanks for rating us 5 out of 5.").wait_for()
    rating = in_thread(ConversationRating.objects.get, conversation_id=store.conversation_id())
    assert rating.score == 5
    # no request left this site (product pictures included) and no script error happened
    store.assert_no_outside_requests()
    screenshot(store.page, "order-placed")


def test_a_declined_preview_leaves_no_order_at_the_merchant(shop, live_server, chromium):
    store = Storefront(chromium.new_page(), live_server.url)
    store.sign_in("alice")
    store.open_chat()
    store.say(SEED)
    preview = store.last_preview()
    preview.wait_for()

    # when she presses Cancel on the preview
    preview.get_by_role("button", name="Cancel this order").click()

    # then she is told nothing was ordered, and the merchant has no order
    store.panel.get_by_text("OK, I won't order it").wait_for()
    store.wait_until_idle()
    assert in_thread(alice_orders, shop) == []
    flow = in_thread(OrderFlow.objects.get, conversation_id=store.conversation_id())
    assert flow.status == FlowStatus.CANCELED
    assert not preview.get_by_role("button", name="Confirm").is_visible()
    assert "Cancelled" in preview.locator(".oaw-progress").inner_text()
    assert store.page.locator(".oaw-rating").count() == 0  # nothing to rate without an order
    screenshot(store.page, "declined")


def test_a_3ds_payment_is_handed_to_a_specialist_whose_reply_appears_in_the_widget(shop, live_server, chromium):
    staff = in_thread(
        lambda: get_user_model().objects.create_user(username="sam", password="x", is_staff=True, first_name="Sam")
    )
    store = Storefront(chromium.new_page(), live_server.url)
    store.sign_in("alice")
    store.open_chat()

    # given alice asks to pay with her Mastercard, which the bank wants to verify (3-D Secure)
    store.say("Buy the Blue Runner in size 42, pay with my card ending 3220")
    preview = store.last_preview()
    preview.wait_for()
    assert "Mastercard •••• 3220" in preview.inner_text()

    # when she confirms
    preview.get_by_role("button", name="Confirm").click()

    # then the widget says a specialist is looking at it, and nothing was ordered
    store.panel.get_by_text("A specialist is looking at this", exact=False).first.wait_for()
    banner = store.panel.locator(".oaw-banner")
    banner.wait_for()
    assert banner.inner_text().startswith("A specialist is looking at this.")
    assert in_thread(alice_orders, shop) == []
    flow = in_thread(OrderFlow.objects.get, conversation_id=store.conversation_id())
    assert flow.status == FlowStatus.REQUIRES_ACTION

    # when a specialist replies through the service
    in_thread(
        conversation_staff_reply,
        conversation_id=store.conversation_id(),
        staff_id=staff.pk,
        text="Hi Alice, Sam here. Your bank sent you a code; can you read it to me?",
    )

    # then the reply appears in the widget (by polling), marked as from a specialist
    staff_message = store.messages("staff").last
    staff_message.wait_for()
    assert "Sam here" in staff_message.locator(".oaw-bubble").inner_text()
    assert staff_message.locator(".oaw-who").inner_text() == "Specialist"
    screenshot(store.page, "3ds-specialist")


def test_product_cards_show_picture_title_variant_and_price_and_text_is_never_markup(shop, live_server, chromium):
    # The deterministic parser goes straight to the preview; the LLM path shows products as cards.
    # These are the agent's own cards (ordering.agent.tools.catalog.product_card) for real catalog products.
    store = Storefront(chromium.new_page(), live_server.url)
    store.sign_in("alice")
    store.open_chat()

    def post_cards():
        catalog = get_merchant("sandbox").catalog
        runner = catalog.get_product(product_id="prod_blue_runner")
        jacket = catalog.get_product(product_id="prod_rain_jacket")
        conversation_post(
            conversation_id=store_conversation_id,
            role=MessageRole.ASSISTANT,
            text="Here is what I found. <script>window.__injected = 1</script>",
            data={
                "cards": [
                    product_card(runner, variant_id="var_blue_runner_42"),
                    {**product_card(jacket), "title": '<img src="/x" onerror="window.__injected = 2">Jacket'},
                ]
            },
        )

    store_conversation_id = store.conversation_id()
    in_thread(post_cards)

    # the widget picks the message up by polling and shows each product as a card
    cards = store.log.locator(".oaw-card")
    cards.nth(1).wait_for()
    runner = cards.nth(0)
    assert runner.locator(".oaw-card-title").inner_text() == "Blue Runner"
    assert runner.locator(".oaw-card-variant").inner_text() == "blue, 42"
    assert runner.locator(".oaw-card-price").inner_text() == "$72.00"
    picture = runner.locator("img")
    assert picture.get_attribute("src").endswith("/sandbox-merchant/images/blue_runner.svg")
    store.wait_until("image => image.complete && image.naturalWidth > 0", arg=picture.element_handle(), timeout=10_000)
    # catalog and message text are shown as text, never as markup
    assert (
        cards.nth(1).locator(".oaw-card-title").inner_text() == '<img src="/x" onerror="window.__injected = 2">Jacket'
    )
    assert "<script>" in store.messages("assistant").last.locator(".oaw-bubble").inner_text()
    assert store.log.locator("script, img[src='/x']").count() == 0
    assert store.page.evaluate("window.__injected === undefined")
    store.assert_no_outside_requests()
    screenshot(store.page, "product-cards")


def test_a_declined_card_offers_another_saved_card_and_the_order_goes_through_with_it(shop, live_server, chromium):
    store = Storefront(chromium.new_page(), live_server.url)
    store.sign_in("alice")
    store.open_chat()

    # given alice pays with the card her bank declines
    store.say("Buy the Blue Runner in size 42, pay with my card ending 0002")
    store.last_preview().get_by_role("button", name="Confirm").click()

    # then the failure says nothing was charged and offers what she can do
    failed = store.log.locator(".oaw-message[data-kind=flow_failed]")
    failed.wait_for()
    store.wait_until_idle()
    assert "declined" in failed.inner_text() and "nothing was charged" in failed.inner_text()
    options = failed.get_by_role("group", name="What next")
    assert options.get_by_role("button", name="Talk to a person").is_visible()
    assert merchant_order_count() == 0

    # when she picks another saved card
    options.get_by_role("button", name="Use another card").click()
    chooser = failed.get_by_role("group", name="Pay with another card")
    chooser.wait_for()
    assert chooser.get_by_role("button", name="Pay with Visa •••• 0002").count() == 0  # not the declined one
    chooser.get_by_role("button", name="Pay with Visa •••• 4242").click()

    # then a new preview with that card comes, and confirming it places the order
    store.wait_until("() => document.querySelectorAll('.oaw-preview').length === 2", timeout=20_000)
    store.wait_until_idle()
    preview = store.last_preview()
    assert "Visa •••• 4242" in preview.inner_text()
    preview.get_by_role("button", name="Confirm").click()
    store.log.locator(".oaw-message[data-kind=flow_placed]").wait_for()
    [order] = in_thread(alice_orders, shop)
    assert order.id in store.log.locator(".oaw-message[data-kind=flow_placed]").inner_text()
    screenshot(store.page, "declined-card-then-another")


def test_when_the_shop_fails_to_place_the_order_try_again_asks_anew_and_it_goes_through(shop, live_server, chromium):
    store = Storefront(chromium.new_page(), live_server.url)
    store.sign_in("alice")
    store.open_chat()
    store.say("Buy the Blue Runner in size 42")
    store.last_preview().wait_for()

    # given the shop keeps failing to complete checkouts
    shop.sandbox.add_fault("server_error", operation="complete", times=50)
    store.last_preview().get_by_role("button", name="Confirm").click()

    # then she reads that nothing was charged, and the preview says it was not placed
    failed = store.log.locator(".oaw-message[data-kind=flow_failed]")
    failed.wait_for()
    store.wait_until_idle()
    assert "nothing was charged" in failed.inner_text()
    assert store.last_preview().locator(".oaw-progress").inner_text().startswith("Not placed")
    assert merchant_order_count() == 0

    # when the shop is back and she presses Try again
    shop.sandbox.clear_faults()
    failed.get_by_role("button", name="Try again").click()

    # then her request is asked again, a new preview comes, and confirming it places the order
    store.wait_until("() => document.querySelectorAll('.oaw-preview').length === 2", timeout=20_000)
    store.wait_until_idle()
    assert store.messages("customer").last.inner_text().endswith("Buy the Blue Runner in size 42")
    store.last_preview().get_by_role("button", name="Confirm").click()
    store.log.locator(".oaw-message[data-kind=flow_placed]").wait_for()
    assert merchant_order_count() == 1
    screenshot(store.page, "failed-then-retried")
