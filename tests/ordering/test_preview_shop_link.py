"""A placement that fails offers the shop's own checkout page: the preview keeps the session's `continue_url`
(ACP CheckoutSession.continue_url), and the failure message hands it to the widget as `manual_checkout_url`.
At the sandbox merchant over HTTP (live server, real commits), with alice's card its issuer declines.
"""

from __future__ import annotations

import pytest

from ordering.models import FlowStatus
from sandbox_merchant.models import CheckoutSession
from tests.ordering.saga_reads import confirm, messages

pytestmark = pytest.mark.usefixtures("eager_tasks")


def test_a_declined_card_offers_the_shops_own_checkout_page(shop):
    # given alice's preview of a real sandbox session, paid with a card its issuer declines
    flow = shop.start_flow(card="pm_alice_decline")
    shop_page = CheckoutSession.objects.get(id=flow.checkout_session_id).continue_url
    assert shop_page.endswith(f"/checkout/{flow.checkout_session_id}")
    assert flow.preview["continue_url"] == shop_page

    # when she confirms it
    flow = confirm(shop, flow)

    # then the order failed, and the message offering to finish at the shop carries the shop's page
    assert flow.failure_code == "payment_declined" and flow.status != FlowStatus.PLACED
    [failed] = [message for message in messages(flow) if message["data"].get("kind") == "flow_failed"]
    assert "manual_checkout" in failed["data"]["options"]
    assert failed["data"]["manual_checkout_url"] == shop_page
