"""The ACP client: the contract's capabilities spoken over the Agentic Commerce Protocol.

Checkout follows ACP (spec 2026-04-17). Catalog, saved items, orders and token revocation follow the
sandbox merchant's extensions (docs/sandbox-merchant-wire.md); a merchant without them is configured
without those capabilities (MERCHANT_<ID>_CAPABILITIES). All HTTP goes through MerchantHttpClient.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from catalog_adapters.contract import (
    SAVED_ITEM_KINDS,
    SUPPORTED_PAYMENT_HANDLERS,
    Address,
    Allowance,
    AppliedDiscount,
    AuthenticationCard,
    AuthenticationMetadata,
    AuthenticationSession,
    Buyer,
    CheckoutLineItem,
    CheckoutRequest,
    CheckoutSession,
    Coupon,
    DiscountAllocation,
    FulfillmentDetails,
    FulfillmentOption,
    LineItemRequest,
    Message,
    Money,
    Order,
    OrderAdjustment,
    OrderFulfillment,
    OrderLineItem,
    OrderRef,
    PaymentData,
    PaymentHandler,
    PaymentToken,
    Product,
    ProductVariant,
    RejectedDiscount,
    SavedItem,
    SavedProduct,
    SelectedFulfillmentOption,
    SessionCapabilities,
    StoredCard,
    TokenRevocation,
    Total,
    fulfillment_option_choose,
)
from catalog_adapters.errors import (
    MerchantClientError,
    MerchantError,
    MerchantRequestInvalid,
    MerchantServerError,
    PaymentHandlerUnavailable,
)
from catalog_adapters.http import MerchantHttpClient, MerchantResponse, path_segment

logger = logging.getLogger("catalog_adapters.acp")

Built = TypeVar("Built")

# A merchant found without the saved_products extension is asked the one-by-one way for this long
# before we look for the extension again (it may have been deployed since).
SAVED_PRODUCTS_RECHECK_SECONDS = 3600.0


def _rfc3339(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


class _Parser:
    """Wire JSON to contract data classes; a malformed answer becomes a server_error, not a KeyError."""

    def __init__(self, merchant_id: str, operation: str) -> None:
        self.merchant_id = merchant_id
        self.operation = operation

    def __call__(self, build: Callable[[Any], Built], data: Any) -> Built:
        try:
            return build(data)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise MerchantServerError(
                f"the merchant's answer does not match the ACP contract: {type(exc).__name__}: {exc}",
                merchant_id=self.merchant_id,
                operation=self.operation,
                code="invalid_response",
            ) from exc


def money(data: Mapping[str, Any]) -> Money:
    return Money(int(data["amount"]), data["currency"])


def totals(items: Sequence[Mapping[str, Any]] | None, currency: str) -> tuple[Total, ...]:
    return tuple(
        Total(
            type=item["type"],
            display_text=item.get("display_text", ""),
            amount=Money(int(item["amount"]), currency),
            description=item.get("description") or "",
        )
        for item in items or ()
    )


def _total_amount(entries: tuple[Total, ...], *types: str) -> int | None:
    for type_ in types:
        for entry in entries:
            if entry.type == type_:
                return entry.amount.amount
    return None


def address_from_wire(data: Mapping[str, Any] | None) -> Address | None:
    if not data:
        return None
    return Address(
        name=data.get("name", ""),
        line_one=data.get("line_one", ""),
        line_two=data.get("line_two") or "",
        city=data.get("city", ""),
        state=data.get("state") or "",
        country=data.get("country", ""),
        postal_code=data.get("postal_code", ""),
    )


def fulfillment_details_from_wire(data: Mapping[str, Any] | None) -> FulfillmentDetails | None:
    """Where the order goes; None until the session has an address."""
    address = address_from_wire(data.get("address")) if data else None
    if not data or address is None:
        return None
    return FulfillmentDetails(
        name=data.get("name", ""),
        address=address,
        email=data.get("email") or "",
        phone_number=data.get("phone_number") or "",
    )


def address_to_wire(address: Address) -> dict[str, str]:
    # ACP Address: name, line_one, city, state, country, postal_code required; line_two optional.
    wire = {
        "name": address.name,
        "line_one": address.line_one,
        "city": address.city,
        "state": address.state,
        "country": address.country,
        "postal_code": address.postal_code,
    }
    if address.line_two:
        wire["line_two"] = address.line_two
    return wire


def product_from_wire(data: Mapping[str, Any]) -> Product:
    return Product(
        id=data["id"],
        title=data.get("title", ""),
        description=data.get("description", ""),
        category=data.get("category", ""),
        brand=data.get("brand", ""),
        image_url=data.get("image_url"),
        price=money(data["price"]),
        variants=tuple(
            ProductVariant(
                id=variant["id"],
                sku=variant.get("sku", ""),
                colour=variant.get("colour"),
                size=variant.get("size"),
                price=money(variant["price"]),
                available=int(variant.get("available", 0)),
            )
            for variant in data.get("variants") or ()
        ),
    )


# -- sessions ------------------------------------------------------------------------------------

_COLOUR_NAMES = ("color", "colour")
_SIZE_NAMES = ("size",)


def _attributes(line: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    pairs = []
    for attribute in line.get("custom_attributes") or ():
        pairs.append((str(attribute.get("display_name", "")), str(attribute.get("value", ""))))
    for option in line.get("variant_options") or ():
        pairs.append((str(option.get("name", "")), str(option.get("value", ""))))
    return tuple(pairs)


def _attribute(pairs: tuple[tuple[str, str], ...], names: tuple[str, ...]) -> str | None:
    for name, value in pairs:
        if name.strip().lower() in names and value:
            return value
    return None


def line_item_from_wire(line: Mapping[str, Any], currency: str) -> CheckoutLineItem:
    """An ACP LineItem (quantity, name, unit_amount, totals[]); the older flat shape is read too."""
    item = line.get("item") or {}
    variant = line.get("variant") or {}  # the pre-2026 sandbox shape
    quantity = int(line["quantity"]) if line.get("quantity") is not None else int(item.get("quantity", 0))
    line_totals = totals(line.get("totals"), currency)
    unit = line.get("unit_amount")
    if unit is None:
        unit = item.get("unit_amount")
    unit_amount = Money(int(unit), currency) if unit is not None else None

    def amount(*types: str, flat: str, fallback: int = 0) -> Money:
        value = _total_amount(line_totals, *types)
        if value is None:
            value = int(line[flat]) if line.get(flat) is not None else fallback
        return Money(value, currency)

    subtotal = amount("subtotal", flat="subtotal")
    discount = amount("discount", "items_discount", flat="discount")
    base = amount(
        "items_base_amount",
        "base_amount",
        flat="base_amount",
        fallback=unit_amount.amount * quantity if unit_amount is not None else subtotal.amount + discount.amount,
    )
    tax = amount("tax", flat="tax")
    total = amount("total", flat="total", fallback=subtotal.amount + tax.amount)
    pairs = _attributes(line)
    return CheckoutLineItem(
        id=line["id"],
        item_id=item.get("id", ""),
        quantity=quantity,
        title=line.get("name") or item.get("name") or line.get("title", ""),
        colour=_attribute(pairs, _COLOUR_NAMES) or variant.get("colour"),
        size=_attribute(pairs, _SIZE_NAMES) or variant.get("size"),
        base_amount=base,
        discount=discount,
        subtotal=subtotal,
        tax=tax,
        total=total,
        unit_amount=unit_amount,
        description=line.get("description") or "",
        images=tuple(line.get("images") or ()),
        product_id=line.get("product_id") or "",
        variant_id=line.get("variant_id") or "",
        sku=line.get("sku") or "",
        attributes=pairs,
        totals=line_totals,
    )


def message_from_wire(message: Mapping[str, Any]) -> Message:
    return Message(
        type=message.get("type", "info"),
        code=message.get("code", ""),
        content=message.get("content", ""),
        param=message.get("param"),
        resolution=message.get("resolution") or "",
        severity=message.get("severity") or "",
        content_type=message.get("content_type") or "plain",
    )


def payment_handler_from_wire(handler: Mapping[str, Any]) -> PaymentHandler:
    order = handler.get("display_order")
    return PaymentHandler(
        id=handler["id"],
        name=handler["name"],
        version=handler.get("version") or "",
        display_name=handler.get("display_name") or "",
        psp=handler.get("psp") or "",
        requires_delegate_payment=bool(handler.get("requires_delegate_payment", False)),
        requires_pci_compliance=bool(handler.get("requires_pci_compliance", False)),
        display_order=int(order) if isinstance(order, int) and not isinstance(order, bool) else None,
        spec=handler.get("spec") or "",
        config=dict(handler.get("config") or {}),
    )


def capabilities_from_wire(data: Mapping[str, Any] | None) -> SessionCapabilities:
    data = data or {}
    payment = data.get("payment") or {}
    interventions = data.get("interventions") or {}
    extensions = []
    for extension in data.get("extensions") or ():
        name = extension.get("name") if isinstance(extension, Mapping) else extension
        if isinstance(name, str) and name:
            extensions.append(name)
    return SessionCapabilities(
        payment_handlers=tuple(payment_handler_from_wire(h) for h in payment.get("handlers") or ()),
        interventions=tuple(interventions.get("supported") or ()),
        interventions_required=tuple(interventions.get("required") or ()),
        enforcement=interventions.get("enforcement") or "",
        extensions=tuple(extensions),
    )


def authentication_metadata_from_wire(data: Mapping[str, Any] | None) -> AuthenticationMetadata | None:
    if not data:
        return None
    acquirer = data.get("acquirer_details") or {}
    flow = data.get("flow_preference") or {}
    flow_type = flow.get("type") or ""
    return AuthenticationMetadata(
        directory_server=data.get("directory_server") or "",
        acquirer_bin=acquirer.get("acquirer_bin") or "",
        acquirer_country=acquirer.get("acquirer_country") or "",
        acquirer_merchant_id=acquirer.get("acquirer_merchant_id") or "",
        merchant_name=acquirer.get("merchant_name") or "",
        requestor_id=acquirer.get("requestor_id") or "",
        flow_preference=flow_type,
        flow_preference_subtype=((flow.get(flow_type) or {}).get("type") or "") if flow_type else "",
        raw=dict(data),
    )


def applied_discount_from_wire(applied: Mapping[str, Any], currency: str) -> AppliedDiscount:
    coupon_data = applied.get("coupon") or {}
    coupon = (
        Coupon(
            id=coupon_data.get("id", ""),
            name=coupon_data.get("name", ""),
            percent_off=coupon_data.get("percent_off"),
            amount_off=coupon_data.get("amount_off"),
            currency=coupon_data.get("currency"),
            duration=coupon_data.get("duration") or "",
        )
        if coupon_data
        else None
    )
    return AppliedDiscount(
        code=applied.get("code") or "",
        amount=Money(int(applied.get("amount", 0)), currency),
        description=(coupon.name if coupon else "") or applied.get("description", ""),
        id=applied.get("id") or "",
        coupon=coupon,
        automatic=bool(applied.get("automatic", False)),
        method=applied.get("method") or "",
        priority=applied.get("priority"),
        allocations=tuple(
            DiscountAllocation(path=str(allocation.get("path", "")), amount=int(allocation.get("amount", 0)))
            for allocation in applied.get("allocations") or ()
        ),
    )


def _fulfillment_option(option: Mapping[str, Any], currency: str) -> FulfillmentOption:
    return FulfillmentOption(
        id=option["id"],
        type=option.get("type", "shipping"),
        title=option.get("title", ""),
        carrier=option.get("carrier", ""),
        earliest_delivery_time=_parse_time(option.get("earliest_delivery_time")),
        latest_delivery_time=_parse_time(option.get("latest_delivery_time")),
        totals=totals(option.get("totals"), currency),
    )


def session_from_wire(data: Mapping[str, Any]) -> CheckoutSession:
    """An ACP 2026-04-17 CheckoutSession (or CheckoutSessionWithOrder) as contract data, nothing dropped."""
    currency = data["currency"]
    buyer = data.get("buyer")
    discounts = data.get("discounts") or {}
    order = data.get("order")
    return CheckoutSession(
        id=data["id"],
        status=data["status"],
        currency=currency,
        line_items=tuple(line_item_from_wire(line, currency) for line in data.get("line_items") or ()),
        totals=totals(data.get("totals"), currency),
        messages=tuple(message_from_wire(message) for message in data.get("messages") or ()),
        fulfillment_options=tuple(
            _fulfillment_option(option, currency) for option in data.get("fulfillment_options") or ()
        ),
        selected_fulfillment_options=tuple(
            SelectedFulfillmentOption(
                option_id=selected["option_id"],
                item_ids=tuple(selected.get("item_ids") or ()),
                type=selected.get("type", "shipping"),
            )
            for selected in data.get("selected_fulfillment_options") or ()
        ),
        discount_codes=tuple(discounts.get("codes") or ()),
        applied_discounts=tuple(
            applied_discount_from_wire(applied, currency) for applied in discounts.get("applied") or ()
        ),
        rejected_discounts=tuple(
            RejectedDiscount(
                code=rejected.get("code", ""), reason=rejected.get("reason", ""), message=rejected.get("message") or ""
            )
            for rejected in discounts.get("rejected") or ()
        ),
        buyer=Buyer(
            email=buyer.get("email", ""),
            first_name=buyer.get("first_name", ""),
            last_name=buyer.get("last_name", ""),
            phone_number=buyer.get("phone_number") or "",
        )
        if buyer
        else None,
        fulfillment_details=fulfillment_details_from_wire(data.get("fulfillment_details")),
        expires_at=_parse_time(data.get("expires_at")),
        continue_url=data.get("continue_url"),
        order=OrderRef(
            id=order["id"],
            checkout_session_id=order.get("checkout_session_id", data["id"]),
            permalink_url=order.get("permalink_url", ""),
            status=order.get("status", ""),
            order_number=order.get("order_number") or "",
            confirmation_number=(order.get("confirmation") or {}).get("confirmation_number") or "",
        )
        if order
        else None,
        raw=data,
        capabilities=capabilities_from_wire(data.get("capabilities")),
        authentication_metadata=authentication_metadata_from_wire(data.get("authentication_metadata")),
        protocol_version=(data.get("protocol") or {}).get("version") or "",
        links=tuple((str(link.get("type", "")), str(link.get("url", ""))) for link in data.get("links") or ()),
        locale=str(data.get("locale") or ""),
    )


# -- what we send --------------------------------------------------------------------------------

# What this client can do, offered on create (ACP capability negotiation); the merchant answers with
# the intersection, and we use only that.
AGENT_INTERVENTIONS = ("3ds",)
AGENT_EXTENSIONS = ("discount",)


def agent_capabilities() -> dict[str, Any]:
    return {
        "interventions": {
            "supported": list(AGENT_INTERVENTIONS),
            # The customer answers the issuer's challenge on the issuer's page, reached from a link of ours.
            "display_context": "redirect",
            "redirect_context": "external_browser",
            "max_redirects": 1,
            "max_interaction_depth": 1,
        },
        "extensions": list(AGENT_EXTENSIONS),
    }


def payment_handler_select(session: CheckoutSession) -> PaymentHandler | None:
    """The negotiated payment handler of a session (CheckoutSession.payment_handler), None if none fits."""
    return session.payment_handler


def _items_to_wire(lines: Sequence[LineItemRequest]) -> list[dict[str, str]]:
    # ACP Item has no quantity: quantity N is the same Item N times (merchants group equal ids).
    items: list[dict[str, str]] = []
    for line in lines:
        if line.quantity < 1:
            raise ValueError(f"line {line.id!r} needs a quantity of at least 1, not {line.quantity!r}")
        items.extend({"id": line.id} for _ in range(line.quantity))
    return items


def _buyer_to_wire(buyer: Buyer) -> dict[str, str]:
    wire = {"email": buyer.email}
    for name in ("first_name", "last_name", "phone_number"):
        if getattr(buyer, name):
            wire[name] = getattr(buyer, name)
    return wire


def _details_to_wire(details: FulfillmentDetails) -> dict[str, Any]:
    wire: dict[str, Any] = {"name": details.name, "address": address_to_wire(details.address)}
    if details.email:
        wire["email"] = details.email
    if details.phone_number:
        wire["phone_number"] = details.phone_number
    return wire


# What a whole-order SelectedFulfillmentOption.item_ids names: the Items' ids ("item") or the line items' ("line").
# The spec says both: the schema's description says line item ids; RFC §5 ("mapping fulfillment option to items")
# and every example (RFC §9, the examples files) put Item ids there (item_123 on line line_item_123).
ITEM_ID_KINDS = ("item", "line")


def item_ids_kind(session: CheckoutSession) -> str:
    """Which ids this merchant puts in `item_ids`, read from its own answer (its selected options' item_ids); with
    nothing to tell, Item ids, as every example of the spec does."""
    item_ids = {line.item_id for line in session.line_items}
    line_ids = {line.id for line in session.line_items}
    for selected in session.selected_fulfillment_options:
        named = set(selected.item_ids)
        if not named or item_ids == line_ids:
            continue
        if named <= line_ids and not named <= item_ids:
            return "line"
        if named <= item_ids and not named <= line_ids:
            return "item"
    return "item"


def _whole_order_ids(session: CheckoutSession, option_id: str, kind: str) -> list[str]:
    """The ids an option chosen for the whole order covers: the ones the merchant's option lists itself (some
    merchants add `item_ids` or `line_item_ids` to an option), else every line's, of `kind`."""
    for option in (session.raw or {}).get("fulfillment_options") or ():
        if isinstance(option, Mapping) and option.get("id") == option_id:
            listed = option.get("item_ids" if kind == "item" else "line_item_ids")
            if isinstance(listed, list) and listed and all(isinstance(value, str) for value in listed):
                return list(listed)
    ids = (line.item_id if kind == "item" else line.id for line in session.line_items)
    return list(dict.fromkeys(value for value in ids if value))


def selected_options_to_wire(
    selected: Sequence[SelectedFulfillmentOption], session: CheckoutSession | None = None, kind: str | None = None
) -> list[dict[str, Any]]:
    """SelectedFulfillmentOption needs item_ids: an option chosen for "everything" names every line, with the kind
    of id the merchant uses (`item_ids_kind`, or `kind`)."""
    wire = []
    for option in selected:
        item_ids = list(option.item_ids)
        if not item_ids and session is not None:
            item_ids = _whole_order_ids(session, option.option_id, kind or item_ids_kind(session))
        wire.append({"type": option.type, "option_id": option.option_id, "item_ids": item_ids})
    return wire


def checkout_create_to_wire(request: CheckoutRequest) -> dict[str, Any]:
    """A CheckoutSessionCreateRequest: no selected fulfillment option (the schema has none; see update)."""
    body: dict[str, Any] = {
        "line_items": _items_to_wire(request.line_items or ()),
        "currency": (request.currency or "").lower(),
        "capabilities": agent_capabilities(),
    }
    if request.buyer is not None:
        body["buyer"] = _buyer_to_wire(request.buyer)
    if request.fulfillment_details is not None:
        body["fulfillment_details"] = _details_to_wire(request.fulfillment_details)
    if request.discount_codes is not None:
        body["discounts"] = {"codes": list(request.discount_codes)}
    return body


def checkout_update_to_wire(request: CheckoutRequest, session: CheckoutSession | None = None) -> dict[str, Any]:
    """A CheckoutSessionUpdateRequest of the fields set (currency cannot change after create)."""
    body: dict[str, Any] = {}
    if request.line_items is not None:
        body["line_items"] = _items_to_wire(request.line_items)
    if request.buyer is not None:
        body["buyer"] = _buyer_to_wire(request.buyer)
    if request.fulfillment_details is not None:
        body["fulfillment_details"] = _details_to_wire(request.fulfillment_details)
    if request.selected_fulfillment_options is not None:
        body["selected_fulfillment_options"] = selected_options_to_wire(request.selected_fulfillment_options, session)
    if request.discount_codes is not None:
        body["discounts"] = {"codes": list(request.discount_codes)}
    return body


def checkout_request_to_wire(request: CheckoutRequest) -> dict[str, Any]:
    """Kept for callers of the old single shape: the create body when there is a currency, else update."""
    if request.currency is not None and request.line_items:
        return checkout_create_to_wire(request)
    return checkout_update_to_wire(request)


_OUTCOMES_WITH_DETAILS = ("authenticated", "informational", "attempt_acknowledged")
_OUTCOME_DETAIL_FIELDS = ("three_ds_cryptogram", "electronic_commerce_indicator", "transaction_id", "version")


def authentication_result_to_wire(result: Mapping[str, Any]) -> dict[str, Any]:
    """An ACP AuthenticationResult {outcome, outcome_details} from what the saga holds.

    Accepts the ACP form, or a delegate-authentication provider result (trans_status and the four detail
    fields at the top level). outcome_details carries only the four fields the spec defines.
    """
    outcome = result.get("outcome")
    details_source = result.get("outcome_details")
    if not isinstance(details_source, Mapping):
        details_source = result
    details = {
        name: str(details_source[name]) for name in _OUTCOME_DETAIL_FIELDS if details_source.get(name) is not None
    }
    if not isinstance(outcome, str) or not outcome:
        raise ValueError("an authentication_result needs an outcome")
    wire: dict[str, Any] = {"outcome": outcome}
    if len(details) == len(_OUTCOME_DETAIL_FIELDS):
        wire["outcome_details"] = details
    elif outcome in _OUTCOMES_WITH_DETAILS:
        raise ValueError(
            f"an authentication_result with outcome {outcome!r} needs outcome_details "
            f"({', '.join(_OUTCOME_DETAIL_FIELDS)}); have {sorted(details)}"
        )
    return wire


# -- orders --------------------------------------------------------------------------------------


def _line_refs(items: Sequence[Mapping[str, Any]] | None) -> tuple[tuple[str, int], ...]:
    return tuple((str(ref.get("id", "")), int(ref.get("quantity", 0))) for ref in items or ())


def order_from_wire(data: Mapping[str, Any], currency: str | None = None) -> Order:
    """An ACP Order. It carries no currency of its own: the caller's (the charge's), else an adjustment's."""
    currency = (
        data.get("currency")
        or currency
        or next((a.get("currency") for a in data.get("adjustments") or () if a.get("currency")), None)
    )
    if not currency:
        priced = (
            data.get("totals")
            or data.get("adjustments")
            or any(
                isinstance(line, Mapping) and (line.get("unit_price") is not None or line.get("subtotal") is not None)
                for line in data.get("line_items") or ()
            )
        )
        if priced:
            raise ValueError("an Order carries no currency: pass the currency it was charged in")
        currency = "xxx"  # ISO 4217 "no currency": this order states no amount at all
    line_items = []
    for line in data.get("line_items") or ():
        quantity = line.get("quantity")
        if isinstance(quantity, Mapping):
            ordered, current = int(quantity["ordered"]), int(quantity.get("current", quantity["ordered"]))
            fulfilled = int(quantity.get("fulfilled") or 0)
        else:  # a merchant sending a plain number
            ordered = current = int(quantity or 0)
            fulfilled = 0
        line_items.append(
            OrderLineItem(
                id=line["id"],
                title=line.get("title", ""),
                quantity_ordered=ordered,
                quantity_current=current,
                quantity_fulfilled=fulfilled,
                product_id=line.get("product_id") or "",
                unit_price=Money(int(line["unit_price"]), currency) if line.get("unit_price") is not None else None,
                subtotal=Money(int(line["subtotal"]), currency) if line.get("subtotal") is not None else None,
                status=line.get("status") or "",
                totals=totals(line.get("totals"), currency),
            )
        )
    return Order(
        id=data.get("id") or "",
        checkout_session_id=data.get("checkout_session_id", ""),
        status=data.get("status") or "",
        currency=currency,
        totals=totals(data.get("totals"), currency),
        adjustments=tuple(
            OrderAdjustment(
                type=adjustment["type"],
                amount=Money(int(adjustment.get("amount") or 0), adjustment.get("currency") or currency),
                created=_parse_time(adjustment.get("occurred_at") or adjustment.get("created")),
                id=str(adjustment.get("id") or ""),
                status=str(adjustment.get("status") or ""),
                reason=str(adjustment.get("reason") or ""),
                description=str(adjustment.get("description") or ""),
                line_items=_line_refs(adjustment.get("line_items")),
            )
            for adjustment in data.get("adjustments") or ()
        ),
        permalink_url=data.get("permalink_url", ""),
        raw=data,
        order_number=str(data.get("order_number") or ""),
        line_items=tuple(line_items),
        fulfillments=tuple(
            OrderFulfillment(
                id=str(fulfillment.get("id", "")),
                type=str(fulfillment.get("type", "")),
                status=str(fulfillment.get("status") or ""),
                carrier=str(fulfillment.get("carrier") or ""),
                tracking_number=str(fulfillment.get("tracking_number") or ""),
                tracking_url=str(fulfillment.get("tracking_url") or ""),
                line_items=_line_refs(fulfillment.get("line_items")),
                raw=dict(fulfillment),
            )
            for fulfillment in data.get("fulfillments") or ()
        ),
        confirmation_number=str((data.get("confirmation") or {}).get("confirmation_number") or ""),
        client_reference_id=str(data.get("client_reference_id") or ""),
    )


def authentication_from_wire(data: Mapping[str, Any]) -> AuthenticationSession:
    action = data.get("action") or {}
    challenge = (action.get("challenge") or {}) if action.get("type") == "challenge" else {}
    result = data.get("authentication_result") or {}
    return AuthenticationSession(
        id=data["authentication_session_id"],
        status=data["status"],
        checkout_session_id=data.get("checkout_session_id"),
        challenge_url=challenge.get("acs_url"),
        result=dict(result) if isinstance(result, Mapping) else {},
    )


class _Capability:
    def __init__(self, http: MerchantHttpClient) -> None:
        self.http = http

    @property
    def merchant_id(self) -> str:
        return self.http.merchant_id

    def _segment(self, value: str, operation: str) -> str:
        # Ids go into the path: only the safe alphabet, or MerchantIdInvalid before anything is sent.
        return path_segment(value, merchant_id=self.merchant_id, operation=operation)

    def _parse(self, operation: str, build: Callable[[Any], Built], response: MerchantResponse) -> Built:
        return _Parser(self.merchant_id, operation)(build, response.data)


class AcpCatalog(_Capability):
    def search_products(
        self,
        *,
        query: str = "",
        category: str | None = None,
        colour: str | None = None,
        size: str | None = None,
        limit: int = 20,
    ) -> list[Product]:
        params = {"q": query, "category": category, "colour": colour, "size": size, "limit": limit}
        response = self.http.request(
            "GET",
            "/products",
            operation="search_products",
            params={key: value for key, value in params.items() if value not in (None, "")},
        )
        return self._parse("search_products", lambda data: [product_from_wire(p) for p in data["data"]], response)

    def get_product(self, *, product_id: str) -> Product:
        response = self.http.request(
            "GET", f"/products/{self._segment(product_id, 'get_product')}", operation="get_product"
        )
        return self._parse("get_product", product_from_wire, response)

    def list_saved_items(self, *, customer_id: str, kind: str, since: datetime | None = None) -> list[SavedItem]:
        if kind not in SAVED_ITEM_KINDS:
            raise ValueError(f"kind must be one of {SAVED_ITEM_KINDS}, not {kind!r}")
        params = {"kind": kind}
        if since is not None:
            params["since"] = _rfc3339(since)
        response = self.http.request(
            "GET",
            f"/customers/{self._segment(customer_id, 'list_saved_items')}/saved_items",
            operation="list_saved_items",
            params=params,
        )

        def build(data: Any) -> list[SavedItem]:
            return [
                SavedItem(
                    kind=item["kind"],
                    product_id=item["product_id"],
                    variant_id=item.get("variant_id"),
                    saved_at=_parse_time(item["saved_at"]),
                )
                for item in data["data"]
            ]

        return self._parse("list_saved_items", build, response)

    def list_saved_products(
        self,
        *,
        customer_id: str,
        kind: str,
        since: datetime | None = None,
        product_ids: Sequence[str] | None = None,
        limit: int = 10,
        known_products: Mapping[str, Product] | None = None,
    ) -> list[SavedProduct]:
        if kind not in SAVED_ITEM_KINDS:
            raise ValueError(f"kind must be one of {SAVED_ITEM_KINDS}, not {kind!r}")
        if time.monotonic() < _saved_products_missing.get(self.merchant_id, 0.0):
            return self._saved_products_one_by_one(customer_id, kind, since, product_ids, limit, known_products)
        params: dict[str, Any] = {"kind": kind, "limit": limit}
        if since is not None:
            params["since"] = _rfc3339(since)
        if product_ids:
            # Ids travel comma-separated: each must be a plain id (MerchantIdInvalid before anything is sent).
            params["product_ids"] = ",".join(self._segment(pid, "list_saved_products") for pid in product_ids)
        try:
            response = self.http.request(
                "GET",
                f"/customers/{self._segment(customer_id, 'list_saved_products')}/saved_products",
                operation="list_saved_products",
                params=params,
            )
        except MerchantClientError as error:
            if error.status not in (404, 405, 501):
                raise
            # Either no such extension or no such customer: the one-by-one path tells which (its own 404).
            found = self._saved_products_one_by_one(customer_id, kind, since, product_ids, limit, known_products)
            with _saved_products_lock:
                _saved_products_missing[self.merchant_id] = time.monotonic() + SAVED_PRODUCTS_RECHECK_SECONDS
            logger.info("merchant.saved_products.not_offered", extra={"merchant": self.merchant_id})
            return found

        def build(data: Any) -> list[SavedProduct]:
            return [
                SavedProduct(
                    item=SavedItem(
                        kind=item["kind"],
                        product_id=item["product_id"],
                        variant_id=item.get("variant_id"),
                        saved_at=_parse_time(item["saved_at"]),
                    ),
                    product=product_from_wire(item["product"]),
                )
                for item in data["data"]
            ]

        return self._parse("list_saved_products", build, response)[:limit]

    def _saved_products_one_by_one(
        self,
        customer_id: str,
        kind: str,
        since: datetime | None,
        product_ids: Sequence[str] | None,
        limit: int,
        known_products: Mapping[str, Product] | None,
    ) -> list[SavedProduct]:
        items = self.list_saved_items(customer_id=customer_id, kind=kind, since=since)
        if product_ids:
            items = [item for item in items if item.product_id in product_ids]
        fetched: dict[str, Product] = dict(known_products or {})
        found = []
        for item in items[:limit]:
            if item.product_id not in fetched:
                fetched[item.product_id] = self.get_product(product_id=item.product_id)
            found.append(SavedProduct(item=item, product=fetched[item.product_id]))
        return found


# Per process: merchants seen without the saved_products extension, until when we believe it.
_saved_products_missing: dict[str, float] = {}
_saved_products_lock = threading.Lock()


def saved_products_forget(merchant_id: str | None = None) -> None:
    """Forget what we learnt about merchants' saved_products extension (tests; a merchant that changed)."""
    with _saved_products_lock:
        if merchant_id is None:
            _saved_products_missing.clear()
        else:
            _saved_products_missing.pop(merchant_id, None)


class AcpCheckout(_Capability):
    """ACP 2026-04-17 checkout: create (with our capabilities), update, get, complete, cancel, 3-D Secure."""

    def create(self, *, request: CheckoutRequest, operation_id: str) -> CheckoutSession:
        """Create the session; a chosen fulfillment option follows as an update (create has no field for it)."""
        if not request.line_items or not request.currency:
            raise ValueError("creating a checkout session needs line_items and currency")
        response = self.http.request(
            "POST",
            "/checkout_sessions",
            operation="checkout_create",
            operation_id=operation_id,
            json_body=checkout_create_to_wire(request),
        )
        try:
            session = self._parse("checkout_create", session_from_wire, response)
        except MerchantServerError:
            # The merchant made a session (201) we cannot use: it must not stay open, holding stock, unseen.
            created = response.data.get("id") if isinstance(response.data, dict) else None
            if isinstance(created, str) and created:
                self._abandon(created, operation_id)
            raise
        try:
            return self._select_fulfillment(session, request.selected_fulfillment_options, operation_id)
        except MerchantError:
            # No flow will own this session (the caller gets the error), so nobody else would ever cancel it.
            self._abandon(session.id, operation_id)
            raise

    def _abandon(self, session_id: str, operation_id: str) -> None:
        """Cancel a session just created that we cannot use; a failure is logged, the caller's error stands."""
        try:
            self.cancel(session_id=session_id, operation_id=f"{operation_id}:abandon")
        except (MerchantError, ValueError) as error:
            logger.warning(
                "merchant.checkout.abandon_failed",
                extra={"merchant": self.merchant_id, "session": session_id, "error": str(error)[:200]},
            )
        else:
            logger.info("merchant.checkout.abandoned", extra={"merchant": self.merchant_id, "session": session_id})

    def update(self, *, session_id: str, request: CheckoutRequest, operation_id: str) -> CheckoutSession:
        selected = request.selected_fulfillment_options
        # An option chosen for the whole order names every line id, known only from the merchant's answer.
        deferred = selected is not None and any(not option.item_ids for option in selected)
        if deferred:
            request = dataclasses.replace(request, selected_fulfillment_options=None)
        session = self._update(session_id, checkout_update_to_wire(request), operation_id)
        return self._select_fulfillment(session, selected, operation_id) if deferred else session

    def _update(self, session_id: str, body: dict[str, Any], operation_id: str) -> CheckoutSession:
        response = self.http.request(
            "POST",
            f"/checkout_sessions/{self._segment(session_id, 'checkout_update')}",
            operation="checkout_update",
            operation_id=operation_id,
            json_body=body,
        )
        return self._parse("checkout_update", session_from_wire, response)

    def _select_fulfillment(
        self, session: CheckoutSession, selected: tuple[SelectedFulfillmentOption, ...] | None, operation_id: str
    ) -> CheckoutSession:
        if not selected:
            return session
        # Only options the merchant offers are ever sent: the assistant's words become its own options.
        chosen = []
        for option in selected:
            offered = fulfillment_option_choose(session, option.option_id)
            if offered is not None:
                chosen.append(dataclasses.replace(option, option_id=offered.id, type=offered.type))
        if not chosen or {option.option_id for option in chosen} == {
            option.option_id for option in session.selected_fulfillment_options
        }:
            return session  # the merchant's own selection already is the customer's choice (or none to make)
        kind = item_ids_kind(session)
        body = {"selected_fulfillment_options": selected_options_to_wire(chosen, session, kind)}
        try:
            answer = self._update(session.id, body, f"{operation_id}:fulfillment")
        except MerchantClientError as error:
            if error.status != 400 or "item_ids" not in (error.param or ""):
                raise
            answer = None
        if answer is not None and not any("item_ids" in (message.param or "") for message in answer.errors):
            return answer
        # The merchant reads item_ids as the other kind of id (the spec says both): once more with that kind.
        other = ITEM_ID_KINDS[1 - ITEM_ID_KINDS.index(kind)]
        logger.info("merchant.checkout.item_ids_kind", extra={"merchant": self.merchant_id, "kind": other})
        body = {"selected_fulfillment_options": selected_options_to_wire(chosen, session, other)}
        return self._update(session.id, body, f"{operation_id}:fulfillment:{other}")

    def get(self, *, session_id: str) -> CheckoutSession:
        return self._parse("checkout_get", session_from_wire, self._get_response(session_id))

    def _get_response(self, session_id: str, read_timeout: float | None = None) -> MerchantResponse:
        return self.http.request(
            "GET",
            f"/checkout_sessions/{self._segment(session_id, 'checkout_get')}",
            operation="checkout_get",
            read_timeout=read_timeout,
        )

    def payment_handler(self, session: CheckoutSession) -> PaymentHandler:
        """The negotiated payment handler of this session, or PaymentHandlerUnavailable (nothing sent)."""
        handler = payment_handler_select(session)
        if handler is None:
            offered = tuple(h.name for h in session.payment_handlers)
            raise PaymentHandlerUnavailable(
                "the merchant offers no payment handler we can pay with "
                f"(offered: {', '.join(offered) or 'none'}; we support: {', '.join(SUPPORTED_PAYMENT_HANDLERS)})",
                merchant_id=self.merchant_id,
                operation="checkout_complete",
                offered=offered,
            )
        return handler

    def complete(
        self,
        *,
        session_id: str,
        payment: PaymentData,
        operation_id: str,
        authentication_result: Mapping[str, Any] | None = None,
        read_timeout: float | None = None,
    ) -> CheckoutSession:
        """Pay with the negotiated handler. A merchant asking for 3-D Secure (400 `requires_3ds`) gives back
        the session in `authentication_required` with its `authentication_metadata`, not an exception."""
        body: dict[str, Any] = {}
        if authentication_result is not None:
            try:
                body["authentication_result"] = authentication_result_to_wire(authentication_result)
            except ValueError as invalid:
                raise MerchantRequestInvalid(
                    str(invalid),
                    merchant_id=self.merchant_id,
                    operation="checkout_complete",
                    code="invalid_authentication_result",
                ) from None
        handler_id = payment.handler_id or self.payment_handler(self.get(session_id=session_id)).id
        body["payment_data"] = self._payment_data(payment, handler_id)

        def completed_already() -> MerchantResponse | None:
            # The lost answer may have been a success: read before resending, so a completed session
            # is returned as is. Otherwise the retry reuses the key; the merchant replays or finishes.
            response = self._get_response(session_id, read_timeout=read_timeout)
            if isinstance(response.data, dict) and response.data.get("status") == "completed":
                return response
            return None

        try:
            response = self.http.request(
                "POST",
                f"/checkout_sessions/{self._segment(session_id, 'checkout_complete')}/complete",
                operation="checkout_complete",
                operation_id=operation_id,
                json_body=body,
                read_timeout=read_timeout,
                resolve_unknown=completed_already,
            )
        except MerchantClientError as error:
            if error.code != "requires_3ds":
                raise
            # The spec's 3-D Secure: the session now says authentication_required, with the metadata
            # the challenge needs. Hand that session back; the saga asks the customer to verify.
            session = self.get(session_id=session_id)
            if session.status != "authentication_required" and session.authentication_metadata is None:
                raise
            return session
        return self._parse("checkout_complete", session_from_wire, response)

    def cancel(self, *, session_id: str, operation_id: str) -> CheckoutSession:
        response = self.http.request(
            "POST",
            f"/checkout_sessions/{self._segment(session_id, 'checkout_cancel')}/cancel",
            operation="checkout_cancel",
            operation_id=operation_id,
            json_body={},
        )
        return self._parse("checkout_cancel", session_from_wire, response)

    def authentication_create(
        self,
        *,
        session_id: str,
        notification_url: str,
        operation_id: str,
        card: AuthenticationCard | None = None,
        session: CheckoutSession | None = None,
    ) -> AuthenticationSession:
        """Open a 3-D Secure challenge for a session in `authentication_required` (delegate_authentication).

        The ACP DelegateAuthenticationCreateRequest: our merchant id, the card (the vault's reference as
        its number: we hold no card number), the session's total as `amount`, and the acquirer details
        and flow preference from the session's `authentication_metadata` (read when `session` is None).
        """
        session = session or self.get(session_id=session_id)
        total = session.total("total")
        body: dict[str, Any] = {
            "merchant_id": self.merchant_id,
            "checkout_session_id": session_id,
            "challenge_notification_url": notification_url,
            "amount": {"value": total.amount if total else 0, "currency": session.currency.upper()},
            "flow_preference": {"type": "challenge", "challenge": {"type": "mandated"}},
        }
        if card is not None:
            body["payment_method"] = {
                "type": "card",
                "number": card.vault_reference,
                "exp_month": f"{card.exp_month:02d}",
                "exp_year": f"{card.exp_year:04d}",
                "name": card.name,
            }
        metadata = session.authentication_metadata
        if metadata is not None:
            acquirer = {
                "acquirer_bin": metadata.acquirer_bin,
                "acquirer_country": metadata.acquirer_country,
                "acquirer_merchant_id": metadata.acquirer_merchant_id,
                "merchant_name": metadata.merchant_name,
            }
            if all(acquirer.values()):
                if metadata.requestor_id:
                    acquirer["requestor_id"] = metadata.requestor_id
                body["acquirer_details"] = acquirer
            if metadata.flow_preference in ("challenge", "frictionless"):
                preference: dict[str, Any] = {"type": metadata.flow_preference}
                if metadata.flow_preference == "challenge" and metadata.flow_preference_subtype in (
                    "mandated",
                    "preferred",
                ):
                    preference["challenge"] = {"type": metadata.flow_preference_subtype}
                body["flow_preference"] = preference
        response = self.http.request(
            "POST",
            "/delegate_authentication",
            operation="authentication_create",
            operation_id=operation_id,
            json_body=body,
        )
        return self._parse("authentication_create", authentication_from_wire, response)

    def authentication_get(self, *, authentication_session_id: str) -> AuthenticationSession:
        response = self.http.request(
            "GET",
            f"/delegate_authentication/{self._segment(authentication_session_id, 'authentication_get')}",
            operation="authentication_get",
        )
        return self._parse("authentication_get", authentication_from_wire, response)

    def _payment_data(self, payment: PaymentData, handler_id: str) -> dict[str, Any]:
        # ACP PaymentData for dev.acp.tokenized.card: the delegated token as an `spt` card credential.
        data: dict[str, Any] = {
            "handler_id": handler_id,
            "instrument": {"type": "card", "credential": {"type": "spt", "token": payment.token}},
        }
        if payment.billing_address is not None:
            data["billing_address"] = address_to_wire(payment.billing_address)
        return data


class AcpPaymentVault(_Capability):
    def delegate(
        self,
        *,
        vault_reference: str,
        allowance: Allowance,
        operation_id: str,
        billing_address: Address | None = None,
        risk_signals: Sequence[Mapping[str, Any]] = (),
        metadata: Mapping[str, str] | None = None,
        card_funding_type: str = "credit",
    ) -> PaymentToken:
        body: dict[str, Any] = {
            # ACP PaymentMethodCard wants a card number: we never hold one. The merchant vault's reference
            # to the customer's stored card stands in as a network token (what it is, for the vault).
            "payment_method": {
                "type": "card",
                "card_number_type": "network_token",
                "number": vault_reference,
                "display_card_funding_type": card_funding_type,
                "metadata": {"vault_reference": vault_reference},
            },
            "allowance": {
                "reason": allowance.reason,
                "max_amount": allowance.max_amount.amount,
                "currency": allowance.max_amount.currency,
                "checkout_session_id": allowance.checkout_session_id,
                "merchant_id": allowance.merchant_id,
                "expires_at": _rfc3339(allowance.expires_at),
            },
            "risk_signals": [dict(signal) for signal in risk_signals],
            "metadata": dict(metadata or {}),
        }
        if billing_address is not None:
            body["billing_address"] = address_to_wire(billing_address)
        response = self.http.request(
            "POST",
            "/agentic_commerce/delegate_payment",
            operation="vault_delegate",
            operation_id=operation_id,
            json_body=body,
        )

        def build(data: Any) -> PaymentToken:
            return PaymentToken(
                id=data["id"],
                created=_parse_time(data.get("created")),
                expires_at=_parse_time(data.get("expires_at")),
                metadata=data.get("metadata") or {},
            )

        return self._parse("vault_delegate", build, response)

    def revoke(self, *, token_id: str, operation_id: str) -> TokenRevocation:
        response = self.http.request(
            "POST",
            f"/agentic_commerce/delegate_payment/{self._segment(token_id, 'vault_revoke')}/revoke",
            operation="vault_revoke",
            operation_id=operation_id,
            json_body={},
        )

        def build(data: Any) -> TokenRevocation:
            return TokenRevocation(
                id=data.get("id", token_id), revoked=bool(data["revoked"]), reason=data.get("reason")
            )

        return self._parse("vault_revoke", build, response)

    def customer_cards(self, *, customer_id: str) -> list[StoredCard]:
        # The sandbox's customer extension lists the vault's cards of that customer (docs/sandbox-merchant-wire.md);
        # an unknown customer is the merchant's 404, raised as MerchantClientError.
        response = self.http.request(
            "GET", f"/customers/{self._segment(customer_id, 'vault_customer_cards')}", operation="vault_customer_cards"
        )

        def build(data: Any) -> list[StoredCard]:
            return [
                StoredCard(
                    vault_reference=str(card["vault_reference"]),
                    brand=str(card["brand"]),
                    last4=str(card["last4"]),
                    exp_month=int(card["exp_month"]),
                    exp_year=int(card["exp_year"]),
                )
                for card in data["payment_methods"]
            ]

        return self._parse("vault_customer_cards", build, response)


class AcpOrders(_Capability):
    """Orders: ACP `Order` objects (the sandbox's GET/cancel/refund extensions answer with them).

    The official Order carries no currency of its own. Pass the one it was charged in when known;
    otherwise an adjustment's currency is used, and failing that the order's checkout session is read.
    """

    def _order(self, operation: str, response: MerchantResponse, currency: str | None) -> Order:
        data = response.data
        if currency is None and isinstance(data, dict) and not data.get("currency"):
            has_adjustment_currency = any(
                isinstance(a, dict) and a.get("currency") for a in data.get("adjustments") or ()
            )
            session_id = data.get("checkout_session_id")
            if not has_adjustment_currency and isinstance(session_id, str) and session_id:
                currency = self._session_currency(session_id)
        return self._parse(operation, lambda wire: order_from_wire(wire, currency=currency), response)

    def _session_currency(self, session_id: str) -> str | None:
        response = self.http.request(
            "GET", f"/checkout_sessions/{self._segment(session_id, 'checkout_get')}", operation="checkout_get"
        )
        return response.data.get("currency") if isinstance(response.data, dict) else None

    def get(self, *, order_id: str, currency: str | None = None) -> Order:
        response = self.http.request("GET", f"/orders/{self._segment(order_id, 'order_get')}", operation="order_get")
        return self._order("order_get", response, currency)

    def cancel(self, *, order_id: str, operation_id: str, currency: str | None = None) -> Order:
        response = self.http.request(
            "POST",
            f"/orders/{self._segment(order_id, 'order_cancel')}/cancel",
            operation="order_cancel",
            operation_id=operation_id,
            json_body={},
        )
        return self._order("order_cancel", response, currency)

    def refund(
        self, *, order_id: str, operation_id: str, amount: Money | None = None, currency: str | None = None
    ) -> Order:
        body: dict[str, Any] = {}
        if amount is not None:
            body["amount"] = amount.amount
        response = self.http.request(
            "POST",
            f"/orders/{self._segment(order_id, 'order_refund')}/refund",
            operation="order_refund",
            operation_id=operation_id,
            json_body=body,
        )
        return self._order("order_refund", response, currency or (amount.currency if amount else None))
