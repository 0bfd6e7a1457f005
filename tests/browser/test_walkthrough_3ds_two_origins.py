"""3-D Secure with the bank on another site than the shop, as `make run` serves them (the sandbox on :8001, the
agent on :8000), in headless Chromium.

The live server answers at http://localhost:<port> (the shop, where the customer is signed in) and at
http://127.0.0.1:<port>: the merchant is reached at the second, so the issuer's challenge page (its `acs_url`)
is another origin than the shop's return page, and Chromium applies the bank page's Content-Security-Policy
`form-action` to the form's redirect back to the shop (the walkthrough's blocker: the return was blocked and
a retry answered 409).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from catalog_adapters.registry import reset_merchants
from ordering.models import FlowStatus, OrderFlow, PaymentChallenge
from sandbox_merchant import services as sandbox_services
from sandbox_merchant.models import IssuerChallenge
from tests.browser.conftest import Storefront, in_thread, screenshot
from tests.support.merchant_state import merchant_orders

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_tasks")]


def csp_messages(page) -> list[str]:
    messages: list[str] = []
    page.on("console", lambda m: messages.append(m.text) if "Content Security Policy" in m.text else None)
    return messages


@pytest.fixture
def bank_origin(shop, live_server, settings) -> str:
    """The merchant (and so its issuer page) on 127.0.0.1, the shop on localhost: two origins, one server."""
    site = urlsplit(live_server.url)
    assert site.hostname == "localhost"
    other = f"http://127.0.0.1:{site.port}"
    settings.MERCHANTS = {
        **settings.MERCHANTS,
        "sandbox": {**settings.MERCHANTS["sandbox"], "BASE_URL": f"{other}/sandbox-merchant"},
    }
    reset_merchants()
    return other


def confirm_a_3ds_order_and_open_the_bank(store: Storefront, live_server, bank_origin: str):
    store.sign_in("alice")
    store.open_chat()
    store.say("Buy the Blue Runner in size 42, pay with my card ending 3220")
    preview = store.last_preview()
    preview.wait_for()
    preview.get_by_role("button", name="Confirm").click()
    link = store.log.get_by_role("link", name="Verify the payment with your bank")
    link.wait_for()
    with store.page.context.expect_page() as opened:
        link.click()
    bank = opened.value
    bank.set_default_timeout(20_000)
    violations = csp_messages(bank)
    bank.get_by_role("button", name="Continue to your bank").click()
    bank.get_by_role("heading", name="Verify a payment").wait_for()
    # the bank's page is on the other origin, the return page on the shop's
    assert bank.url.startswith(f"{bank_origin}/sandbox-merchant/issuer/challenge/"), bank.url
    flow = in_thread(OrderFlow.objects.get, conversation_id=store.conversation_id())
    return bank, violations, flow


def test_the_bank_on_another_site_sends_alice_back_to_the_shop_and_the_order_is_placed(
    shop, live_server, bank_origin, chromium
):
    store = Storefront(chromium.new_page(), live_server.url)
    bank, violations, flow = confirm_a_3ds_order_and_open_the_bank(store, live_server, bank_origin)

    # when she enters the bank's code and verifies on the bank's site
    bank.get_by_label("Enter the one-time code we sent to your phone").fill("123456")
    bank.get_by_role("button", name="Verify").click()

    # then the form's redirect back to the shop is allowed, and she is on the shop's page, verified
    bank.get_by_role("heading", name="Payment verified").wait_for()
    assert bank.url.startswith(f"{live_server.url}/api/v1/flows/{flow.pk}/payment-verification/done/"), bank.url
    assert violations == []
    screenshot(bank, "3ds-two-origins-verified")
    store.log.locator(".oaw-message[data-kind=flow_placed]").wait_for()
    flow = in_thread(OrderFlow.objects.get, pk=flow.pk)
    assert flow.status == FlowStatus.PLACED
    [order] = merchant_orders()
    assert order.id in store.log.locator(".oaw-message[data-kind=flow_placed]").inner_text()


def test_a_wrong_code_on_the_bank_site_comes_back_to_the_shop_as_not_verified(shop, live_server, bank_origin, chromium):
    store = Storefront(chromium.new_page(), live_server.url)
    bank, violations, flow = confirm_a_3ds_order_and_open_the_bank(store, live_server, bank_origin)

    bank.get_by_label("Enter the one-time code we sent to your phone").fill("000000")
    bank.get_by_role("button", name="Verify").click()

    bank.get_by_role("heading", name="Payment not verified").wait_for()
    assert bank.url.startswith(f"{live_server.url}/api/v1/flows/{flow.pk}/payment-verification/done/"), bank.url
    assert violations == []
    assert merchant_orders() == []
    assert in_thread(lambda: OrderFlow.objects.get(pk=flow.pk).status) != FlowStatus.PLACED


def test_an_answered_verification_whose_return_did_not_arrive_offers_a_link_back_to_the_shop(
    shop, live_server, bank_origin, chromium
):
    store = Storefront(chromium.new_page(), live_server.url)
    bank, _, flow = confirm_a_3ds_order_and_open_the_bank(store, live_server, bank_origin)
    challenge_url = bank.url

    # given the bank recorded the right code but the browser never got back to the shop (a blocked redirect,
    # a closed tab)
    acs_trans_id = challenge_url.rstrip("/").rsplit("/", 1)[-1]
    in_thread(sandbox_services.issuer_challenge_answer, acs_trans_id=acs_trans_id, code="123456", abandon=False)
    assert in_thread(lambda: IssuerChallenge.objects.get(acs_trans_id=acs_trans_id).status) == "authenticated"
    assert in_thread(lambda: PaymentChallenge.objects.get(flow_id=flow.pk).status) == "pending"

    # when she opens the bank's page again, it says the verification was answered and links back to the shop
    bank.goto(challenge_url)
    bank.get_by_role("alert").wait_for()
    back = bank.get_by_role("link", name="Return to the shop")
    assert back.get_attribute("href").startswith(
        f"{live_server.url}/api/v1/flows/{flow.pk}/payment-verification/done/?cres="
    )
    back.click()

    # then the shop takes the bank's result and places the order
    bank.get_by_role("heading", name="Payment verified").wait_for()
    store.log.locator(".oaw-message[data-kind=flow_placed]").wait_for()
    assert in_thread(lambda: OrderFlow.objects.get(pk=flow.pk).status) == FlowStatus.PLACED
    assert len(merchant_orders()) == 1
