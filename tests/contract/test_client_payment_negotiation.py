"""Payment handler negotiation in the saga: a merchant offering no handler we support is refused safely,
before any token is minted or any complete sent, and the customer is told plainly.
"""

from __future__ import annotations

import pytest

from consent.models import SpendEntry, SpendKind
from ordering.models import FlowStatus
from tests.merchant_client.scripted_shop import confirmed_flow, scripted_shop_running

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def shop(configure_merchant, settings, eager_tasks):
    settings.ORDERING_STEP_RETRY_BASE_SECONDS = 0
    with scripted_shop_running(configure_merchant) as server:
        yield server


@pytest.mark.parametrize(
    "capabilities",
    [
        None,  # a merchant that negotiates nothing
        {"payment": {"handlers": []}},
        "seller_backed_only",
    ],
)
def test_no_common_payment_handler_fails_before_charging_and_tells_the_customer(shop, capabilities):
    if capabilities is None:
        shop.session.pop("capabilities")
    elif capabilities == "seller_backed_only":
        handlers = shop.session["capabilities"]["payment"]["handlers"]
        shop.session["capabilities"]["payment"]["handlers"] = [h for h in handlers if h["id"] == "seller_pm_123"]
    else:
        shop.session["capabilities"] = capabilities

    flow = confirmed_flow(shop)

    assert flow.status in (FlowStatus.COMPENSATED, FlowStatus.FAILED, FlowStatus.COMPENSATING)
    assert flow.failure_code == "payment_handler_unavailable"
    # nothing was minted, nothing completed, nothing charged: the spend reservation is released
    assert shop.tokens_minted == 0
    assert shop.requests_to("POST", f"/checkout_sessions/{shop.session_id}/complete") == []
    kinds = set(SpendEntry.objects.filter(flow_reference__startswith=f"flow:{flow.pk}:").values_list("kind", flat=True))
    assert SpendKind.COMMIT not in kinds
    message = flow.conversation.messages.filter(data__kind="flow_failed").get()
    assert message.text.startswith("This shop does not take the kind of payment I can make for you")
    assert "nothing was charged" in message.text
    assert message.data["options"] == ["manual_checkout", "talk_to_human"]
