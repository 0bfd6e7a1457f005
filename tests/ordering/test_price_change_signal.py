"""A price change the way ACP 2026-04-17 signals it (a `price_change` warning, the lines' new unit
amounts and totals) leads to the same re-confirmation as always: nothing charged, a new preview shown.

"The merchant" is a scripted ACP merchant on a real socket serving the spec's multi-item session
(tests/merchant_client/scripted_shop.py); the saga runs for real (eager tasks, real PostgreSQL).
"""

from __future__ import annotations

import copy

import pytest

from ordering.models import FlowStatus, FlowStep, OrderFlow
from ordering.services import flow_confirm
from tests.merchant_client.conftest import configure_merchant  # noqa: F401 (fixture)
from tests.merchant_client.scripted import Reply
from tests.merchant_client.scripted_shop import previewed_flow, scripted_shop_running
from tests.support.acp_schema import assert_valid

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def shop(configure_merchant, settings, eager_tasks):  # noqa: F811
    settings.ORDERING_STEP_RETRY_BASE_SECONDS = 0
    settings.ORDERING_STEP_MAX_ATTEMPTS = 3
    with scripted_shop_running(configure_merchant) as server:
        yield server


def repriced(session: dict, *, with_warning: bool = True) -> dict:
    """The jacket from $3.00 to $3.50 a unit (quantity 2): the line's and the order's totals follow."""
    changed = copy.deepcopy(session)
    jacket = changed["line_items"][0]
    jacket["unit_amount"] = 350
    jacket["totals"] = [
        {"type": "base_amount", "display_text": "Base Amount", "amount": 700},
        {"type": "discount", "display_text": "Discount", "amount": 0},
        {"type": "subtotal", "display_text": "Subtotal", "amount": 700},
        {"type": "tax", "display_text": "Tax", "amount": 70},
        {"type": "total", "display_text": "Total", "amount": 770},
    ]
    changed["totals"] = [
        {"type": "items_base_amount", "display_text": "Item(s) total", "amount": 1200},
        {"type": "discount", "display_text": "Discount", "amount": 50},
        {"type": "subtotal", "display_text": "Subtotal", "amount": 1150},
        {"type": "tax", "display_text": "Tax", "amount": 115},
        {"type": "fulfillment", "display_text": "Fulfillment", "amount": 150},
        {"type": "total", "display_text": "Total", "amount": 1415},
    ]
    if with_warning:
        changed["messages"] = [
            {
                "type": "warning",
                "code": "price_change",
                "content_type": "plain",
                "content": "Vintage Denim Jacket now costs $3.50 (was $3.00).",
                "param": "$.line_items[0]",
                "resolution": "requires_buyer_review",
            }
        ]
    return changed


def confirm(flow: OrderFlow) -> OrderFlow:
    flow_confirm(flow_id=flow.pk, customer_id=flow.customer_id, preview_hash=flow.preview_hash)
    return OrderFlow.objects.get(pk=flow.pk)


def test_a_price_change_warning_at_complete_charges_nothing_and_asks_again_with_the_new_prices(shop):
    flow = previewed_flow(shop)
    assert flow.total_amount == 1305
    shop.complete_answers.append(Reply(200, repriced(shop.session)))

    flow = confirm(flow)

    steps = list(FlowStep.objects.filter(flow=flow).values_list("name", "status", "error_class", "error_detail"))
    assert flow.status == FlowStatus.PREVIEWED, (flow.failure_code, flow.failure_detail, steps)
    assert flow.total_amount == 1415 and flow.preview["total"] == 1415
    assert flow.preview["lines"][0]["unit_amount"] == 350 and flow.preview["lines"][0]["total"] == 770
    last = flow.conversation.messages.order_by("-created_at", "-id").first()
    assert last.text.startswith("The shop's price changed from $13.05, so nothing was charged. I'll order 2x")
    assert "$14.15" in last.text and last.data["kind"] == "preview"
    (complete,) = shop.requests_to("POST", f"/checkout_sessions/{shop.session_id}/complete")
    assert_valid(complete.json(), "CheckoutSessionCompleteRequest")
    # The round's token is revoked again (compensation), nothing else is left.
    assert shop.requests_to("POST", "/agentic_commerce/delegate_payment/vt_scripted1/revoke")


def test_new_prices_at_the_price_check_stop_before_any_token_is_minted(shop):
    flow = previewed_flow(shop)
    shop.get_answers.append(repriced(shop.session))  # what verify_price reads

    flow = confirm(flow)

    assert flow.status == FlowStatus.PREVIEWED and flow.total_amount == 1415
    assert shop.tokens_minted == 0
    assert shop.requests_to("POST", f"/checkout_sessions/{shop.session_id}/complete") == []
    assert list(FlowStep.objects.filter(flow=flow).values_list("name", "status"))[-1] == ("verify_price", "succeeded")


def test_the_new_preview_can_be_confirmed_and_places_at_the_new_total(shop):
    flow = previewed_flow(shop)
    shop.complete_answers.append(Reply(200, repriced(shop.session)))
    flow = confirm(flow)
    assert flow.status == FlowStatus.PREVIEWED
    # The merchant now holds the new prices, without the one-time warning.
    shop.session = repriced(shop.session, with_warning=False)

    flow = confirm(flow)

    assert flow.status == FlowStatus.PLACED and flow.merchant_order_id == "ord_scripted_1"
    assert flow.total_amount == 1415
