"""3-D Secure from the chat widget in headless Chromium: the link in the chat, our page with the order and
"Continue to your bank", the bank's page, the order placed."""

from __future__ import annotations

import pytest

from ordering.models import FlowStatus, MessageRole, OrderFlow, PaymentChallenge
from ordering.services import conversation_post
from tests.browser.conftest import Storefront, in_thread, screenshot
from tests.support.merchant_state import merchant_order_count, merchant_orders

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_tasks")]


def record_csp_violations(page) -> list[str]:
    """Policy violations on this page (a blocked form or script), as Chromium reports them in the console."""
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    return violations


def test_alice_verifies_a_3ds_payment_with_her_bank_from_the_chat_and_the_order_is_placed(shop, live_server, chromium):
    store = Storefront(chromium.new_page(), live_server.url)
    store.sign_in("alice")
    store.open_chat()

    # given alice confirms an order paid with her Mastercard, which the bank wants to verify
    store.say("Buy the Blue Runner in size 42, pay with my card ending 3220")
    preview = store.last_preview()
    preview.wait_for()
    preview.get_by_role("button", name="Confirm").click()

    # then the chat offers a link to her bank's check, a link of this site opening a new tab
    link = store.log.get_by_role("link", name="Verify the payment with your bank")
    link.wait_for()
    flow = in_thread(OrderFlow.objects.get, conversation_id=store.conversation_id())
    assert link.get_attribute("href") == f"{live_server.url}/api/v1/flows/{flow.pk}/payment-verification/"
    assert link.get_attribute("target") == "_blank"
    assert merchant_order_count() == 0
    screenshot(store.page, "3ds-link")

    # when she opens it, she sees the order first, and nothing is opened at the bank yet
    with store.page.context.expect_page() as opened:
        link.click()
    bank = opened.value
    bank.set_default_timeout(20_000)
    violations = record_csp_violations(bank)
    bank.get_by_role("heading", name="Verify this payment with your bank").wait_for()
    assert "Blue Runner" in bank.locator("#payment-verification-order").inner_text()
    assert in_thread(lambda: PaymentChallenge.objects.filter(flow_id=flow.pk).count()) == 0
    screenshot(bank, "3ds-start")

    # and when she continues to her bank, enters the bank's code on the bank's page and verifies
    bank.get_by_role("button", name="Continue to your bank").click()
    bank.get_by_role("heading", name="Verify a payment").wait_for()
    assert violations == []
    assert bank.url.startswith(f"{live_server.url}/sandbox-merchant/issuer/challenge/")
    bank.get_by_label("Enter the one-time code we sent to your phone").fill("123456")
    bank.get_by_role("button", name="Verify").click()

    # then she is back on our page, told it is verified, and the chat shows the placed order
    bank.get_by_role("heading", name="Payment verified").wait_for()
    assert "/payment-verification/done/" in bank.url
    screenshot(bank, "3ds-verified")
    store.log.locator(".oaw-message[data-kind=flow_placed]").wait_for()
    flow = in_thread(OrderFlow.objects.get, pk=flow.pk)
    assert flow.status == FlowStatus.PLACED
    assert flow.payment_verification_evidence["kind"] == "customer_challenge"
    [order] = merchant_orders()
    assert order.id in store.log.locator(".oaw-message[data-kind=flow_placed]").inner_text()
    store.assert_no_outside_requests()


def test_a_link_is_only_ever_a_page_of_this_site_and_its_label_is_text(shop, live_server, chromium):
    store = Storefront(chromium.new_page(), live_server.url)
    store.sign_in("alice")
    store.open_chat()

    conversation_id = store.conversation_id()

    def post_links():
        for url, label in (
            ("javascript:alert(1)", "script link"),
            ("//elsewhere.example/steal", "protocol-relative link"),
            ("https://elsewhere.example/steal", "outside link"),
            ("/settings/", '<img src=x onerror="window.__pwned=1">Open <b>settings</b>'),
        ):
            conversation_post(
                conversation_id=conversation_id,
                role=MessageRole.ASSISTANT,
                text=f"A message with a {label}",
                data={"kind": "note", "link": {"url": url, "label": label}},
            )

    in_thread(post_links)

    store.log.get_by_text("A message with a <img", exact=False).wait_for()
    links = store.log.locator(".oaw-link a")
    assert links.count() == 1
    assert links.first.inner_text() == '<img src=x onerror="window.__pwned=1">Open <b>settings</b>'
    assert links.first.get_attribute("href") == f"{live_server.url}/settings/"
    assert store.log.locator(".oaw-link img, .oaw-link b").count() == 0
    assert store.page.evaluate("() => window.__pwned") is None
