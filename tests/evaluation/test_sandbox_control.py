"""The sandbox's control API (a sandbox extension) through our client, ordering/evaluation/sandbox_control.py.

Real HTTP to the sandbox on the live server; the shop's state is read back through the merchant contract.
"""

from __future__ import annotations

import pytest
import requests

from catalog_adapters.contract import PaymentData
from catalog_adapters.registry import get_merchant, reset_merchants
from ordering.evaluation.sandbox_control import SandboxControl, SandboxControlError
from tests.support.merchant_state import available, session_status

pytestmark = pytest.mark.postgres

BLUE_RUNNER_42 = "var_blue_runner_42"


@pytest.fixture
def control(sandbox_merchant, settings):
    settings.MERCHANTS = {
        **settings.MERCHANTS,
        "sandbox": {**settings.MERCHANTS["sandbox"], "BASE_URL": sandbox_merchant.base_url, "RATE_LIMIT": 0.0},
    }
    reset_merchants()
    yield SandboxControl("sandbox")
    reset_merchants()


def test_stock_is_set_and_a_reset_puts_back_the_demo_stock_and_ends_open_sessions(control, sandbox_merchant):
    control.set_stock({BLUE_RUNNER_42: 3, "var_trail_blazer_green_43": 0})
    session = sandbox_merchant.create_session(quantity=2)
    sandbox_merchant.add_fault("server_error", operation="complete", times=5)
    assert (available(BLUE_RUNNER_42), available("var_trail_blazer_green_43")) == (1, 0)

    answer = control.reset()

    assert answer == {"canceled_sessions": 1, "faults_cleared": 1, "full": False}
    assert (available(BLUE_RUNNER_42), available("var_trail_blazer_green_43")) == (8, 5)
    assert session_status(session["id"]) == "canceled"
    assert sandbox_merchant.faults() == []


def _demo_state() -> tuple[list, list]:
    """Every variant's stock and price, and every saved item (how many days ago it was saved), from the sandbox's
    models."""
    from datetime import timedelta

    from django.utils import timezone

    from sandbox_merchant.models import SavedItem, Variant

    now = timezone.now()
    variants = list(Variant.objects.order_by("id").values_list("id", "stock", "price_amount"))
    saved = sorted(
        (
            item.customer_id,
            item.kind,
            item.product_id,
            item.variant_id,
            round((now - item.saved_at) / timedelta(days=1)),
        )
        for item in SavedItem.objects.all()
    )
    return variants, saved


def test_a_reset_puts_back_the_demo_prices_and_exactly_the_demo_saved_items(control):
    from django.utils import timezone

    from sandbox_merchant.models import SavedItem, SavedItemKind, Variant

    seeded = _demo_state()
    # what orders and tests change: prices, stock, a purchase saved, a liked item on another variant, one gone
    Variant.objects.filter(product_id="prod_blue_runner").update(price_amount=1, stock=0)
    liked = SavedItem.objects.filter(kind=SavedItemKind.LIKED).first()
    gone = SavedItem.objects.exclude(pk=liked.pk).first()
    SavedItem.objects.filter(pk=liked.pk).update(variant_id="var_blue_runner_44", saved_at=timezone.now())
    gone.delete()
    SavedItem.objects.create(
        customer_id="cus_alice", kind=SavedItemKind.PURCHASED, product_id="prod_beanie", saved_at=timezone.now()
    )
    assert _demo_state() != seeded

    control.reset()

    assert _demo_state() == seeded


def test_an_unknown_variant_changes_no_stock(control):
    with pytest.raises(SandboxControlError, match="var_nothing"):
        control.set_stock({BLUE_RUNNER_42: 1, "var_nothing": 2})

    assert available(BLUE_RUNNER_42) == 8


def test_orders_and_tokens_are_listed_with_the_card_that_paid(control, sandbox_merchant):
    session = sandbox_merchant.ready_session()
    total = get_merchant("sandbox").checkout.get(session_id=session["id"]).total().amount
    token = sandbox_merchant.delegate(session["id"], total)
    assert control.orders() == []
    assert [(t.id, t.used, t.revoked) for t in control.tokens(checkout_session_id=session["id"])] == [
        (token, False, False)
    ]

    completed = get_merchant("sandbox").checkout.complete(
        session_id=session["id"], payment=PaymentData(token=token), operation_id="control-test-complete"
    )
    assert completed.status == "completed"

    [order] = control.orders(customer="cus_alice")
    assert (order.checkout_session_id, order.card_last4, order.vault_reference, order.total) == (
        session["id"],
        "4242",
        "pm_alice_visa",
        total,
    )
    assert get_merchant("sandbox").orders.get(order_id=order.id).id == order.id
    assert control.orders(customer="cus_bob") == []
    assert control.tokens(checkout_session_id=session["id"])[0].used


def test_the_control_api_needs_the_bearer_token(control, sandbox_merchant):
    refused = requests.get(f"{sandbox_merchant.base_url}/sandbox/orders", headers={"API-Version": "2026-04-17"})

    assert refused.status_code == 401
