"""A shop's cancel that reports no refund (ACP records refunds as the order's adjustments) is not told as a refund:
the customer hears that the order was canceled and that the shop has not said the money came back. The caps still
get the order's amount back (a canceled order is no spending). Signed webhooks to our receiver, real PostgreSQL.
"""

from __future__ import annotations

import pytest

from ordering.models import Message
from tests.merchant_client.conftest import configure_merchant  # noqa: F401  (a fixture)
from tests.webhooks.conftest import (  # noqa: F401  (fixtures: consent_settings, customer, merchant_id, place, send)
    adjustment,
    consent_settings,
    customer,
    merchant_id,
    order_event,
    place,
    send,
)

pytestmark = pytest.mark.django_db


def told(flow) -> list[dict]:
    return list(
        Message.objects.filter(conversation_id=flow.conversation_id, data__flow_id=str(flow.pk))
        .order_by("id")
        .values("text", "data")
    )


def test_a_cancel_with_no_adjustment_is_not_told_as_a_refund(send, place):  # noqa: F811
    flow = place(total=380)

    send(order_event(flow.merchant_order_id, status="canceled"))

    [message] = told(flow)
    assert "refund of" not in message["text"]
    assert message["text"] == (
        f"The shop canceled your order N-{flow.merchant_order_id}. It has not said yet that it gave back the $3.80 "
        "you paid: if that does not come back to your card, ask the shop about it. "
        "Your spending limits have that amount back."
    )
    assert (message["data"]["refunded"], message["data"]["refund_unreported"]) == (380, 380)


def test_a_cancel_with_a_partial_refund_tells_only_what_the_shop_reported(send, place):  # noqa: F811
    flow = place(total=5000)

    send(order_event(flow.merchant_order_id, status="canceled", adjustments=(adjustment("adj_r1", 2000),)))

    [message] = told(flow)
    assert message["text"].startswith(
        f"The shop canceled your order N-{flow.merchant_order_id}. You get a refund of $20.00 to the card you paid "
        "with. It has not said yet that it gave back the $30.00 you paid"
    )
