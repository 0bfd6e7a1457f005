"""The issue's "Done when": the customer's preview built from an official example session shows the
right lines, quantities and totals.

"The merchant" serves the spec's multi-item session on a real socket; our client reads it, and the
real preview path (flow_start, flow_preview) shows it to alice (seeded demo customer, real PostgreSQL).
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from consent.demo import consent_demo_seed
from consent.models import Address, PaymentMethod
from ordering.preview import preview_text
from ordering.services import conversation_start, flow_preview, flow_start
from tests.contract.conftest import serve_session, session_example

pytestmark = [pytest.mark.django_db, pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def alice():
    consent_demo_seed()
    return get_user_model().objects.get(username="alice")


def preview_of(merchant, scripted, alice, wire):
    serve_session(scripted, wire)
    session = merchant.checkout.get(session_id=wire["id"])
    conversation = conversation_start(customer_id=alice.pk)
    flow = flow_start(conversation=conversation, merchant_id=merchant.id, checkout_session_id=session.id)
    card = PaymentMethod.objects.filter(user=alice).order_by("pk").first()
    home = Address.objects.get(user=alice, label="Home")
    return flow_preview(
        flow_id=flow.pk, customer_id=alice.pk, session=session, payment_method_id=card.pk, address_id=home.pk
    )


def test_the_multi_item_example_previews_with_its_lines_quantities_and_totals(scripted, merchant, alice):
    flow = preview_of(merchant, scripted, alice, session_example("create_multi_item_checkout_response"))

    preview = flow.preview
    assert [(line["title"], line["quantity"], line["unit_amount"], line["total"]) for line in preview["lines"]] == [
        ("Vintage Denim Jacket", 2, 300, 660),
        ("Leather Belt", 1, 500, 495),
    ]
    assert preview["currency"] == "usd"
    assert (preview["subtotal"], preview["discount"], preview["tax"], preview["shipping"], preview["total"]) == (
        1100,
        50,
        105,
        150,
        1305,
    )
    assert flow.total_amount == 1305
    assert preview["fulfillment"] == {
        "line_one": "1234 Chat Road,",
        "city": "San Francisco",
        "postal_code": "94131",
        "country": "US",
    }
    # Variants come from the lines' custom_attributes (Size).
    assert [line["variant"] for line in preview["lines"]] == ["Medium", "32"]
    assert preview_text(preview) == (
        # the merchant's own $0.50 discount (no code) is named too: every amount of the total is confirmed
        "I'll order 2x Vintage Denim Jacket (Medium), 1x Leather Belt (32) — $13.05 after $0.50 off, incl. $1.05 tax, "
        "$1.50 shipping, to Home, paid with Visa •••• 4242. Confirm?"
    )


def test_the_single_item_example_previews_with_its_fee_inside_the_total(scripted, merchant, alice):
    flow = preview_of(merchant, scripted, alice, session_example("create_checkout_session_response"))

    preview = flow.preview
    assert [(line["title"], line["quantity"], line["unit_amount"], line["total"]) for line in preview["lines"]] == [
        ("Vintage Denim Jacket", 1, 300, 330)
    ]
    # The merchant's total (480) includes its service fee: the preview shows the merchant's number, never a sum of ours.
    assert (preview["subtotal"], preview["tax"], preview["shipping"], preview["total"]) == (300, 30, 100, 480)


def test_a_discounted_example_previews_its_discount_and_codes(scripted, merchant, alice):
    import json

    from tests.support.acp_schema import EXAMPLES_DIR

    wire = json.loads((EXAMPLES_DIR / "discount-extension" / "rejected-discount-code.json").read_text())["response"]
    flow = preview_of(merchant, scripted, alice, wire)

    preview = flow.preview
    assert preview["promo_codes"] == ["EXPIRED50", "SAVE10"]  # the codes as the merchant echoes them
    assert preview["lines"][0]["quantity"] == 1 and preview["lines"][0]["title"] == "Wireless Charger"
    assert preview["total"] == wire["totals"][-1]["amount"]


@pytest.mark.parametrize(
    ("example", "discount"),
    [
        # an order-level discount ($10 off the order, no allocations): `discount` only
        ("order-level-discount.json", 1000),
        # a percentage allocated to the lines: `items_discount` only
        ("percentage-discount-with-allocations.json", 2200),
        # two codes, listed as two entries (rfc.discount_extension §8.1 keeps each discount in one of the two)
        ("stacked-discounts.json", 41960 + 500),
    ],
)
def test_the_preview_shows_what_the_discount_examples_save_counted_once(scripted, merchant, alice, example, discount):
    import json

    from tests.support.acp_schema import EXAMPLES_DIR

    wire = json.loads((EXAMPLES_DIR / "discount-extension" / example).read_text())["response"]
    flow = preview_of(merchant, scripted, alice, wire)

    assert flow.preview["discount"] == discount
    assert flow.preview["total"] == wire["totals"][-1]["amount"]
