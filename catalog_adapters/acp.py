"""The ACP client: the contract's capabilities spoken over the Agentic Commerce Protocol.

Checkout follows ACP (spec 2026-04-17). Catalog, saved items, orders and token revocation follow the
sandbox merchant's extensions (docs/sandbox-merchant-wire.md); a merchant without them is configured
without those capabilities (MERCHANT_<ID>_CAPABILITIES). All HTTP goes through MerchantHttpClient.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from catalog_adapters.contract import (
    SAVED_ITEM_KINDS,
    Address,
    Allowance,
    AppliedDiscount,
    AuthenticationSession,
    Buyer,
    CheckoutLineItem,
    CheckoutRequest,
    CheckoutSession,
    FulfillmentDetails,
    FulfillmentOption,
    Message,
    Money,
    Order,
    OrderAdjustment,
    OrderRef,
    PaymentData,
    PaymentToken,
    Product,
    ProductVariant,
    SavedItem,
    SelectedFulfillmentOption,
    StoredCard,
    TokenRevocation,
    Total,
)
from catalog_adapters.errors import MerchantServerError
from catalog_adapters.http import MerchantHttpClient, MerchantResponse, path_segment


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

    def __call__(self, build, data: Any):
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
        Total(type=item["type"], display_text=item.get("display_text", ""), amount=Money(int(item["amount"]), currency))
        for item in items or ()
    )


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


def address_to_wire(address: Address) -> dict[str, str]:
    return {
        "name": address.name,
        "line_one": address.line_one,
        "line_two": address.line_two,
        "city": address.city,
        "state": address.state,
        "country": address.country,
        "postal_code": address.postal_code,
    }


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


def session_from_wire(data: Mapping[str, Any]) -> CheckoutSession:
    currency = data["currency"]
    line_items = []
    for line in data.get("line_items") or ():
        variant = line.get("variant") or {}
        item = line.get("item") or {}
        line_items.append(
            CheckoutLineItem(
                id=line["id"],
                item_id=item.get("id", ""),
                quantity=int(item.get("quantity", 0)),
                title=line.get("title", ""),
                colour=variant.get("colour"),
                size=variant.get("size"),
                base_amount=Money(int(line.get("base_amount", 0)), currency),
                discount=Money(int(line.get("discount", 0)), currency),
                subtotal=Money(int(line.get("subtotal", 0)), currency),
                tax=Money(int(line.get("tax", 0)), currency),
                total=Money(int(line.get("total", 0)), currency),
            )
        )
    buyer = data.get("buyer")
    details = data.get("fulfillment_details")
    discounts = data.get("discounts") or {}
    order = data.get("order")
    return CheckoutSession(
        id=data["id"],
        status=data["status"],
        currency=currency,
        line_items=tuple(line_items),
        totals=totals(data.get("totals"), currency),
        messages=tuple(
            Message(
                type=message.get("type", "info"),
                code=message.get("code", ""),
                content=message.get("content", ""),
                param=message.get("param"),
            )
            for message in data.get("messages") or ()
        ),
        fulfillment_options=tuple(
            FulfillmentOption(
                id=option["id"],
                type=option.get("type", "shipping"),
                title=option.get("title", ""),
                carrier=option.get("carrier", ""),
                earliest_delivery_time=_parse_time(option.get("earliest_delivery_time")),
                latest_delivery_time=_parse_time(option.get("latest_delivery_time")),
                totals=totals(option.get("totals"), currency),
            )
            for option in data.get("fulfillment_options") or ()
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
            AppliedDiscount(
                code=applied.get("code", ""),
                amount=Money(int(applied.get("amount", 0)), currency),
                description=applied.get("description", ""),
            )
            for applied in discounts.get("applied") or ()
        ),
        buyer=Buyer(
            email=buyer.get("email", ""),
            first_name=buyer.get("first_name", ""),
            last_name=buyer.get("last_name", ""),
            phone_number=buyer.get("phone_number") or "",
        )
        if buyer
        else None,
        fulfillment_details=FulfillmentDetails(
            name=details.get("name", ""),
            address=address_from_wire(details.get("address")),
            email=details.get("email") or "",
            phone_number=details.get("phone_number") or "",
        )
        if details and details.get("address")
        else None,
        expires_at=_parse_time(data.get("expires_at")),
        continue_url=data.get("continue_url"),
        order=OrderRef(
            id=order["id"],
            checkout_session_id=order.get("checkout_session_id", data["id"]),
            permalink_url=order.get("permalink_url", ""),
            status=order.get("status", ""),
        )
        if order
        else None,
        raw=data,
    )


def checkout_request_to_wire(request: CheckoutRequest) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if request.line_items is not None:
        body["line_items"] = [{"id": line.id, "quantity": line.quantity} for line in request.line_items]
    if request.currency is not None:
        body["currency"] = request.currency.lower()
    if request.buyer is not None:
        body["buyer"] = {
            "email": request.buyer.email,
            "first_name": request.buyer.first_name,
            "last_name": request.buyer.last_name,
            "phone_number": request.buyer.phone_number,
        }
    if request.fulfillment_details is not None:
        details = request.fulfillment_details
        body["fulfillment_details"] = {
            "name": details.name,
            "phone_number": details.phone_number,
            "email": details.email,
            "address": address_to_wire(details.address),
        }
    if request.selected_fulfillment_options is not None:
        body["selected_fulfillment_options"] = [
            {"type": selected.type, "option_id": selected.option_id, "item_ids": list(selected.item_ids)}
            for selected in request.selected_fulfillment_options
        ]
    if request.discount_codes is not None:
        body["discounts"] = {"codes": list(request.discount_codes)}
    return body


def order_from_wire(data: Mapping[str, Any]) -> Order:
    currency = data["currency"]
    return Order(
        id=data["id"],
        checkout_session_id=data.get("checkout_session_id", ""),
        status=data["status"],
        currency=currency,
        totals=totals(data.get("totals"), currency),
        adjustments=tuple(
            OrderAdjustment(
                type=adjustment["type"],
                amount=Money(int(adjustment["amount"]), currency),
                created=_parse_time(adjustment.get("created")),
            )
            for adjustment in data.get("adjustments") or ()
        ),
        permalink_url=data.get("permalink_url", ""),
        raw=data,
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

    def _parse(self, operation: str, build, response: MerchantResponse):
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

        def build(data):
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


class AcpCheckout(_Capability):
    def create(self, *, request: CheckoutRequest, operation_id: str) -> CheckoutSession:
        if not request.line_items or not request.currency:
            raise ValueError("creating a checkout session needs line_items and currency")
        response = self.http.request(
            "POST",
            "/checkout_sessions",
            operation="checkout_create",
            operation_id=operation_id,
            json_body=checkout_request_to_wire(request),
        )
        return self._parse("checkout_create", session_from_wire, response)

    def update(self, *, session_id: str, request: CheckoutRequest, operation_id: str) -> CheckoutSession:
        response = self.http.request(
            "POST",
            f"/checkout_sessions/{self._segment(session_id, 'checkout_update')}",
            operation="checkout_update",
            operation_id=operation_id,
            json_body=checkout_request_to_wire(request),
        )
        return self._parse("checkout_update", session_from_wire, response)

    def get(self, *, session_id: str) -> CheckoutSession:
        return self._parse("checkout_get", session_from_wire, self._get_response(session_id))

    def _get_response(self, session_id: str, read_timeout: float | None = None) -> MerchantResponse:
        return self.http.request(
            "GET",
            f"/checkout_sessions/{self._segment(session_id, 'checkout_get')}",
            operation="checkout_get",
            read_timeout=read_timeout,
        )

    def complete(
        self,
        *,
        session_id: str,
        payment: PaymentData,
        operation_id: str,
        authentication_result: Mapping[str, Any] | None = None,
        read_timeout: float | None = None,
    ) -> CheckoutSession:
        body: dict[str, Any] = {"payment_data": self._payment_data(payment)}
        if authentication_result is not None:
            body["authentication_result"] = dict(authentication_result)

        def completed_already() -> MerchantResponse | None:
            # The lost answer may have been a success: read before resending, so a completed session
            # is returned as is. Otherwise the retry reuses the key; the merchant replays or finishes.
            response = self._get_response(session_id, read_timeout=read_timeout)
            if isinstance(response.data, dict) and response.data.get("status") == "completed":
                return response
            return None

        response = self.http.request(
            "POST",
            f"/checkout_sessions/{self._segment(session_id, 'checkout_complete')}/complete",
            operation="checkout_complete",
            operation_id=operation_id,
            json_body=body,
            read_timeout=read_timeout,
            resolve_unknown=completed_already,
        )
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
        self, *, session_id: str, notification_url: str, operation_id: str
    ) -> AuthenticationSession:
        """Open a 3-D Secure challenge for a session in `authentication_required` (delegate_authentication)."""
        response = self.http.request(
            "POST",
            "/delegate_authentication",
            operation="authentication_create",
            operation_id=operation_id,
            json_body={
                "checkout_session_id": session_id,
                "challenge_notification_url": notification_url,
                "flow_preference": {"type": "challenge", "challenge": {"type": "mandated"}},
            },
        )
        return self._parse("authentication_create", authentication_from_wire, response)

    def authentication_get(self, *, authentication_session_id: str) -> AuthenticationSession:
        response = self.http.request(
            "GET",
            f"/delegate_authentication/{self._segment(authentication_session_id, 'authentication_get')}",
            operation="authentication_get",
        )
        return self._parse("authentication_get", authentication_from_wire, response)

    def _payment_data(self, payment: PaymentData) -> dict[str, Any]:
        config = self.http.config
        if config.payment_handler_id:
            data: dict[str, Any] = {
                "handler_id": config.payment_handler_id,
                "instrument": {"type": "card", "credential": {"type": "spt", "token": payment.token}},
            }
        else:
            data = {"token": payment.token, "provider": config.payment_provider}
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
    ) -> PaymentToken:
        body: dict[str, Any] = {
            "payment_method": {"type": "card", "vault_reference": vault_reference},
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

        def build(data):
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

        def build(data):
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

        def build(data):
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
    def get(self, *, order_id: str) -> Order:
        response = self.http.request("GET", f"/orders/{self._segment(order_id, 'order_get')}", operation="order_get")
        return self._parse("order_get", order_from_wire, response)

    def cancel(self, *, order_id: str, operation_id: str) -> Order:
        response = self.http.request(
            "POST",
            f"/orders/{self._segment(order_id, 'order_cancel')}/cancel",
            operation="order_cancel",
            operation_id=operation_id,
            json_body={},
        )
        return self._parse("order_cancel", order_from_wire, response)

    def refund(self, *, order_id: str, operation_id: str, amount: Money | None = None) -> Order:
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
        return self._parse("order_refund", order_from_wire, response)
