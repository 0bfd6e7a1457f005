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


def _card_handler(shop) -> dict:
    return next(h for h in shop.session["capabilities"]["payment"]["handlers"] if h["name"] == "dev.acp.tokenized.card")


def test_a_card_of_a_brand_the_handler_does_not_list_is_refused_before_a_token(shop):
    # the spec's own handler, taking American Express only: alice pays with her Visa
    _card_handler(shop)["config"]["accepted_brands"] = ["amex"]

    flow = confirmed_flow(shop)

    assert flow.failure_code == "card_brand_not_accepted"
    assert shop.tokens_minted == 0
    assert shop.requests_to("POST", f"/checkout_sessions/{shop.session_id}/complete") == []
    kinds = set(SpendEntry.objects.filter(flow_reference__startswith=f"flow:{flow.pk}:").values_list("kind", flat=True))
    assert SpendKind.COMMIT not in kinds
    message = flow.conversation.messages.filter(data__kind="flow_failed").get()
    # this merchant is not where alice's saved cards are kept: none of them to offer, the brand it takes named
    assert message.text.startswith("This shop doesn't take Visa cards, so I did not place the order")
    assert "It takes American Express" in message.text


@pytest.mark.parametrize(
    "accepted_brands",
    [
        None,  # declares none (a config without the field): the merchant decides at complete
        ["visa", "mastercard"],
        ["mastercard", "Visa"],  # another spelling than the spec's enum still names the brand
    ],
    ids=str,
)
def test_a_handler_that_takes_the_card_or_names_no_brands_is_paid_with(shop, accepted_brands):
    config = _card_handler(shop)["config"]
    if accepted_brands is None:
        del config["accepted_brands"]
    else:
        config["accepted_brands"] = accepted_brands

    flow = confirmed_flow(shop)

    assert flow.status == FlowStatus.PLACED
    assert shop.tokens_minted == 1


@pytest.mark.parametrize(
    ("config", "card", "accepted"),
    [
        ({"accepted_brands": ["visa", "mastercard"]}, "visa", True),
        ({"accepted_brands": ["visa", "mastercard"]}, "amex", False),
        ({"accepted_brands": ["amex"]}, "American Express", True),  # how vaults spell it
        ({"accepted_brands": ["mastercard"]}, "MasterCard", True),
        ({"accepted_brands": ["diners"]}, "Diners Club", True),
        ({"accepted_brands": ["visa"]}, "other", True),  # a card we know no brand of: nothing to compare
        ({}, "amex", True),  # no brands declared
        ({"accepted_brands": "visa"}, "amex", True),  # not a list: nothing readable declared
    ],
    ids=str,
)
def test_the_brands_a_handler_takes_are_compared_in_the_specs_spelling(config, card, accepted):
    from catalog_adapters.contract import PaymentHandler

    handler = PaymentHandler(id="card_tokenized", name="dev.acp.tokenized.card", config=config)

    assert handler.accepts_card_brand(card) is accepted
