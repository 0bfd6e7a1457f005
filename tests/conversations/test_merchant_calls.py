"""Merchant calls per add-to-cart turn (issue #15: at most 2), counted from what the sandbox received.

The turn adds the item and shows the preview: the product (or the saved items with their products) in
one call, the checkout session in one more; the preview reads nothing again.
"""

from __future__ import annotations

import pytest

from catalog_adapters.acp import saved_products_forget
from ordering.agent.understand.lexicon import catalog_lexicon
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
