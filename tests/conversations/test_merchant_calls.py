"""Merchant calls per add-to-cart turn (issue #15: at most 2), counted from what the sandbox received.

The turn adds the item and shows the preview: the product (or the saved items with their products) in
one call, the checkout session in one more; the preview reads nothing again. A code applied in the message
that starts the cart goes with the create (the seed turn: promotions, saved items, one checkout call).
"""

from __future__ import annotations

import pytest

from catalog_adapters.acp import AcpCheckout, saved_products_forget
from catalog_adapters.errors import MerchantClientError
from ordering.agent.understand.lexicon import catalog_lexicon
from ordering.models import OrderFlow
from sandbox_merchant.models import ReceivedRequest

pytestmark = pytest.mark.usefixtures("eager_tasks")


@pytest.fixture(autouse=True)
def _fresh_extension_knowledge():
    saved_products_forget()
    yield
    saved_products_forget()


def _turn_calls(shop, chat, text: str) -> tuple[dict, list[tuple[str, str]]]:
    # The catalog's lexicon is cached per process (minutes), not per turn: fetched before counting.
    catalog_lexicon("sandbox")
    ReceivedRequest.objects.all().delete()
    answer = chat.say(text)
    return answer, [(r.method, r.path.removeprefix("/sandbox-merchant")) for r in shop.sandbox.received_requests()]


def test_an_add_to_cart_turn_naming_a_product_makes_at_most_two_merchant_calls(shop, chat):
    chat.start()

    answer, calls = _turn_calls(shop, chat, "add a blue runner in size 42 to my cart")

    assert answer["pending_confirmation"]["preview"]["lines"][0]["variant"] == "blue, 42"
    assert calls == [("GET", "/products/prod_blue_runner"), ("POST", "/checkout_sessions")]


def test_an_add_to_cart_turn_naming_a_liked_item_makes_at_most_two_merchant_calls(shop, chat):
    chat.start()

    answer, calls = _turn_calls(shop, chat, "Buy the blue running shoes I liked")

    assert answer["pending_confirmation"]["preview"]["lines"][0]["variant"] == "blue, 42"
    assert calls == [("GET", "/customers/cus_alice/saved_products"), ("POST", "/checkout_sessions")]


def test_a_second_item_in_the_same_cart_is_still_two_calls(shop, chat):
    chat.start()
    chat.say("add a blue runner in size 42 to my cart")

    answer, calls = _turn_calls(shop, chat, "also add the steel bottle in blue")

    assert len(answer["pending_confirmation"]["preview"]["lines"]) == 2
    assert [method for method, _ in calls] == ["GET", "POST"] and calls[0][1] == "/products/prod_steel_bottle"


def test_at_a_merchant_without_the_extension_the_liked_item_turn_still_adds_it(shop, chat, settings):
    settings.SANDBOX_MERCHANT_SAVED_PRODUCTS = False
    chat.start()

    answer, calls = _turn_calls(shop, chat, "Buy the blue running shoes I liked")

    assert answer["pending_confirmation"]["preview"]["lines"][0]["variant"] == "blue, 42"
    # the extension asked once (404), then the saved items and the one product named; still no second
    # product read and no read of the session for the preview
    assert calls == [
        ("GET", "/customers/cus_alice/saved_products"),
        ("GET", "/customers/cus_alice/saved_items"),
        ("GET", "/products/prod_blue_runner"),
        ("POST", "/checkout_sessions"),
    ]


# -- a code in the message that starts the cart goes with the create --------------------------------------

SEED = "Buy the blue running shoes I liked last week and apply my 10% promo"


def test_the_seed_turn_creates_the_session_with_the_code_in_one_checkout_call(shop, chat):
    chat.start()

    answer, calls = _turn_calls(shop, chat, SEED)

    # then the customer's promotions, the saved items, and one checkout call: the create (no update after it)
    assert calls == [
        ("GET", "/customers/cus_alice/promotions"),
        ("GET", "/customers/cus_alice/saved_products"),
        ("POST", "/checkout_sessions"),
    ]
    preview = answer["pending_confirmation"]["preview"]
    assert preview["promo_codes"] == ["ALICE10"] and preview["discount"] == 720
    # the create itself carried the code: the session the shop made has it, applied
    session_id = OrderFlow.objects.get(pk=answer["pending_confirmation"]["flow_id"]).checkout_session_id
    merchant = shop.sandbox.get(f"/checkout_sessions/{session_id}").json()
    assert merchant["discounts"]["codes"] == ["ALICE10"]
    assert [(a["code"], a["amount"]) for a in merchant["discounts"]["applied"]] == [("ALICE10", 720)]
    # and a later change to the cart keeps sending it
    chat.say("actually make it 2")
    merchant = shop.sandbox.get(f"/checkout_sessions/{session_id}").json()
    assert [(item["quantity"], merchant["discounts"]["codes"]) for item in merchant["line_items"]] == [(2, ["ALICE10"])]


def test_a_code_the_shop_rejects_on_create_is_explained_and_the_cart_kept(shop, chat):
    chat.start()

    answer, calls = _turn_calls(shop, chat, "buy the blue runner in size 42 with code FAKE99")

    # the shop's reason, from its answer to the create that carried the code, exactly as before
    assert chat.assistant_texts(answer)[0] == "The shop did not accept the code FAKE99: This code does not exist."
    # the cart is there, without the code: the create, then one update that takes the refused code off
    pending = answer["pending_confirmation"]
    assert [line["variant"] for line in pending["preview"]["lines"]] == ["blue, 42"]
    assert pending["preview"]["promo_codes"] == []
    session_id = OrderFlow.objects.get(pk=pending["flow_id"]).checkout_session_id
    assert calls == [
        ("GET", "/products/prod_blue_runner"),
        ("POST", "/checkout_sessions"),
        ("POST", f"/checkout_sessions/{session_id}"),
    ]
    merchant = shop.sandbox.get(f"/checkout_sessions/{session_id}").json()
    assert merchant["discounts"]["codes"] == [] and merchant["discounts"]["applied"] == []


def test_a_create_the_shop_refuses_because_of_the_code_still_starts_the_cart(shop, chat, monkeypatch):
    # given a shop that answers 400 to a create carrying a discount code (ACP lets it reject the request)
    real_create = AcpCheckout.create

    def create(self, *, request, operation_id):
        if request.discount_codes:
            raise MerchantClientError(
                "unknown code", merchant_id="sandbox", operation="checkout_create", status=400, code="invalid"
            )
        return real_create(self, request=request, operation_id=operation_id)

    monkeypatch.setattr(AcpCheckout, "create", create)
    chat.start()

    answer = chat.say("blue runner size 42 with code RUN15")

    # then the cart is created without it and the code applied afterwards, as a turn did before the offer
    preview = answer["pending_confirmation"]["preview"]
    assert [line["variant"] for line in preview["lines"]] == ["blue, 42"]
    assert preview["promo_codes"] == ["RUN15"] and preview["discount"] > 0
