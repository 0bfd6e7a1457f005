"""The saga and the preview against the in-memory fake merchant (tests/support/fake_merchant.py): no HTTP.

Our side needs only the merchant contract: the same flows place, decline and cancel orders at a shop
that is a few dictionaries, and every effect is read back through the contract.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from catalog_adapters.contract import Catalog as CatalogProtocol
from catalog_adapters.contract import Checkout, Orders, PaymentVault
from catalog_adapters.registry import get_merchant
from consent.demo import consent_demo_seed
from consent.models import SpendEntry
from ordering.models import FlowStatus, OrderFlow
from ordering.services import flow_cancel, flow_confirm, flow_order_cancel
from tests.ordering.conftest import previewed_flow

BLUE_RUNNER_42 = "var_blue_runner_42"

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("eager_tasks")]


@pytest.fixture
def alice(fake_merchant, production_commits):
    consent_demo_seed()
    return get_user_model().objects.get(username="alice")


@pytest.fixture(autouse=True)
def _no_http(monkeypatch):
    """Any merchant HTTP request during these tests is a failure: the fake merchant needs none."""
    from catalog_adapters.http import MerchantHttpClient

    def refuse(*args, **kwargs):
        raise AssertionError(f"HTTP request during a fake-merchant test: {args[:3]}")

    monkeypatch.setattr(MerchantHttpClient, "send", refuse)


def _confirm(user, flow) -> OrderFlow:
    flow_confirm(flow_id=flow.pk, customer_id=user.pk, preview_hash=flow.preview_hash)
    return OrderFlow.objects.get(pk=flow.pk)


def _ledger(flow) -> dict[str, int]:
    totals: dict[str, int] = {}
    for entry in SpendEntry.objects.filter(flow_reference__startswith=f"flow:{flow.pk}:"):
        totals[entry.kind] = totals.get(entry.kind, 0) + entry.amount
    return totals


def test_the_fake_offers_every_capability_of_the_contract(fake_merchant):
    merchant = get_merchant("sandbox")

    assert merchant is fake_merchant
    assert isinstance(merchant.catalog, CatalogProtocol)
    assert isinstance(merchant.checkout, Checkout)
    assert isinstance(merchant.vault, PaymentVault)
    assert isinstance(merchant.orders, Orders)
    [product] = merchant.catalog.search_products(query="blue runner")
    assert product.id == "prod_blue_runner" and len(product.variants) == 6


def test_the_preview_shows_the_merchants_lines_and_totals(fake_merchant, alice):
    flow = previewed_flow(user=alice, card="pm_alice_visa", variant=BLUE_RUNNER_42, quantity=2)

    assert flow.status == FlowStatus.PREVIEWED
    preview = flow.preview
    assert [(line["title"], line["variant"], line["quantity"], line["total"]) for line in preview["lines"]] == [
        ("Blue Runner", "blue, 42", 2, 15264)
    ]
    # $144.00 of shoes ships free (standard, from $50); alice's home is in Illinois: the sandbox's 6 % US rate
    assert (preview["subtotal"], preview["shipping"], preview["tax"], preview["total"]) == (14400, 0, 864, 15264)
    assert preview["payment"]["last4"] == "4242"
    # the session holds the two pairs
    assert fake_merchant.available(BLUE_RUNNER_42) == 8 - 2


def test_a_confirmed_flow_places_one_order_through_the_contract(fake_merchant, alice):
    flow = previewed_flow(user=alice, card="pm_alice_visa", variant=BLUE_RUNNER_42)

    flow = _confirm(alice, flow)

    assert flow.status == FlowStatus.PLACED, (flow.failure_code, flow.status)
    order = get_merchant("sandbox").orders.get(order_id=flow.merchant_order_id)
    assert (order.status, order.checkout_session_id) == ("confirmed", flow.checkout_session_id)
    assert order.total().amount == flow.total_amount == 7632  # $72.00 and 6 % tax, shipped free
    assert get_merchant("sandbox").checkout.get(session_id=flow.checkout_session_id).status == "completed"
    # one token minted for the confirmed total, used by the charge; the pair is sold, not held
    [token] = fake_merchant.tokens.values()
    assert token.used and not token.revoked and token.allowance.max_amount.amount == 7632
    assert fake_merchant.stock[BLUE_RUNNER_42] == 7 and fake_merchant.available(BLUE_RUNNER_42) == 7
    assert _ledger(flow) == {"reserve": 7632, "commit": 7632}
    assert fake_merchant.calls.count(("checkout", "complete")) == 1


def test_a_declined_card_places_nothing_and_undoes_everything(fake_merchant, alice):
    flow = previewed_flow(user=alice, card="pm_alice_decline", variant=BLUE_RUNNER_42)

    flow = _confirm(alice, flow)

    assert (flow.status, flow.failure_code) == (FlowStatus.COMPENSATED, "payment_declined")
    assert flow.merchant_order_id == "" and fake_merchant.orders_by_id == {}
    assert get_merchant("sandbox").checkout.get(session_id=flow.checkout_session_id).status == "canceled"
    assert fake_merchant.available(BLUE_RUNNER_42) == 8
    [token] = fake_merchant.tokens.values()
    assert token.revoked and not token.used
    assert _ledger(flow) == {"reserve": 7632, "release": 7632}


def test_a_flow_canceled_before_confirming_releases_the_merchants_hold(fake_merchant, alice):
    flow = previewed_flow(user=alice, card="pm_alice_visa", variant=BLUE_RUNNER_42)
    assert fake_merchant.available(BLUE_RUNNER_42) == 7

    flow_cancel(flow_id=flow.pk, actor_type="customer", actor_id=alice.pk, customer_id=alice.pk, reason="changed mind")

    flow = OrderFlow.objects.get(pk=flow.pk)
    assert flow.status == FlowStatus.CANCELED
    assert get_merchant("sandbox").checkout.get(session_id=flow.checkout_session_id).status == "canceled"
    assert fake_merchant.available(BLUE_RUNNER_42) == 8
    assert fake_merchant.orders_by_id == {} and fake_merchant.tokens == {}


def test_a_placed_order_canceled_by_the_customer_is_canceled_at_the_merchant_once(fake_merchant, alice):
    flow = _confirm(alice, previewed_flow(user=alice, card="pm_alice_visa", variant=BLUE_RUNNER_42))
    assert flow.status == FlowStatus.PLACED

    status = flow_order_cancel(flow_id=flow.pk, customer_id=alice.pk)
    again = flow_order_cancel(flow_id=flow.pk, customer_id=alice.pk)

    assert status == again == "canceled"
    order = get_merchant("sandbox").orders.get(order_id=flow.merchant_order_id)
    assert order.status == "canceled"
    # the repeated request replayed the first answer: one cancellation, for the whole total
    assert [(a.type, a.amount.amount) for a in order.adjustments] == [("cancellation", 7632)]
