"""The sandbox's checkout rules as pure functions over plain values (no models, no database).

sandbox_merchant/services.py and selectors.py apply them to their rows; the in-memory fake merchant
(tests/support/fake_merchant.py) applies the same functions to its dictionaries, so the two cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

from sandbox_merchant.pricing import PricedLine, Quote, message
from sandbox_merchant.wire import MISSING, CheckoutRequest

ADDRESS_FIELDS = ("line_one", "city", "country", "postal_code")


def address_complete(*, fulfillment_details: dict | None) -> bool:
    """Whether the fulfillment details carry an address with every required field non-blank."""
    address = (fulfillment_details or {}).get("address") or {}
    return all(str(address.get(name) or "").strip() for name in ADDRESS_FIELDS)


# The sandbox is no card network: the only card numbers it takes (the storefront's card form, and delegate_payment's
# `card_number_type: fpan`) are these published test numbers, each with its brand and how it behaves. The first
# four are the demo customers' saved cards (demo.CARDS: same brand, last four and behaviour), the rest are
# well-known test numbers. The vault keeps the brand, the last four digits, the expiry and the behaviour; never the
# number or the CVC (docs/sandbox-merchant-wire.md, "Delegated payment").
TEST_CARD_NUMBERS: dict[str, tuple[str, str]] = {
    "4242424242424242": ("visa", "approve"),  # alice's pm_alice_visa
    "4000000000000002": ("visa", "decline"),  # alice's pm_alice_decline
    "5555555555083220": ("mastercard", "requires_3ds"),  # alice's pm_alice_3ds
    "4012888888881881": ("visa", "approve"),  # bob's pm_bob_visa
    "5555555555554444": ("mastercard", "approve"),
    "4000000000003220": ("visa", "requires_3ds"),
}


def card_number_luhn_valid(digits: str) -> bool:
    total = 0
    for index, digit in enumerate(reversed(digits)):
        value = int(digit) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def line_id(*, variant_id: str) -> str:
    """A checkout line's id: one line per variant, `var_x` -> `li_x`."""
    return f"li_{variant_id.removeprefix('var_')}"


def default_fulfillment_selection(*, variant_ids: list[str]) -> list[dict]:
    """The selection made for a session with a complete address and none chosen: the first shipping option."""
    default = settings.SANDBOX_MERCHANT_SHIPPING_OPTIONS[0]["id"]
    item_ids = [line_id(variant_id=variant_id) for variant_id in variant_ids]
    return [{"type": "shipping", "option_id": default, "item_ids": item_ids}]


def fulfillment_selection_covering(*, selected: list[dict] | None, line_ids: list[str]) -> list[dict]:
    """The session's selection in step with its lines: SelectedFulfillmentOption.item_ids lists the lines an option
    covers. One shipping option covers the whole order (the quote charges the first selected option, once, for every
    line), so it lists every current line, whatever the client sent or the lines were before; a further option
    covers nothing and is not kept."""
    if not selected:
        return []
    return [{**selected[0], "item_ids": list(line_ids)}]


def line_representation(line: PricedLine) -> dict:
    """An ACP LineItem: the Item, its quantity, name, unit amount and totals (sandbox detail alongside)."""
    source = line.source
    totals = [
        {"type": "items_base_amount", "display_text": "Items", "amount": line.base_amount},
        {"type": "items_discount", "display_text": "Item discounts", "amount": line.discount},
        {"type": "subtotal", "display_text": "Subtotal", "amount": line.subtotal},
        {"type": "tax", "display_text": "Tax", "amount": line.tax},
        {"type": "total", "display_text": "Total", "amount": line.total},
    ]
    options = [
        {"name": name, "value": value} for name, value in (("Colour", source.colour), ("Size", source.size)) if value
    ]
    body = {
        "id": source.line_id,
        "item": {"id": source.variant_id, "name": source.title, "unit_amount": source.unit_amount},
        "quantity": source.quantity,
        "name": source.title,
        "unit_amount": source.unit_amount,
        "product_id": source.product_id,
        "variant_id": source.variant_id,
        "category": source.category,
        "totals": totals,
    }
    if options:
        body["variant_options"] = options
    return body


def fulfillment_messages(*, fulfillment_details: dict | None, selected: list[dict] | None) -> list[dict]:
    """Error messages for an incomplete address (when one is given) and for unknown selected options: pass the
    selection the request asked for (indexes are the request's), else the session's."""
    messages = []
    address_given = bool(fulfillment_details) and (fulfillment_details or {}).get("address") is not None
    if address_given and not address_complete(fulfillment_details=fulfillment_details):
        messages.append(
            message(
                type="error",
                code="invalid",
                param="$.fulfillment_details.address",
                content="The address needs line_one, city, country and postal_code.",
            )
        )
    known = {option["id"] for option in settings.SANDBOX_MERCHANT_SHIPPING_OPTIONS}
    for index, chosen in enumerate(selected or []):
        if chosen["option_id"] not in known:
            messages.append(
                message(
                    type="error",
                    code="invalid",
                    param=f"$.selected_fulfillment_options[{index}].option_id",
                    content=f"Unknown fulfillment option; choose one of {', '.join(sorted(known))}.",
                )
            )
    return messages


def missing_for_payment(*, fulfillment_details: dict | None, selected: list[dict] | None) -> list[dict]:
    """What a complete on a session that is not ready for payment answers it lacks: an error message `missing`
    (MessageError: a business problem of a valid session, "e.g. status not_ready_for_payment") per absent part."""
    messages = []
    address = (fulfillment_details or {}).get("address")
    if address is None:
        messages.append(
            message(
                type="error",
                code="missing",
                param="$.fulfillment_details.address" if fulfillment_details else "$.fulfillment_details",
                content="A shipping address is needed before this order can be paid; nothing was charged.",
            )
        )
    elif not selected:
        # (without an address there is nothing to choose yet: the address brings the default option)
        messages.append(
            message(
                type="error",
                code="missing",
                param="$.selected_fulfillment_options",
                content="A fulfillment option must be selected before this order can be paid; nothing was charged.",
            )
        )
    return messages


def ready_for_payment(*, fulfillment_details: dict | None, selected: list[dict] | None, messages: list[dict]) -> bool:
    """A session is ready for payment with a complete address, an option selected and no error message."""
    return (
        address_complete(fulfillment_details=fulfillment_details)
        and bool(selected)
        and not any(item["type"] == "error" for item in messages)
    )


@dataclass(frozen=True)
class TokenFacts:
    """What the token checks read of a delegated payment token and its card."""

    revoked: bool
    used: bool
    expires_at: datetime
    checkout_session_id: str | None
    card_customer_id: str | None
    merchant_id: str
    currency: str
    max_amount: int


def token_refusal(
    *,
    token: TokenFacts | None,
    session_id: str,
    customer_id: str | None,
    currency: str,
    total: int,
    now: datetime,
) -> str | None:
    """Why a payment token may not pay this session's total now (a reason code), or None when it may."""
    if token is None:
        return "token_unknown"
    if token.revoked:
        return "token_revoked"
    if token.used:
        return "already_used"
    if token.expires_at <= now:
        return "token_expired"
    if token.checkout_session_id != session_id:
        return "wrong_checkout_session"
    if customer_id is None or token.card_customer_id != customer_id:
        # A saved card pays only for its own holder's checkout, whoever knows its reference.
        return "card_not_owned_by_buyer"
    if token.merchant_id != settings.SANDBOX_MERCHANT_ID:
        return "wrong_merchant"
    if token.currency != currency:
        return "wrong_currency"
    if total > token.max_amount:
        return "over_allowance"
    return None


def session_contents(
    *,
    buyer: dict | None,
    line_items: list[dict],
    fulfillment_details: dict | None,
    quote: dict,
    selected: list[dict] | None,
    codes: list[str] | None,
    messages: list[dict] | None,
) -> dict:
    """The middle of an ACP CheckoutSession, in its order: buyer and fulfillment details only when given."""
    body: dict = {}
    if buyer:
        body["buyer"] = buyer
    body["line_items"] = line_items
    if fulfillment_details:
        body["fulfillment_details"] = fulfillment_details
    body.update(
        {
            "fulfillment_options": quote.get("fulfillment_options", []),
            "selected_fulfillment_options": selected or [],
            "discounts": {
                "codes": codes or [],
                "applied": quote.get("applied_discounts", []),
                "rejected": quote.get("rejected_discounts", []),
            },
            "totals": quote.get("totals", []),
            "messages": messages or [],
        }
    )
    return body


def order_reference(*, order_id: str, session_id: str, permalink_url: str, status: str) -> dict:
    """The order a completed CheckoutSession carries."""
    return {
        "type": "order",
        "id": order_id,
        "checkout_session_id": session_id,
        "order_number": order_id.removeprefix("ord_")[:12].upper(),
        "permalink_url": permalink_url,
        "status": status,
    }


def price_change_message() -> dict:
    """The warning a complete answers when the total moved since the last quote (nothing charged)."""
    return message(
        type="warning",
        code="price_change",
        param="$.totals",
        content="Prices changed since the last quote; review the new totals. Nothing was charged.",
    )


def token_refused_message(*, refusal: str) -> dict:
    """The error a complete answers when the payment token may not pay (`refusal`: from `token_refusal`)."""
    return message(
        type="error",
        code="payment_declined",
        param="$.payment_data.instrument.credential.token",
        content=f"Payment token refused ({refusal}). Nothing was charged.",
    )


def card_brand_refused_message(*, brand: str, last4: str) -> dict | None:
    """The error a complete answers when the payment handler does not take the card's brand (its config's
    `accepted_brands`, settings.SANDBOX_MERCHANT_ACCEPTED_BRANDS); None when it takes it."""
    if brand.lower() in settings.SANDBOX_MERCHANT_ACCEPTED_BRANDS:
        return None
    return message(
        type="error",
        code="payment_declined",
        param="$.payment_data",
        content=f"This shop does not take {brand} cards (the {brand} card ending {last4}). Nothing was charged.",
    )


def card_declined_message(*, brand: str, last4: str) -> dict:
    """The error a complete answers when the card is declined."""
    return message(
        type="error",
        code="payment_declined",
        param="$.payment_data",
        content=f"The {brand} card ending {last4} was declined. Nothing was charged.",
    )


def authentication_requested_message() -> dict:
    """The error a complete answers when the card issuer asks for 3-D Secure first."""
    return message(
        type="error",
        code="requires_3ds",
        param="$.authentication_result",
        content="The card issuer asks for 3-D Secure authentication; complete again with its result.",
    )


_DIRECTORY_SERVERS = {"visa": "visa", "mastercard": "mastercard", "amex": "american_express"}


def authentication_metadata(*, brand: str, challenge: str) -> dict:
    """ACP AuthenticationMetadata for a session that asks for 3-D Secure: the card's directory server and whose
    wish the challenge is (`mandated` by the issuer, or `preferred` by the merchant; unknown counts as mandated)."""
    return {
        "acquirer_details": {
            "acquirer_bin": "400000",
            "acquirer_country": "US",
            "acquirer_merchant_id": "sandbox-merchant-001",
            "merchant_name": "Sandbox Merchant",
        },
        "directory_server": _DIRECTORY_SERVERS.get(brand.lower(), "visa"),
        "flow_preference": {"type": "challenge", "challenge": {"type": challenge or "mandated"}},
    }


# The outcome_details an issuer's result carries, all compared with what the issuer recorded.
AUTHENTICATION_DETAILS = ("three_ds_cryptogram", "electronic_commerce_indicator", "transaction_id", "version")


def authentication_refusal(*, outcome: str, mandated: bool, issuer_matched: bool) -> str | None:
    """Why a complete's `authentication_result` cannot pay a session that asked for 3-D Secure (None: it can).

    Only the issuer's own result authenticates: `authenticated` must match, detail for detail, a result the
    sandbox's issuer recorded for this session and that no complete spent yet (`issuer_matched`); a client's
    word alone never replaces it. `not_supported` (no 3-D Secure result exists) pays only where the challenge was
    the merchant's preference, not the issuer's mandate (rfc.delegate_authentication: a card not enrolled MAY
    proceed to authorization without 3DS; a mandated challenge may not be skipped). Every other outcome
    (denied, abandoned, attempt_acknowledged, ...) is a decline.
    """
    if outcome == "authenticated":
        if issuer_matched:
            return None
        return (
            "The authentication result does not match one the card issuer gave for this checkout (or it was "
            "used already). Nothing was charged; authenticate with the issuer and complete with its result."
        )
    if outcome == "not_supported":
        if not mandated:
            return None
        return (
            "The card issuer mandates 3-D Secure for this payment, so it cannot be paid without the issuer's "
            "result (not_supported). Nothing was charged; authenticate with the issuer or use another card."
        )
    return (
        f"3-D Secure authentication did not succeed ({outcome}). Nothing was charged; authenticate again or use "
        "another card."
    )


def order_line_status(*, current: int, fulfilled: int) -> str:
    """rfc.orders §4.2: a line's status is derived from its quantities."""
    if current == 0:
        return "removed"
    if fulfilled == current:
        return "fulfilled"
    if 0 < fulfilled < current:
        return "partial"
    return "processing"


def order_status(status: str) -> str:
    """The Order.status the wire shows for the sandbox's own order status. The spec's values are created,
    confirmed, manual_review, processing, shipped, completed, canceled: a refund is no order status there but an
    adjustment (and the amount_refunded total), so a refunded order is still `confirmed` (rfc.orders §4.5, §4.6)."""
    return "canceled" if status == "canceled" else "confirmed"


def order_line(line: dict, *, canceled: bool) -> dict:
    """An ACP order LineItem from a stored checkout LineItem (the sandbox ships nothing: fulfilled is 0)."""
    current = 0 if canceled else line["quantity"]
    return {
        "id": line["id"],
        "title": line.get("name") or line["id"],
        "product_id": line.get("product_id") or line["item"]["id"],
        "quantity": {"ordered": line["quantity"], "current": current, "fulfilled": 0},
        "unit_price": line.get("unit_amount", 0),
        "subtotal": next((t["amount"] for t in line["totals"] if t["type"] == "subtotal"), 0),
        "totals": line["totals"],
        "status": order_line_status(current=current, fulfilled=0),
    }


REQUEST_FIELDS = (
    "currency",
    "buyer",
    "fulfillment_details",
    "selected_fulfillment_options",
    "capabilities",
    "discount_codes",
)


def unknown_fulfillment_option(*, selected: object) -> bool:
    """Whether a selection names an option that is not among the session's fulfillment_options."""
    known = {option["id"] for option in settings.SANDBOX_MERCHANT_SHIPPING_OPTIONS}
    return isinstance(selected, list) and any(chosen["option_id"] not in known for chosen in selected)


def request_changes(*, request: CheckoutRequest) -> dict[str, object]:
    """The session fields a create or update sets (those it does not leave MISSING), by the sandbox's names.

    A selection naming an unknown option is not taken: rfc.agentic_checkout §8, a selected option_id MUST match
    one of fulfillment_options. The session keeps its previous selection and fulfillment_messages says which
    option of the request is invalid."""
    changes = {name: getattr(request, name) for name in REQUEST_FIELDS if getattr(request, name) is not MISSING}
    if unknown_fulfillment_option(selected=changes.get("selected_fulfillment_options")):
        del changes["selected_fulfillment_options"]
    return changes


def requested_lines(*, request: CheckoutRequest, quantities: dict[str, int]) -> list[tuple[str, int]]:
    """The (variant id, quantity) lines a create or update asks for: its own, or the session's (`quantities`)."""
    if request.line_items is not MISSING:
        return request.line_items  # type: ignore[return-value]
    return list(quantities.items())


def out_of_stock_message(*, index: int, available: int, variant_id: str) -> dict:
    """The error for a line that could not be reserved in full (none of it is reserved)."""
    return message(
        type="error",
        code="out_of_stock",
        param=f"$.line_items[{index}]",
        content=f"Only {max(available, 0)} of {variant_id} left; none reserved.",
    )


def stored_quote(quote: Quote) -> dict:
    """A quote as a session keeps it (its JSON): line items, fulfillment options, discounts and totals."""
    return {
        "line_items": [line_representation(line) for line in quote.lines],
        "fulfillment_options": quote.fulfillment_options,
        "applied_discounts": quote.applied_discounts,
        "rejected_discounts": quote.rejected_discounts,
        "totals": quote.totals(),
    }
