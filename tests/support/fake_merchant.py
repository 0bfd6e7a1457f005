"""A small in-memory merchant implementing the merchant contract (catalog_adapters/contract.py): no HTTP.

For unit tests of our side that need a shop but not the wire: the saga, the preview, the agent's tools.
It answers through the contract's data classes only, so it follows the contract, not any wire format.

`fake_merchant` (pytest fixture) -> `FakeMerchant`, registered as merchant "sandbox" with
`catalog_adapters.registry.register_merchant_for_tests` for the test (unregistered after it):
- `catalog`, `checkout`, `vault`, `orders`: the contract's capabilities (Catalog, Checkout, PaymentVault,
  Orders), `supports(name)`, `close()`.
- The demo catalog of our evaluation (ordering/evaluation/corpus/catalog.json): 40 products, the demo stock.
- Cards by vault reference, as the demo: pm_alice_visa / pm_bob_visa approve, pm_alice_decline declines,
  pm_alice_3ds asks for 3-D Secure (`cards` maps reference -> (customer, StoredCard, behaviour)).
- Codes: SAVE10 ($10 off); any other code is refused with a `coupon_invalid` message.
- Shipping: ship_standard ($5.00, free from $50) and ship_express ($15.00); tax 0.
- State to assert on: `sessions` (id -> CheckoutSession), `orders_by_id` (id -> Order), `tokens`
  (id -> FakeToken), `stock` (variant id -> units on hand), `available(variant_id)` (stock less open
  sessions' holds), `calls` (every contract call as (capability, method), in order).
- Replays: a call with an `operation_id` already seen returns the first answer (as the contract promises).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from catalog_adapters.contract import (
    Address,
    Allowance,
    AppliedDiscount,
    AuthenticationSession,
    CheckoutLineItem,
    CheckoutRequest,
    CheckoutSession,
    FulfillmentOption,
    Message,
    Money,
    Order,
    OrderAdjustment,
    OrderRef,
    PaymentData,
    PaymentHandler,
    PaymentToken,
    Product,
    SavedItem,
    SavedProduct,
    SelectedFulfillmentOption,
    SessionCapabilities,
    StoredCard,
    TokenRevocation,
    Total,
)
from catalog_adapters.errors import MerchantClientError
from ordering.evaluation.catalog import demo_products

OPEN_STATUSES = ("not_ready_for_payment", "ready_for_payment", "authentication_required")
SHIPPING = {"ship_standard": ("Standard", 500), "ship_express": ("Express", 1500)}
FREE_SHIPPING_FROM = 5000
CODES = {"SAVE10": 1000}
# What the fake shop offers in the negotiation: the delegated-token card handler our client pays with.
CAPABILITIES = SessionCapabilities(
    payment_handlers=(
        PaymentHandler(
            id="card_tokenized", name="dev.acp.tokenized.card", version="2026-04-17", requires_delegate_payment=True
        ),
    ),
    interventions=("3ds",),
    extensions=("discount",),
)


def _card(reference: str, brand: str, last4: str) -> StoredCard:
    return StoredCard(vault_reference=reference, brand=brand, last4=last4, exp_month=12, exp_year=2030)


DEMO_CARDS: dict[str, tuple[str, StoredCard, str]] = {
    "pm_alice_visa": ("cus_alice", _card("pm_alice_visa", "visa", "4242"), "approve"),
    "pm_alice_decline": ("cus_alice", _card("pm_alice_decline", "visa", "0002"), "decline"),
    "pm_alice_3ds": ("cus_alice", _card("pm_alice_3ds", "mastercard", "3220"), "requires_3ds"),
    "pm_bob_visa": ("cus_bob", _card("pm_bob_visa", "visa", "1881"), "approve"),
}


@dataclass
class FakeToken:
    token: PaymentToken
    vault_reference: str
    allowance: Allowance
    used: bool = False
    revoked: bool = False


@dataclass
class _SessionState:
    request: CheckoutRequest
    status: str
    order_id: str = ""


class _Capability:
    def __init__(self, merchant: FakeMerchant, name: str) -> None:
        self._merchant = merchant
        self._name = name

    def _error(self, operation: str, status: int, code: str, message: str) -> MerchantClientError:
        return MerchantClientError(
            message, merchant_id=self._merchant.id, operation=operation, status=status, code=code, attempts=1
        )

    def _once(self, method: str, operation_id: str, run: Any) -> Any:
        """The contract's promise: the same operation_id never does the thing twice."""
        self._merchant.calls.append((self._name, method))
        key = (self._name, method, operation_id)
        if key not in self._merchant.replies:
            self._merchant.replies[key] = run()
        return self._merchant.replies[key]


class FakeCatalog(_Capability):
    def _products(self) -> list[Product]:
        return [self._merchant.product(product.id) for product in self._merchant.products.values()]

    def search_products(
        self,
        *,
        query: str = "",
        category: str | None = None,
        colour: str | None = None,
        size: str | None = None,
        limit: int = 20,
    ) -> list[Product]:
        self._merchant.calls.append(("catalog", "search_products"))
        words = query.lower().split()
        found = [
            product
            for product in self._products()
            if all(word in f"{product.title} {product.description} {product.brand}".lower() for word in words)
            and (not category or product.category == category)
            and (not colour or any(variant.colour == colour for variant in product.variants))
            and (not size or any(variant.size == size for variant in product.variants))
        ]
        return found[:limit]

    def get_product(self, *, product_id: str) -> Product:
        self._merchant.calls.append(("catalog", "get_product"))
        if product_id not in self._merchant.products:
            raise self._error("get_product", 404, "not_found", f"No product {product_id}.")
        return self._merchant.product(product_id)

    def list_saved_items(self, *, customer_id: str, kind: str, since: datetime | None = None) -> list[SavedItem]:
        self._merchant.calls.append(("catalog", "list_saved_items"))
        return [
            item
            for customer, item in self._merchant.saved_items
            if customer == customer_id and item.kind == kind and (since is None or item.saved_at >= since)
        ]

    def list_saved_products(
        self,
        *,
        customer_id: str,
        kind: str,
        since: datetime | None = None,
        product_ids=None,
        limit: int = 10,
        known_products=None,
    ) -> list[SavedProduct]:
        items = self.list_saved_items(customer_id=customer_id, kind=kind, since=since)
        self._merchant.calls[-1] = ("catalog", "list_saved_products")
        if product_ids:
            items = [item for item in items if item.product_id in product_ids]
        return [SavedProduct(item=item, product=self._merchant.product(item.product_id)) for item in items[:limit]]


class FakeCheckout(_Capability):
    def create(self, *, request: CheckoutRequest, operation_id: str) -> CheckoutSession:
        def run() -> CheckoutSession:
            session_id = f"cs_fake_{next(self._merchant.ids)}"
            self._merchant.session_states[session_id] = _SessionState(request=request, status="")
            return self._merchant.requote(session_id)

        return self._once("create", operation_id, run)

    def update(self, *, session_id: str, request: CheckoutRequest, operation_id: str) -> CheckoutSession:
        def run() -> CheckoutSession:
            state = self._open_state(session_id, "update")
            changes = {name: getattr(request, name) for name in request.__dataclass_fields__}
            state.request = replace(state.request, **{k: v for k, v in changes.items() if v is not None})
            return self._merchant.requote(session_id)

        return self._once("update", operation_id, run)

    def get(self, *, session_id: str) -> CheckoutSession:
        self._merchant.calls.append(("checkout", "get"))
        if session_id not in self._merchant.sessions:
            raise self._error("get", 404, "not_found", f"No checkout session {session_id}.")
        return self._merchant.sessions[session_id]

    def _open_state(self, session_id: str, operation: str) -> _SessionState:
        state = self._merchant.session_states.get(session_id)
        if state is None:
            raise self._error(operation, 404, "not_found", f"No checkout session {session_id}.")
        if state.status not in OPEN_STATUSES:
            raise self._error(operation, 405, "invalid_state", f"The checkout session is {state.status}.")
        return state

    def complete(
        self,
        *,
        session_id: str,
        payment: PaymentData,
        operation_id: str,
        authentication_result: Mapping[str, Any] | None = None,
    ) -> CheckoutSession:
        return self._once("complete", operation_id, lambda: self._complete(session_id, payment, authentication_result))

    def _complete(self, session_id: str, payment: PaymentData, authentication_result: Any) -> CheckoutSession:
        merchant = self._merchant
        state = self._open_state(session_id, "complete")
        session = merchant.requote(session_id)
        if session.status != "ready_for_payment":
            return session
        total = session.total()
        token = merchant.tokens.get(payment.token)
        if (
            token is None
            or token.used
            or token.revoked
            or token.allowance.checkout_session_id != session_id
            or token.allowance.max_amount.amount < total.amount
        ):
            return merchant.answer(session_id, "ready_for_payment", "payment_declined", "Payment token refused.")
        _customer, card, behaviour = merchant.cards[token.vault_reference]
        if behaviour == "decline":
            return merchant.answer(
                session_id, "ready_for_payment", "payment_declined", f"The card ending {card.last4} was declined."
            )
        if behaviour == "requires_3ds" and not authentication_result:
            return merchant.answer(session_id, "authentication_required", "requires_3ds", "3-D Secure is required.")
        token.used = True
        order_id = f"ord_fake_{next(merchant.ids)}"
        state.status, state.order_id = "completed", order_id
        merchant.orders_by_id[order_id] = Order(
            id=order_id,
            checkout_session_id=session_id,
            status="confirmed",
            currency=session.currency,
            totals=session.totals,
            adjustments=(),
            permalink_url=f"https://fake.example/orders/{order_id}",
        )
        for line in session.line_items:
            merchant.stock[line.item_id] -= line.quantity
        return merchant.requote(session_id)

    def cancel(self, *, session_id: str, operation_id: str) -> CheckoutSession:
        def run() -> CheckoutSession:
            self._open_state(session_id, "cancel").status = "canceled"
            return self._merchant.requote(session_id)

        return self._once("cancel", operation_id, run)

    def authentication_create(
        self, *, session_id: str, notification_url: str, operation_id: str
    ) -> AuthenticationSession:
        return self._once(
            "authentication_create",
            operation_id,
            lambda: AuthenticationSession(
                id=f"auth_fake_{next(self._merchant.ids)}",
                status="action_required",
                checkout_session_id=session_id,
                challenge_url="https://fake.example/challenge",
            ),
        )

    def authentication_get(self, *, authentication_session_id: str) -> AuthenticationSession:
        self._merchant.calls.append(("checkout", "authentication_get"))
        return AuthenticationSession(id=authentication_session_id, status="action_required")


class FakeVault(_Capability):
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
        def run() -> PaymentToken:
            if vault_reference not in self._merchant.cards:
                raise self._error("delegate_payment", 400, "invalid_card", f"No card {vault_reference}.")
            token = PaymentToken(
                id=f"vt_fake_{next(self._merchant.ids)}",
                created=timezone.now(),
                expires_at=allowance.expires_at,
                metadata=dict(metadata or {}),
            )
            self._merchant.tokens[token.id] = FakeToken(
                token=token, vault_reference=vault_reference, allowance=allowance
            )
            return token

        return self._once("delegate", operation_id, run)

    def revoke(self, *, token_id: str, operation_id: str) -> TokenRevocation:
        def run() -> TokenRevocation:
            token = self._merchant.tokens.get(token_id)
            if token is None:
                raise self._error("revoke", 404, "not_found", f"No token {token_id}.")
            if token.used:
                return TokenRevocation(id=token_id, revoked=False, reason="already_used")
            token.revoked = True
            return TokenRevocation(id=token_id, revoked=True)

        return self._once("revoke", operation_id, run)

    def customer_cards(self, *, customer_id: str) -> list[StoredCard]:
        self._merchant.calls.append(("vault", "customer_cards"))
        return [card for customer, card, _behaviour in self._merchant.cards.values() if customer == customer_id]


class FakeOrders(_Capability):
    def get(self, *, order_id: str) -> Order:
        self._merchant.calls.append(("orders", "get"))
        if order_id not in self._merchant.orders_by_id:
            raise self._error("order_get", 404, "not_found", f"No order {order_id}.")
        return self._merchant.orders_by_id[order_id]

    def _adjust(self, order_id: str, operation: str, kind: str, amount: Money | None) -> Order:
        order = self.get(order_id=order_id)
        if order.status == "canceled":
            raise self._error(operation, 409, "conflict", "The order is canceled.")
        given_back = sum(adjustment.amount.amount for adjustment in order.adjustments)
        money = amount or Money(order.total().amount - given_back, order.currency)
        adjustment = OrderAdjustment(
            type=kind,
            amount=money,
            created=timezone.now(),
            id=f"adj_fake_{next(self._merchant.ids)}",
            status="completed",
        )
        order = replace(
            order,
            status="canceled" if kind == "cancellation" else order.status,
            adjustments=(*order.adjustments, adjustment),
        )
        self._merchant.orders_by_id[order_id] = order
        return order

    def cancel(self, *, order_id: str, operation_id: str) -> Order:
        return self._once("cancel", operation_id, lambda: self._adjust(order_id, "order_cancel", "cancellation", None))

    def refund(self, *, order_id: str, operation_id: str, amount: Money | None = None) -> Order:
        return self._once("refund", operation_id, lambda: self._adjust(order_id, "order_refund", "refund", amount))


@dataclass
class FakeMerchant:
    """One in-memory shop: the contract's four capabilities over plain dictionaries."""

    id: str = "sandbox"
    products: dict[str, Product] = field(default_factory=lambda: {p.id: p for p in demo_products()})
    cards: dict[str, tuple[str, StoredCard, str]] = field(default_factory=lambda: dict(DEMO_CARDS))
    saved_items: list[tuple[str, SavedItem]] = field(default_factory=list)
    stock: dict[str, int] = field(default_factory=dict)
    sessions: dict[str, CheckoutSession] = field(default_factory=dict)
    session_states: dict[str, _SessionState] = field(default_factory=dict)
    orders_by_id: dict[str, Order] = field(default_factory=dict)
    tokens: dict[str, FakeToken] = field(default_factory=dict)
    replies: dict[tuple, Any] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    ids: Any = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        if not self.stock:
            self.stock = {v.id: v.available for p in self.products.values() for v in p.variants}
        self.catalog = FakeCatalog(self, "catalog")
        self.checkout = FakeCheckout(self, "checkout")
        self.vault = FakeVault(self, "vault")
        self.orders = FakeOrders(self, "orders")

    def supports(self, capability: str) -> bool:
        return capability in ("catalog", "checkout", "vault", "orders")

    def close(self) -> None:
        return None

    # -- state ---------------------------------------------------------------------------------------

    def held(self, variant_id: str) -> int:
        return sum(
            line.quantity
            for session_id, state in self.session_states.items()
            if state.status in OPEN_STATUSES
            for line in self.sessions[session_id].line_items
            if line.item_id == variant_id
        )

    def available(self, variant_id: str) -> int:
        return max(self.stock[variant_id] - self.held(variant_id), 0)

    def product(self, product_id: str) -> Product:
        product = self.products[product_id]
        variants = tuple(replace(v, available=self.available(v.id)) for v in product.variants)
        return replace(product, variants=variants)

    def _variant(self, variant_id: str) -> tuple[Product, Any] | None:
        for product in self.products.values():
            for variant in product.variants:
                if variant.id == variant_id:
                    return product, variant
        return None

    # -- pricing -------------------------------------------------------------------------------------

    def requote(self, session_id: str, extra: tuple[Message, ...] = ()) -> CheckoutSession:
        """The session as the shop holds it now (prices, holds, messages), stored and returned."""
        state = self.session_states[session_id]
        request = state.request
        currency = (request.currency or "usd").lower()
        messages: list[Message] = list(extra)
        lines = []
        for index, wanted in enumerate(request.line_items or ()):
            found = self._variant(wanted.id)
            if found is None:
                messages.append(
                    Message(
                        type="error", code="invalid", content=f"No item {wanted.id}.", param=f"$.line_items[{index}]"
                    )
                )
                continue
            product, variant = found
            if state.status in ("", *OPEN_STATUSES):
                other_holds = self.held(variant.id) - sum(
                    line.quantity
                    for line in (self.sessions[session_id].line_items if session_id in self.sessions else ())
                    if line.item_id == variant.id
                )
                if self.stock[variant.id] - other_holds < wanted.quantity:
                    messages.append(
                        Message(
                            type="error",
                            code="out_of_stock",
                            content=f"{product.title} is out of stock.",
                            param=f"$.line_items[{index}]",
                        )
                    )
                    continue
            amount = variant.price.amount * wanted.quantity
            money = Money(amount, currency)
            lines.append(
                CheckoutLineItem(
                    id=f"li_{variant.id}",
                    item_id=variant.id,
                    quantity=wanted.quantity,
                    title=product.title,
                    colour=variant.colour,
                    size=variant.size,
                    base_amount=money,
                    discount=Money(0, currency),
                    subtotal=money,
                    tax=Money(0, currency),
                    total=money,
                )
            )
        base = sum(line.base_amount.amount for line in lines)
        applied, codes = [], []
        for code in request.discount_codes or ():
            if code.upper() in CODES:
                codes.append(code.upper())
                applied.append(
                    AppliedDiscount(
                        code=code.upper(), amount=Money(CODES[code.upper()], currency), description="Demo code"
                    )
                )
            else:
                messages.append(
                    Message(
                        type="warning",
                        code="coupon_invalid",
                        content="This code does not exist.",
                        param="$.discount_codes",
                    )
                )
        discount = min(sum(d.amount.amount for d in applied), base)
        options = tuple(
            FulfillmentOption(
                id=option_id,
                type="shipping",
                title=title,
                carrier="Fake Post",
                earliest_delivery_time=None,
                latest_delivery_time=None,
                totals=(
                    Total(
                        type="total", display_text="Shipping", amount=Money(self._shipping(option_id, base), currency)
                    ),
                ),
            )
            for option_id, (title, _price) in SHIPPING.items()
        )
        selected = tuple(request.selected_fulfillment_options or ())
        shipping = self._shipping(selected[0].option_id, base) if selected else 0
        totals = (
            Total(type="items_base_amount", display_text="Items", amount=Money(base, currency)),
            Total(type="items_discount", display_text="Discount", amount=Money(discount, currency)),
            Total(type="subtotal", display_text="Subtotal", amount=Money(base - discount, currency)),
            Total(type="fulfillment", display_text="Shipping", amount=Money(shipping, currency)),
            Total(type="tax", display_text="Tax", amount=Money(0, currency)),
            Total(type="total", display_text="Total", amount=Money(base - discount + shipping, currency)),
        )
        if state.status in ("", *OPEN_STATUSES):
            ready = lines and request.fulfillment_details is not None and selected
            blocked = any(message.code == "out_of_stock" for message in messages)
            if state.status != "authentication_required" or not extra:
                state.status = "ready_for_payment" if ready and not blocked else "not_ready_for_payment"
        order = self.orders_by_id.get(state.order_id) if state.order_id else None
        session = CheckoutSession(
            id=session_id,
            status=state.status,
            currency=currency,
            line_items=tuple(lines),
            totals=totals,
            messages=tuple(messages),
            fulfillment_options=options,
            selected_fulfillment_options=tuple(
                SelectedFulfillmentOption(option_id=s.option_id, item_ids=s.item_ids, type=s.type) for s in selected
            ),
            discount_codes=tuple(codes),
            applied_discounts=tuple(applied),
            buyer=request.buyer,
            fulfillment_details=request.fulfillment_details,
            expires_at=timezone.now() + timedelta(minutes=30),
            capabilities=CAPABILITIES,
            order=OrderRef(
                id=order.id, checkout_session_id=session_id, permalink_url=order.permalink_url, status=order.status
            )
            if order
            else None,
        )
        self.sessions[session_id] = session
        return session

    def answer(self, session_id: str, status: str, code: str, content: str) -> CheckoutSession:
        """The session with one error message, left in `status` (a declined card, a 3-D Secure request)."""
        self.session_states[session_id].status = status
        return self.requote(
            session_id, extra=(Message(type="error", code=code, content=content, param="$.payment_data"),)
        )

    @staticmethod
    def _shipping(option_id: str, base: int) -> int:
        if option_id == "ship_standard" and base >= FREE_SHIPPING_FROM:
            return 0
        return SHIPPING.get(option_id, ("", 0))[1]


@pytest.fixture
def fake_merchant() -> FakeMerchant:
    """An in-memory merchant answering as "sandbox" through the registry, for this test only."""
    from catalog_adapters.registry import register_merchant_for_tests

    merchant = FakeMerchant()
    register_merchant_for_tests(merchant.id, merchant)
    try:
        yield merchant
    finally:
        register_merchant_for_tests(merchant.id, None)
