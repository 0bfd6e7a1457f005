"""Payment handler negotiation in the saga: a merchant offering no handler we support is refused safely,
before any token is minted or any complete sent, and the customer is told plainly.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from consent.demo import consent_demo_seed
from consent.models import Address, PaymentMethod, SpendEntry, SpendKind
from ordering.models import FlowStatus, OrderFlow
from ordering.services import conversation_start, flow_confirm, flow_preview, flow_start
from tests.merchant_client.scripted_shop import ScriptedShop

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def shop(configure_merchant, settings, eager_tasks):
    settings.ORDERING_STEP_RETRY_BASE_SECONDS = 0
    server = ScriptedShop().start()
    server.merchant = configure_merchant(server.url, max_attempts=1)
    try:
        yield server
    finally:
        server.stop()


def confirmed(shop) -> OrderFlow:
    consent_demo_seed()
    alice = get_user_model().objects.get(username="alice")
    session = shop.merchant.checkout.get(session_id=shop.session_id)
    flow = flow_start(
        conversation=conversation_start(customer_id=alice.pk),
        merchant_id=shop.merchant.id,
        checkout_session_id=session.id,
    )
    flow = flow_preview(
        flow_id=flow.pk,
        customer_id=alice.pk,
        session=session,
        payment_method_id=PaymentMethod.objects.filter(user=alice, brand="visa").order_by("pk").first().pk,
        address_id=Address.objects.get(user=alice, label="Home").pk,
    )
    flow_confirm(flow_id=flow.pk, customer_id=alice.pk, preview_hash=flow.preview_hash)
    return OrderFlow.objects.get(pk=flow.pk)


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

    flow = confirmed(shop)

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
