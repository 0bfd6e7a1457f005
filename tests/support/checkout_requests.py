"""The checkout request a test sends for a customer's saved Home address (the sandbox's tests and the spec merchant's
share it): the items, the buyer, the address as ACP's fulfillment details, and a shipping option when one is named."""

from __future__ import annotations

from catalog_adapters.contract import (
    Buyer,
    CheckoutRequest,
    LineItemRequest,
    SelectedFulfillmentOption,
)
from consent.models import Address
from ordering.agent.merchant import fulfillment_details


def home_checkout_request(
    user, items: tuple[tuple[str, int], ...], *, shipping: str | None = None, codes: tuple[str, ...] | None = None
) -> tuple[CheckoutRequest, Address]:
    """(the request, the Home address it sends to) for `user`'s `items` ((item id, quantity), ...)."""
    home = Address.objects.get(user=user, label="Home")
    request = CheckoutRequest(
        line_items=tuple(LineItemRequest(id=item, quantity=quantity) for item, quantity in items),
        currency="usd",
        buyer=Buyer(email=user.email, first_name=user.first_name),
        fulfillment_details=fulfillment_details(home, user.email),
        selected_fulfillment_options=(SelectedFulfillmentOption(option_id=shipping),) if shipping else None,
        discount_codes=codes,
    )
    return request, home
