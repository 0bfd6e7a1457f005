"""The preview of a session at a merchant that answers as the spec does (tests/support/spec_merchant.py, real socket):
every amount its total carries is named, and the shop's own checkout link is kept for a placement that fails.

The spec merchant charges a $0.50 service fee on every session; with CONTROL totals "all_types" it adds $2.00 gift
wrap and a $1.00 tip and takes $1.50 of store credit off (and lists a second, $0.00 tax entry).
"""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth import get_user_model

from consent.models import PaymentMethod
from ordering.preview import preview_drifted, preview_text
from ordering.selectors import preview_public
from ordering.services import conversation_start, flow_preview, flow_start
from tests.support import spec_merchant
from tests.support.checkout_requests import home_checkout_request
from tests.support.seed_replay import consent_demo_restore

pytestmark = [pytest.mark.django_db, pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def shop(spec_url, configure_merchant):
    spec_merchant.reset()
    return configure_merchant(spec_url, token=spec_merchant.TOKEN, capabilities=["checkout", "vault"])


@pytest.fixture
def alice():
    consent_demo_restore()
    return get_user_model().objects.get(username="alice")


def previewed(shop, alice, shipping: str = "ship_standard"):
    request, home = home_checkout_request(alice, (("item_123", 1),), shipping=shipping)
    session = shop.checkout.create(request=request, operation_id=f"op-{uuid.uuid4().hex}")
    conversation = conversation_start(customer_id=alice.pk)
    flow = flow_start(conversation=conversation, merchant_id=shop.id, checkout_session_id=session.id)
    card = PaymentMethod.objects.filter(user=alice, vault_reference="pm_alice_visa").get()
    return session, flow_preview(
        flow_id=flow.pk, customer_id=alice.pk, session=session, payment_method_id=card.pk, address_id=home.pk
    )


def test_the_merchants_service_fee_is_named_in_the_preview(shop, alice):
    _, flow = previewed(shop, alice)

    preview = flow.preview
    # a $3.00 item: $0.30 tax, $1.00 standard shipping, and the merchant's $0.50 fee make its $4.80
    assert (preview["subtotal"], preview["tax"], preview["shipping"], preview["total"]) == (300, 30, 100, 480)
    assert preview["charges"] == [{"type": "fee", "name": "Service Fee", "amount": 50, "credit": False}]
    assert preview_text(preview).startswith(
        "I'll order 1x Product item_123 — $4.80, incl. $0.30 tax, $1.00 shipping, $0.50 service fee, to Home"
    )
    # and the card the widget draws from lists it among the totals
    assert preview_public(flow)["charges"] == preview["charges"]


def test_gift_wrap_a_tip_and_store_credit_are_each_named_and_add_up_to_the_total(shop, spec_url, alice):
    spec_merchant.control(spec_url, totals="all_types")

    _, flow = previewed(shop, alice)

    preview = flow.preview
    assert [(charge["name"], charge["amount"], charge["credit"]) for charge in preview["charges"]] == [
        ("Service Fee", 50, False),
        ("Gift wrap", 200, False),
        ("Tip", 100, False),
        ("Store credit", 150, True),
    ]
    signed = sum(-charge["amount"] if charge["credit"] else charge["amount"] for charge in preview["charges"])
    assert preview["subtotal"] - preview["discount"] + preview["tax"] + preview["shipping"] + signed == 630
    assert preview["total"] == 630
    assert ", $0.50 service fee, $2.00 gift wrap, $1.00 tip, less $1.50 store credit, to Home" in preview_text(preview)


def test_a_changed_fee_asks_for_a_new_confirmation(shop, alice):
    _, flow = previewed(shop, alice)
    higher = {**flow.preview, "charges": [{**flow.preview["charges"][0], "amount": 75}]}

    assert preview_drifted(flow.preview, higher)


def test_the_preview_keeps_the_shops_own_checkout_link(shop, alice):
    session, flow = previewed(shop, alice)

    assert session.continue_url == f"https://www.testshop.com/checkout/{session.id}"
    assert flow.preview["continue_url"] == session.continue_url
