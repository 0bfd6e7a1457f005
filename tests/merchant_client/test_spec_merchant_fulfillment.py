"""Shipping choices against a merchant that answers as the spec does (tests/support/spec_merchant.py, real socket).

The spec merchant offers its own option ids (fulfillment_option_123 "Standard" $1.00 in 4-5 days,
fulfillment_option_456 "Express" $5.00 in 1-2 days), selects the standard one itself once it has an address, and
checks `selected_fulfillment_options[].item_ids` as every spec example does (Item ids), or as line ids
(CONTROL item_ids "line"). The assistant asks with its own words (ordering/agent/state.py: ship_standard,
ship_express): the client maps them onto what the merchant offers and never sends an id it did not offer.
"""

from __future__ import annotations

import json
import urllib.request
import uuid

import pytest

from catalog_adapters.contract import (
    Address,
    Buyer,
    CheckoutRequest,
    FulfillmentDetails,
    LineItemRequest,
    SelectedFulfillmentOption,
)
from catalog_adapters.errors import MerchantClientError, MerchantServerError
from tests.support import spec_merchant

STANDARD, EXPRESS = "fulfillment_option_123", "fulfillment_option_456"
HOME = FulfillmentDetails(
    name="John Doe",
    email="johndoe@example.com",
    address=Address(
        name="John Doe", line_one="1234 Chat Road", city="San Francisco", state="CA", country="US", postal_code="94131"
    ),
)


@pytest.fixture
def shop(spec_url, configure_merchant):
    spec_merchant.reset()
    return configure_merchant(spec_url, token=spec_merchant.TOKEN, capabilities=["checkout", "vault"])


def requests_sent(url: str) -> list[dict]:
    return json.load(urllib.request.urlopen(f"{url}/__log"))["log"]


def sent_selections(url: str) -> list[tuple[int, list]]:
    """(status answered, selected_fulfillment_options sent) of every update that chose an option."""
    return [
        (entry["status"], json.loads(entry["raw"])["selected_fulfillment_options"])
        for entry in requests_sent(url)
        if entry["raw"] and "selected_fulfillment_options" in json.loads(entry["raw"])
    ]


def create(shop, shipping: str, *, items=(("item_123", 2),)):
    return shop.checkout.create(
        request=CheckoutRequest(
            line_items=tuple(LineItemRequest(id=item, quantity=quantity) for item, quantity in items),
            currency="usd",
            buyer=Buyer(email="johndoe@example.com", first_name="John", last_name="Doe"),
            fulfillment_details=HOME,
            selected_fulfillment_options=(SelectedFulfillmentOption(option_id=shipping),),
        ),
        operation_id=f"op-{uuid.uuid4().hex}",
    )


def test_the_default_choice_keeps_the_merchants_own_selection_and_sends_nothing_more(shop, spec_url):
    # when the assistant asks for its default ("ship_standard", an id this merchant does not offer)
    session = create(shop, "ship_standard")

    # then the merchant's own standard selection stands, the session can be paid, and no unknown id was sent
    assert [option.option_id for option in session.selected_fulfillment_options] == [STANDARD]
    assert session.status == "ready_for_payment"
    assert [entry["path"] for entry in requests_sent(spec_url)] == ["/checkout_sessions"]


def test_express_is_the_merchants_fastest_option_named_with_item_ids(shop, spec_url):
    session = create(shop, "ship_express", items=(("item_123", 2), ("item_9", 1)))

    assert [option.option_id for option in session.selected_fulfillment_options] == [EXPRESS]
    assert session.status == "ready_for_payment"
    assert session.total("fulfillment").amount == 500
    # one update, accepted at once: the Item ids, as the merchant's own selection named them
    assert sent_selections(spec_url) == [
        (200, [{"type": "shipping", "option_id": EXPRESS, "item_ids": ["item_123", "item_9"]}])
    ]


@pytest.mark.parametrize("refusal", ["error", "message"])
def test_a_merchant_reading_item_ids_as_line_ids_is_asked_once_more_with_line_ids(shop, spec_url, refusal):
    # given a merchant that wants line ids in item_ids, and says so with a 400 or with an error message
    spec_merchant.control(spec_url, item_ids="line", bad_option=refusal)

    session = create(shop, "ship_express")

    assert [option.option_id for option in session.selected_fulfillment_options] == [EXPRESS]
    assert session.status == "ready_for_payment" and not session.errors
    sent = sent_selections(spec_url)
    assert [[option["item_ids"] for option in selection] for _, selection in sent] == [
        [["item_123"]],
        [["line_item_123"]],
    ]
    assert [status for status, _ in sent] == [400 if refusal == "error" else 200, 200]


def test_switching_back_to_standard_after_express_chooses_the_cheapest_option(shop, spec_url):
    session = create(shop, "ship_express")
    assert [option.option_id for option in session.selected_fulfillment_options] == [EXPRESS]

    updated = shop.checkout.update(
        session_id=session.id,
        request=CheckoutRequest(selected_fulfillment_options=(SelectedFulfillmentOption(option_id="ship_standard"),)),
        operation_id=f"op-{uuid.uuid4().hex}",
    )

    assert [option.option_id for option in updated.selected_fulfillment_options] == [STANDARD]
    assert updated.total("fulfillment").amount == 100
    assert {option["option_id"] for _, selection in sent_selections(spec_url) for option in selection} == {
        STANDARD,
        EXPRESS,
    }


def test_the_merchants_own_ids_are_sent_as_they_are(shop, spec_url):
    session = create(shop, EXPRESS)

    assert [option.option_id for option in session.selected_fulfillment_options] == [EXPRESS]


def test_a_create_whose_choice_is_refused_cancels_the_session_the_merchant_made(shop, spec_url):
    # given a merchant that refuses the shipping choice for another reason than the kind of ids
    refusal = {"type": "invalid_request", "code": "invalid", "message": "Express is not available"}
    spec_merchant.control(
        spec_url,
        queue={
            "update": [{"status": 400, "body": {**refusal, "param": "$.selected_fulfillment_options[0].option_id"}}]
        },
    )

    with pytest.raises(MerchantClientError):
        create(shop, "ship_express")

    # then the session it created (201) is not left open: we canceled it
    sessions = json.load(urllib.request.urlopen(f"{spec_url}/__sessions"))
    assert [session["status"] for session in sessions.values()] == ["canceled"]
    assert [entry["path"].rsplit("/", 1)[-1] for entry in requests_sent(spec_url)][-1] == "cancel"


def test_a_create_answer_we_cannot_read_cancels_the_session_the_merchant_made(shop, spec_url):
    # given a 201 whose body lacks its currency (no CheckoutSession we can use)
    spec_merchant.control(spec_url, queue={"create": [{"patch": {"currency": None}}]})

    with pytest.raises(MerchantServerError):
        create(shop, "ship_standard")

    sessions = json.load(urllib.request.urlopen(f"{spec_url}/__sessions"))
    assert [session["status"] for session in sessions.values()] == ["canceled"]


def test_with_pickup_delivery_and_digital_offered_too_the_words_still_choose_among_shipping(shop, spec_url):
    # given a merchant offering a free pickup, a same-day local delivery and a digital option besides its shipping
    spec_merchant.control(spec_url, options="all_kinds")

    express = create(shop, "ship_express")
    standard = create(shop, "ship_standard")

    # express is the fastest *shipping* (not the same-day delivery), standard is not the free pickup
    assert [option.option_id for option in express.selected_fulfillment_options] == [EXPRESS]
    assert [option.option_id for option in standard.selected_fulfillment_options] == [STANDARD]
