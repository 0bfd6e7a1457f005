"""The sandbox's order webhooks, over real HTTP, into our receiver: a refund is an adjustment of a still
`confirmed` order (rfc.orders), and our side still records it, gives the money back to the caps and says so."""

from __future__ import annotations

import pytest

from ordering.models import FlowStatus, OrderFlow
from ordering.services import flow_confirm
from tests.ordering import conftest as ordering_fixtures
from tests.webhooks.test_order_events import orders_status_on_settings_page

shop = ordering_fixtures.shop

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("eager_tasks")]


def test_a_full_refund_at_the_sandbox_reaches_our_receiver_as_a_confirmed_order_with_its_refund(shop):
    from sandbox_merchant.services import order_refund

    # given alice's order placed at the sandbox over HTTP
    flow = shop.start_flow()
    flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)
    flow = OrderFlow.objects.get(pk=flow.pk)
    assert flow.status == FlowStatus.PLACED

    # when the merchant refunds it in full and its webhooks are delivered to us
    order_refund(order_id=flow.merchant_order_id, amount=None, reason="goodwill")
    shop.sandbox.deliver_pending_webhooks()

    # then our side has the refund from the adjustment, while the shop's order status stays confirmed
    flow.refresh_from_db()
    assert flow.merchant_order_status == "confirmed"
    assert flow.refunded_amount == flow.total_amount
    assert orders_status_on_settings_page(flow).startswith("Refunded (")
