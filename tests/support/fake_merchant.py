"""An in-memory merchant implementing the merchant contract (catalog_adapters/contract.py): the sandbox's demo
shop without HTTP and without its database (a pytest plugin, loaded for the whole suite by tests/conftest.py).

For tests whose subject is our side (conversation understanding, consent, policies, the saga's own logic)
and not the merchant wire. It holds the sandbox's demo data (sandbox_merchant/demo.py: the 40 products and
their variant ids, prices and stock, alice's and bob's cards and saved items, the promo codes) in
dictionaries, and computes like the sandbox by running the sandbox's own pure rules: its request parsing
(`sandbox_merchant.wire`), its pricing (`sandbox_merchant.pricing.quote_lines`: promotions, tax by region,
shipping), its session capabilities and its checkout rules (`sandbox_merchant.rules`: address checks,
default shipping, readiness, token checks, messages, line and order representations, which services.py and
selectors.py call too), on in-memory state that mirrors its services (stock reserved per session, complete,
cancel, orders, refunds). What it answers
is built as the sandbox's wire JSON and read with our ACP adapter's own parsers, so callers get exactly
the contract data the real adapter would give them.
tests/merchant_client/test_fake_merchant_parity.py runs the same scenarios against the fake and the real
sandbox over HTTP and compares the answers: change the fake when it fails, never the scenarios.

What it does not do: HTTP (no retries, timeouts, breaker, rate limit, idempotency keys on a wire, no
`Accept-Language`: its sessions carry no `locale`), the HTTP
fault switchboard (only `price_change`, `decline` and `requires_3ds` are offered, as `fault(...)`, and a checkout
session's cancel or a product search answering 500, as `add_fault("server_error", operation=...)`), webhooks, the
issuer's 3-D Secure pages. 3-D Secure as the sandbox's rules decide it: the 3-D Secure card's issuer mandates a
challenge, the `requires_3ds` fault is the merchant's preference; having no issuer, the fake never matches an
`authenticated` result (declined), and takes `not_supported` (verified out of band, as our two specialists do)
only where the challenge is preferred. Tests about the issuer's pages use `sandbox_merchant` (tests/support/sandbox.py).

`fake_merchant` (pytest fixture) -> `FakeMerchant`, registered as merchant "sandbox" in the registry
(`catalog_adapters.registry.register_merchant_for_tests`) for the test. It needs no database access itself:
use it with `db` (each test rolls back) unless the test needs real commits. `fake_shop` (tests/ordering/
conftest.py) adds alice's demo wallet and the production commit points (`production_commits`,
tests/support/commits.py).

`FakeMerchant` state and helpers:
- `catalog`, `checkout`, `vault`, `orders`: the contract's capabilities; `supports(name)`, `close()`.
- `products` (id -> FakeProduct: title, description... editable), `add_card(reference, customer_id=...,
  brand=..., last4=..., behaviour="approve")`,
- `stock` (variant id -> units on hand), `set_stock(variant, units)`, `set_price(variant, amount)`,
  `available(variant)` (on hand less live holds, as the sandbox's `variant_available`),
  `session_held(session id)` (units one checkout session holds now, as the sandbox's `live_reservations`).
- `sessions` (id -> the last CheckoutSession answered), `orders_by_id` (id -> the last Order answered),
  `tokens` (id -> FakeToken), `calls` (every contract call as (capability, method), in order),
  `requests(capability, method)` (how many such calls).
- `fault(kind, times=None)`: the next completes misbehave: "price_change" (the price goes up 5 % first),
  "decline" (the card is declined) or "requires_3ds" (the merchant prefers a 3-D Secure challenge).
- `add_fault("server_error", operation="cancel" | "search", times=None)`, `clear_faults()`: as the sandbox's
  switchboard, the checkout session's cancel or the catalog's product reads fail as our adapter fails after a 500
  (`MerchantServerError`, status 500), nothing stored; for tests of our undo, the console that shows it failing,
  and a chat turn whose catalog step fails.
- Replays: a call with an `operation_id` already seen returns the first answer (as the contract promises).
- `http` (`FakeHttp`): the one sandbox extension our side reads through the merchant's HTTP client instead of
  the contract, the customer's promotions (`GET /customers/{id}/promotions`); nothing else.
- `control` (`FakeControl`): the sandbox's control API (ordering/evaluation/sandbox_control.py, a `ShopControl`)
  on this state: `reset(full=False)` (`demo_reset`: the demo shop put back as the sandbox's reset does),
  `set_stock({variant: units})`, `orders(customer=...)`, `order(id)`, `tokens(...)`. The corpus gate
  (tests/evaluation/test_conversation_tasks.py) runs on it.
- `announces_challenge = False`: a session that asks for 3-D Secure does not say whose wish the check is (ACP's
  optional `flow_preference` left out), as a merchant may; what it accepts is unchanged.
- `order_events = True`: instead of webhooks over HTTP, each order created or changed is handed to our webhook
  receiver's service, signed, as the sandbox's webhook delivers it during the call that made the change (off by
  default: most tests of our side want no order events they did not stage).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from catalog_adapters.acp import (
    agent_capabilities,
    authentication_result_to_wire,
    checkout_create_to_wire,
    checkout_update_to_wire,
    order_from_wire,
    product_from_wire,
    selected_options_to_wire,
    session_from_wire,
)
from catalog_adapters.contract import (
    Address,
    Allowance,
    AuthenticationSession,
    CheckoutRequest,
    CheckoutSession,
    Money,
    Order,
    PaymentData,
    PaymentToken,
    Product,
    SavedItem,
    SavedProduct,
    StoredCard,
    TokenRevocation,
    fulfillment_option_choose,
)
from catalog_adapters.errors import MerchantClientError, MerchantServerError

BASE_URL = "https://fake-merchant.example/sandbox-merchant"
OPEN_STATUSES = ("not_ready_for_payment", "ready_for_payment", "authentication_required")
PAYMENT_MESSAGE_CODES = {"payment_declined", "requires_3ds", "price_change"}


def _demo():
    # The sandbox's own modules, imported when a fake is built (they need Django's apps loaded).
    from sandbox_merchant import demo

    return demo


@dataclass
class FakeVariant:
    id: str
    product_id: str
    sku: str
    colour: str
    size: str
    price: int
    stock: int


@dataclass
class FakeProduct:
    id: str
    title: str
    description: str
    category: str
    brand: str
    price: int
    variant_ids: list[str]


@dataclass
class FakeCard:
    reference: str
    customer_id: str
    brand: str
    last4: str
    behaviour: str


@dataclass
class FakeToken:
    id: str
    vault_reference: str
    allowance: Allowance
    metadata: dict
    used: bool = False
    revoked: bool = False


@dataclass
class FakeLine:
    variant_id: str
    quantity: int
    unit_amount: int
    reserved: int = 0


@dataclass
class FakeSession:
    id: str
    status: str
    currency: str
    expires_at: datetime
    customer_id: str | None = None
    buyer: dict | None = None
    fulfillment_details: dict | None = None
    selected: list = field(default_factory=list)
    codes: list = field(default_factory=list)
    capabilities: dict = field(default_factory=dict)
    lines: list[FakeLine] = field(default_factory=list)
    messages: list[dict] = field(default_factory=list)
    quote: dict = field(default_factory=dict)
    quoted_total: int = 0
    order_id: str = ""
    token_card: str = ""
    authentication_challenge: str = ""  # mandated / preferred, once a complete asked for 3-D Secure


@dataclass
class FakeOrder:
    id: str
    session_id: str
    currency: str
    total: int
    line_items: list
    totals: list
    customer_id: str | None = None
    vault_reference: str = ""
    status: str = "confirmed"
    adjustments: list = field(default_factory=list)  # (id, type, amount, created)


class _Capability:
    def __init__(self, merchant: FakeMerchant, name: str) -> None:
        self._merchant = merchant
        self._name = name

    def _error(self, operation: str, status: int, code: str, message: str) -> MerchantClientError:
        return MerchantClientError(
            message, merchant_id=self._merchant.id, operation=operation, status=status, code=code, attempts=1
        )

    def _sandbox_error(self, operation: str, error: Exception) -> MerchantClientError:
        """A sandbox domain error as the adapter raises it (the status api.py maps it to, its code)."""
        from sandbox_merchant.errors import NotFound, OrderConflict, SessionNotOpen

        status = {NotFound: 404, SessionNotOpen: 405, OrderConflict: 409}.get(type(error), 400)
        return self._error(operation, status, getattr(error, "code", "invalid"), str(error))

    def _call(self, method: str, operation: str, run: Any, operation_id: str | None = None) -> Any:
        """Run one contract call; a replayed operation_id gets the first answer (or the first error) again."""
        from sandbox_merchant.errors import SandboxError

        merchant = self._merchant
        merchant.calls.append((self._name, method))
        failed = merchant.switchboard_server_error(self._name, method, operation)
        if failed is not None:
            raise failed  # before the replay lookup and never stored: the sandbox's 500 comes before its key store
        key = (self._name, method, operation_id)
        if operation_id is not None and key in merchant.replies:
            answer = merchant.replies[key]
        else:
            try:
                answer = ("ok", run())
            except SandboxError as error:
                answer = ("error", self._sandbox_error(operation, error))
            except MerchantClientError as error:
                answer = ("error", error)
            if operation_id is not None:
                merchant.replies[key] = answer
        if answer[0] == "error":
            raise answer[1]
        return answer[1]


class FakeCatalog(_Capability):
    def search_products(
        self,
        *,
        query: str = "",
        category: str | None = None,
        colour: str | None = None,
        size: str | None = None,
        limit: int = 20,
    ) -> list[Product]:
        def run() -> list[Product]:
            merchant = self._merchant
            found = []
            for product in merchant.products.values():
                text = f"{product.title} {product.description} {product.category}".lower()
                variants = [merchant.variants[v] for v in product.variant_ids]
                if not all(word in text for word in query.lower().replace("-", " ").split()):
                    continue
                if category and product.category.lower() != category.lower():
                    continue
                if colour and not any(v.colour.lower() == colour.lower() for v in variants):
                    continue
                if size and not any(v.size.lower() == size.lower() for v in variants):
                    continue
                found.append(product)
            found.sort(key=lambda product: (product.title, product.id))
            return [merchant.product(product.id) for product in found[:limit]]

        return self._call("search_products", "search_products", run)

    def get_product(self, *, product_id: str) -> Product:
        def run() -> Product:
            if product_id not in self._merchant.products:
                raise self._error("get_product", 404, "not_found", f"No product {product_id}.")
            return self._merchant.product(product_id)

        return self._call("get_product", "get_product", run)

    def _saved(self, customer_id: str, kind: str, since: datetime | None, operation: str) -> list[SavedItem]:
        if customer_id not in self._merchant.customers:
            raise self._error(operation, 404, "not_found", f"No customer {customer_id}.")
        items = [
            item
            for customer, item in self._merchant.saved_items
            if customer == customer_id and item.kind == kind and (since is None or item.saved_at >= since)
        ]
        return sorted(items, key=lambda item: item.saved_at, reverse=True)

    def list_saved_items(self, *, customer_id: str, kind: str, since: datetime | None = None) -> list[SavedItem]:
        return self._call(
            "list_saved_items", "list_saved_items", lambda: self._saved(customer_id, kind, since, "list_saved_items")
        )

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
        def run() -> list[SavedProduct]:
            items = self._saved(customer_id, kind, since, "list_saved_products")
            if product_ids:
                items = [item for item in items if item.product_id in product_ids]
            return [SavedProduct(item=item, product=self._merchant.product(item.product_id)) for item in items[:limit]]

        return self._call("list_saved_products", "list_saved_products", run)


class FakeCheckout(_Capability):
    def create(self, *, request: CheckoutRequest, operation_id: str) -> CheckoutSession:
        if not request.line_items or not request.currency:
            raise ValueError("creating a checkout session needs line_items and currency")

        def run() -> CheckoutSession:
            from sandbox_merchant.wire import parse_checkout_request

            parsed = parse_checkout_request(checkout_create_to_wire(request), creating=True)
            return self._merchant.session_create(parsed)

        session = self._call("create", "checkout_create", run, operation_id)
        return self._select_fulfillment(session, request.selected_fulfillment_options, operation_id)

    def _select_fulfillment(self, session, selected, operation_id: str) -> CheckoutSession:
        # As the ACP adapter: create has no field for the option, so a chosen one follows as an update, and only
        # an option the merchant offers is sent (an id it does not offer is read as the assistant's word).
        if selected:
            chosen = ((o, fulfillment_option_choose(session, o.option_id)) for o in selected)
            selected = tuple(replace(o, option_id=offered.id, type=offered.type) for o, offered in chosen if offered)
        if not selected or {o.option_id for o in selected} == {
            o.option_id for o in session.selected_fulfillment_options
        }:
            return session
        body = {"selected_fulfillment_options": selected_options_to_wire(selected, session)}
        return self._update(session.id, body, f"{operation_id}:fulfillment")

    def _update(self, session_id: str, body: dict, operation_id: str) -> CheckoutSession:
        def run() -> CheckoutSession:
            from sandbox_merchant.wire import parse_checkout_request

            return self._merchant.session_update(session_id, parse_checkout_request(body, creating=False))

        return self._call("update", "checkout_update", run, operation_id)

    def update(self, *, session_id: str, request: CheckoutRequest, operation_id: str) -> CheckoutSession:
        selected = request.selected_fulfillment_options
        deferred = selected is not None and any(not option.item_ids for option in selected)
        if deferred:
            request = CheckoutRequest(**{**request.__dict__, "selected_fulfillment_options": None})
        session = self._update(session_id, checkout_update_to_wire(request), operation_id)
        return self._select_fulfillment(session, selected, operation_id) if deferred else session

    def get(self, *, session_id: str) -> CheckoutSession:
        return self._call("get", "checkout_get", lambda: self._merchant.session_answer(session_id))

    def complete(
        self,
        *,
        session_id: str,
        payment: PaymentData,
        operation_id: str,
        authentication_result: Mapping[str, Any] | None = None,
        read_timeout: float | None = None,
    ) -> CheckoutSession:
        outcome = authentication_result_to_wire(authentication_result)["outcome"] if authentication_result else None
        return self._call(
            "complete",
            "checkout_complete",
            lambda: self._merchant.session_complete(session_id, token_id=payment.token, outcome=outcome),
            operation_id,
        )

    def cancel(self, *, session_id: str, operation_id: str) -> CheckoutSession:
        return self._call("cancel", "checkout_cancel", lambda: self._merchant.session_cancel(session_id), operation_id)

    def authentication_create(
        self, *, session_id: str, notification_url: str, operation_id: str, card=None, session=None
    ) -> AuthenticationSession:
        def run() -> AuthenticationSession:
            state = self._merchant.session_state(session_id)
            if state.status != "authentication_required":
                raise self._error("authenticate", 405, "invalid_state", f"The checkout session is {state.status}.")
            return AuthenticationSession(
                id=self._merchant.new_id("auth"),
                status="action_required",
                checkout_session_id=session_id,
                challenge_url=f"{BASE_URL}/issuer/challenge/{uuid.uuid4().hex}",
            )

        return self._call("authentication_create", "authenticate", run, operation_id)

    def authentication_get(self, *, authentication_session_id: str) -> AuthenticationSession:
        return self._call(
            "authentication_get",
            "authentication_get",
            lambda: AuthenticationSession(id=authentication_session_id, status="action_required"),
        )


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
        card_funding_type: str = "credit",
    ) -> PaymentToken:
        def run() -> PaymentToken:
            if vault_reference not in self._merchant.cards:
                raise self._error("vault_delegate", 400, "invalid_card", f"No vault card {vault_reference}.")
            token = FakeToken(
                id=self._merchant.new_id("vt"),
                vault_reference=vault_reference,
                allowance=allowance,
                metadata=dict(metadata or {}),
            )
            self._merchant.tokens[token.id] = token
            return PaymentToken(
                id=token.id, created=timezone.now(), expires_at=allowance.expires_at, metadata=token.metadata
            )

        return self._call("delegate", "vault_delegate", run, operation_id)

    def revoke(self, *, token_id: str, operation_id: str) -> TokenRevocation:
        def run() -> TokenRevocation:
            # As the sandbox: an unknown or already revoked token is revoked as far as anyone can tell.
            token = self._merchant.tokens.get(token_id)
            if token is not None and token.used:
                return TokenRevocation(id=token_id, revoked=False, reason="already_used")
            if token is not None:
                token.revoked = True
            return TokenRevocation(id=token_id, revoked=True)

        return self._call("revoke", "vault_revoke", run, operation_id)

    def customer_cards(self, *, customer_id: str) -> list[StoredCard]:
        def run() -> list[StoredCard]:
            if customer_id not in self._merchant.customers:
                raise self._error("vault_customer_cards", 404, "not_found", f"No customer {customer_id}.")
            year = timezone.now().year + 3
            return [
                StoredCard(
                    vault_reference=card.reference, brand=card.brand, last4=card.last4, exp_month=12, exp_year=year
                )
                for card in sorted(self._merchant.cards.values(), key=lambda card: card.reference)
                if card.customer_id == customer_id
            ]

        return self._call("customer_cards", "vault_customer_cards", run)


class FakeOrders(_Capability):
    def get(self, *, order_id: str, currency: str | None = None) -> Order:
        return self._call("get", "order_get", lambda: self._merchant.order_answer(self._order(order_id)))

    def _order(self, order_id: str) -> FakeOrder:
        from sandbox_merchant.errors import NotFound

        order = self._merchant.order_records.get(order_id)
        if order is None:
            raise NotFound(f"No order {order_id}.")
        return order

    def _adjust(self, order_id: str, kind: str, amount: int | None) -> Order:
        from sandbox_merchant.errors import InvalidRequest, OrderConflict

        order = self._order(order_id)
        if order.status in ("refunded", "canceled"):
            raise OrderConflict(f"The order is already {order.status}.")
        remaining = order.total - sum(adjustment[2] for adjustment in order.adjustments)
        amount = remaining if amount is None else amount
        if amount > remaining:
            raise InvalidRequest(f"At most {remaining} can still be refunded.", param="$.amount")
        order.adjustments.append((self._merchant.new_id("adj"), kind, amount, timezone.now()))
        if kind == "cancellation":
            order.status = "canceled"
        else:
            order.status = "refunded" if amount == remaining else "partially_refunded"
        self._merchant.order_event(order, event_type="order_update")
        return self._merchant.order_answer(order)

    def cancel(self, *, order_id: str, operation_id: str, currency: str | None = None) -> Order:
        return self._call("cancel", "order_cancel", lambda: self._adjust(order_id, "cancellation", None), operation_id)

    def refund(
        self, *, order_id: str, operation_id: str, amount: Money | None = None, currency: str | None = None
    ) -> Order:
        return self._call(
            "refund",
            "order_refund",
            lambda: self._adjust(order_id, "refund", amount.amount if amount else None),
            operation_id,
        )


class FakeHttp:
    """The merchant's HTTP client (`Merchant.http`) for the one sandbox extension our side calls through it
    directly rather than through the contract: `GET /customers/{id}/promotions`, the customer's personal codes
    usable now, with `include=public` also the codes anyone may use
    (`ordering.agent.merchant.promotions_for_customer`), answered as the sandbox's endpoint answers it
    (`sandbox_merchant.selectors.customer_promotions`). Any other request is a 404, as a path the shop does not
    serve. No retries, breaker or rate limit: there is no wire."""

    def __init__(self, merchant: FakeMerchant) -> None:
        self._merchant = merchant

    @property
    def merchant_id(self) -> str:
        return self._merchant.id

    def request(self, method: str, path: str, *, operation: str, params: dict | None = None, **_options: Any):
        import re

        from catalog_adapters.http import MerchantResponse
        from sandbox_merchant.selectors import promotion_representation

        merchant = self._merchant
        merchant.calls.append(("http", operation))

        def not_found(message: str) -> MerchantClientError:
            return MerchantClientError(
                message, merchant_id=merchant.id, operation=operation, status=404, code="not_found", attempts=1
            )

        promotions = re.fullmatch(r"/customers/([^/]+)/promotions", path)
        if method.upper() != "GET" or promotions is None:
            raise not_found(f"The fake merchant does not serve {method} {path}.")
        customer_id = promotions.group(1)
        if customer_id not in merchant.customers:
            raise not_found(f"No customer {customer_id}.")
        include = (params or {}).get("include") or ""
        if include not in ("", "public"):
            raise MerchantClientError(
                "include must be 'public' or left out.", merchant_id=merchant.id, operation=operation, status=400,
                code="invalid_request", attempts=1,
            )  # fmt: skip
        whose = {customer_id, None} if include == "public" else {customer_id}
        now = timezone.now()
        usable = [
            promotion_representation(promotion)
            for _code, promotion in sorted(
                merchant.promotions.items(), key=lambda item: (item[1].customer_id is None, item[0])
            )
            if promotion.customer_id in whose
            and promotion.active
            and (promotion.expires_at is None or promotion.expires_at > now)
            and (promotion.starts_at is None or promotion.starts_at <= now)
        ]
        return MerchantResponse(
            status=200, data={"data": usable}, headers={}, attempts=1, request_id=merchant.new_id("req")
        )


class FakeMerchant:
    """One in-memory shop with the sandbox's demo data: the contract's four capabilities over dictionaries."""

    def __init__(self, merchant_id: str = "sandbox") -> None:
        demo = _demo()
        now = timezone.now()
        self.id = merchant_id
        self.products: dict[str, FakeProduct] = {}
        self.variants: dict[str, FakeVariant] = {}
        for slug, title, category, brand, price, colours, sizes, stock, description in demo.PRODUCTS:
            product = FakeProduct(f"prod_{slug}", title, description, category, brand, price, [])
            self.products[product.id] = product
            for colour in colours:
                for size in sizes:
                    variant_id = demo.variant_id(slug, colour, size, single_colour=len(colours) == 1)
                    sku = variant_id.removeprefix("var_").upper().replace("_", "-")
                    self.variants[variant_id] = FakeVariant(variant_id, product.id, sku, colour, size, price, stock)
                    product.variant_ids.append(variant_id)
        self.customers = {customer["id"]: customer for customer in demo.CUSTOMERS}
        self.cards = {
            reference: FakeCard(reference, customer_id, brand, last4, str(behaviour))
            for reference, customer_id, brand, last4, behaviour in demo.CARDS
        }
        self.saved_items: list[tuple[str, SavedItem]] = [
            (
                customer,
                SavedItem(
                    kind=str(kind), product_id=f"prod_{slug}", variant_id=variant, saved_at=now - timedelta(days=days)
                ),
            )
            for customer, kind, slug, variant, days in demo.SAVED_ITEMS
        ]
        self.promotions = self._promotions(demo, now)
        self.session_records: dict[str, FakeSession] = {}
        self.order_records: dict[str, FakeOrder] = {}
        self.sessions: dict[str, CheckoutSession] = {}
        self.orders_by_id: dict[str, Order] = {}
        self.tokens: dict[str, FakeToken] = {}
        self.replies: dict[tuple, Any] = {}
        self.calls: list[tuple[str, str]] = []
        self.faults: list[list] = []  # [kind, times left or None]
        self.switchboard: list[list] = []  # [kind, operation, times left or None]: add_fault / clear_faults
        self.catalog = FakeCatalog(self, "catalog")
        self.checkout = FakeCheckout(self, "checkout")
        self.vault = FakeVault(self, "vault")
        self.orders = FakeOrders(self, "orders")
        self.control = FakeControl(self)

    @staticmethod
    def _promotions(demo, now) -> dict:
        from sandbox_merchant.models import Promotion

        promotions = {}
        for spec in demo._promotions(now):  # the demo's promo codes, as unsaved rows the pricing reads
            defaults = {"percent_off": None, "amount_off": None, "customer_id": None, "minimum_spend_amount": 0}
            promotions[spec["code"]] = Promotion(**{**defaults, "currency": "usd", "active": True, **spec})
        return promotions

    def supports(self, capability: str) -> bool:
        return capability in ("catalog", "checkout", "vault", "orders")

    @staticmethod
    def new_id(prefix: str) -> str:
        """An id shaped as the sandbox's (`cs_` and 24 hex digits): nothing can rely on an order among them."""
        return f"{prefix}_{secrets.token_hex(12)}"

    def close(self) -> None:
        return None

    # As the sandbox's order webhooks, without HTTP (`order_event`): off unless a test asks for them.
    order_events = False
    # Whether a session asking for 3-D Secure says whose wish the check is (`authentication_metadata.flow_preference`,
    # optional in ACP): off, the fake is a merchant that does not say (it still refuses as the sandbox decides).
    announces_challenge = True

    @property
    def http(self) -> FakeHttp:
        return FakeHttp(self)

    def demo_reset(self, *, full: bool = False) -> dict:
        """As the sandbox's control reset (`sandbox_merchant.control.sandbox_reset`): the open sessions that hold
        stock canceled, the faults cleared, every demo variant's stock and price and exactly the demo's saved items
        put back (`full`: the whole demo data, catalog, cards and promotions included). Orders, tokens and
        finished sessions stay, as at the sandbox."""
        now = timezone.now()
        holding = [
            session.id
            for session in self.session_records.values()
            if session.status in OPEN_STATUSES
            and session.expires_at > now
            and any(line.reserved for line in session.lines)
        ]
        for session_id in holding:
            self.session_cancel(session_id)
        faults = len(self.faults) + len(self.switchboard)
        self.faults.clear()
        self.switchboard.clear()  # the sandbox's reset drops its switchboard's fault rules too
        seeded = FakeMerchant(self.id)  # the demo data as a fresh shop has it
        if full:
            self.products, self.customers, self.cards = seeded.products, seeded.customers, seeded.cards
            self.variants, self.promotions = seeded.variants, seeded.promotions
        else:
            for variant_id, variant in seeded.variants.items():
                self.variants[variant_id].stock = variant.stock
                self.variants[variant_id].price = variant.price
        self.saved_items = seeded.saved_items
        return {"canceled_sessions": len(holding), "faults_cleared": faults, "full": full}

    # -- staging and reading --------------------------------------------------------------------------

    @property
    def stock(self) -> dict[str, int]:
        return {variant.id: variant.stock for variant in self.variants.values()}

    def set_stock(self, variant_id: str, units: int) -> None:
        self.variants[variant_id].stock = units

    def set_price(self, variant_id: str, amount: int) -> None:
        self.variants[variant_id].price = amount

    def add_card(self, reference: str, *, customer_id: str, brand: str, last4: str, behaviour: str = "approve") -> None:
        """A card the customer just saved in the shop's vault (approve, decline or requires_3ds)."""
        self.cards[reference] = FakeCard(reference, customer_id, brand, last4, behaviour)

    def fault(self, kind: str, *, times: int | None = None) -> None:
        if kind not in ("price_change", "decline", "requires_3ds"):
            raise ValueError(
                f"the fake merchant offers the faults price_change, decline and requires_3ds, not {kind!r}"
            )
        self.faults.append([kind, times])

    # -- the sandbox's HTTP fault switchboard, the part tests of our undo need (add_fault, clear_faults) ----

    # The switchboard's operation names the fake answers for, as the contract calls they stand for (the sandbox's
    # "cancel" is the checkout session's cancel, an order's cancel being its "order" operation; "search" is every
    # catalog read of products: the search and one product).
    SWITCHBOARD_OPERATIONS = {
        "cancel": {("checkout", "cancel")},
        "search": {("catalog", "search_products"), ("catalog", "get_product")},
    }

    def add_fault(self, kind: str, operation: str = "any", *, times: int | None = None) -> None:
        """As `SandboxMerchant.add_fault`, for the rules the fake offers: "requires_3ds" on "complete" (as
        `fault("requires_3ds")`), and "server_error" on "cancel" (the checkout
        session's cancel) or on "search" (the catalog's product search and product reads): such a call answers 500
        until `times` calls failed or `clear_faults()`. The call raises
        `MerchantServerError` (status 500, code internal_error, the sandbox's message) as our ACP adapter does
        once its retries are spent; the fake has no retries, so `times` counts calls (the sandbox counts HTTP
        requests: up to MAX_ATTEMPTS a call) and the error says attempts=1. A failed call stores nothing: the
        same operation_id after `clear_faults()` runs, as the sandbox answers a 500 before it stores a key."""
        if kind == "requires_3ds" and operation in ("complete", "any"):
            # The sandbox's rule for the merchant's own 3-D Secure preference: the fake's `fault` is the same thing.
            self.fault("requires_3ds", times=times)
            return
        if kind != "server_error" or operation not in self.SWITCHBOARD_OPERATIONS:
            raise ValueError(
                f"the fake merchant's switchboard offers server_error on {sorted(self.SWITCHBOARD_OPERATIONS)}, "
                f"not {kind!r} on {operation!r}: a test about other HTTP faults uses the sandbox over HTTP"
            )
        self.switchboard.append([kind, operation, times])

    def clear_faults(self) -> None:
        """As `SandboxMerchant.clear_faults`: every switchboard rule off (`fault(...)` rules stay)."""
        self.switchboard.clear()

    def switchboard_server_error(self, capability: str, method: str, operation: str) -> MerchantServerError | None:
        """The error a switchboard rule makes this call raise (and the rule spent by one), or None."""
        for rule in self.switchboard:
            _kind, name, times = rule
            if (capability, method) in self.SWITCHBOARD_OPERATIONS[name] and times != 0:
                if times is not None:
                    rule[2] = times - 1
                return MerchantServerError(
                    "Injected fault: server_error.",
                    merchant_id=self.id,
                    operation=operation,
                    status=500,
                    code="internal_error",
                    attempts=1,
                )
        return None

    def requests(self, capability: str, method: str) -> int:
        return self.calls.count((capability, method))

    def held(self, variant_id: str, *, exclude: str | None = None) -> int:
        now = timezone.now()
        return sum(
            line.reserved
            for session in self.session_records.values()
            if session.id != exclude and session.status in OPEN_STATUSES and session.expires_at > now
            for line in session.lines
            if line.variant_id == variant_id
        )

    def session_held(self, session_id: str) -> int:
        """Units this checkout session holds now (open, not lapsed), as the sandbox's `live_reservations`."""
        session = self.session_records.get(session_id)
        if session is None or session.status not in OPEN_STATUSES or session.expires_at <= timezone.now():
            return 0
        return sum(line.reserved for line in session.lines)

    def available(self, variant_id: str) -> int:
        return max(self.variants[variant_id].stock - self.held(variant_id), 0)

    def product(self, product_id: str) -> Product:
        record = self.products[product_id]
        return product_from_wire(
            {
                "id": record.id,
                "title": record.title,
                "description": record.description,
                "category": record.category,
                "brand": record.brand,
                "image_url": f"/sandbox-merchant/images/{record.id.removeprefix('prod_')}.svg",
                "price": {"amount": record.price, "currency": "usd"},
                "variants": [
                    {
                        "id": variant.id,
                        "sku": variant.sku,
                        "colour": variant.colour,
                        "size": variant.size,
                        "price": {"amount": variant.price, "currency": "usd"},
                        "available": self.available(variant.id),
                    }
                    for variant in (self.variants[v] for v in record.variant_ids)
                ],
            }
        )

    def _fault_draw(self, kind: str) -> bool:
        for fault in self.faults:
            if fault[0] == kind and fault[1] != 0:
                if fault[1] is not None:
                    fault[1] -= 1
                return True
        return False

    # -- sessions, as sandbox_merchant/services.py on dictionaries ---------------------------------------

    def session_state(self, session_id: str) -> FakeSession:
        from sandbox_merchant.errors import NotFound

        session = self.session_records.get(session_id)
        if session is None:
            raise NotFound(f"No checkout session {session_id}.")
        if session.status in OPEN_STATUSES and session.expires_at <= timezone.now():
            session.status = "expired"
            for line in session.lines:
                line.reserved = 0
        return session

    def session_create(self, request) -> CheckoutSession:
        now = timezone.now()
        session = FakeSession(
            id=self.new_id("cs"),
            status="not_ready_for_payment",
            currency="usd",
            expires_at=now + timedelta(seconds=settings.SANDBOX_MERCHANT_SESSION_TTL_SECONDS),
        )
        self._apply(session, request)
        self._reprice_and_reserve(session, request, now=now, creating=True)
        self.session_records[session.id] = session
        return self.session_answer(session.id)

    def session_update(self, session_id: str, request) -> CheckoutSession:
        from sandbox_merchant.errors import SessionNotOpen

        session = self.session_state(session_id)
        if session.status not in OPEN_STATUSES:
            raise SessionNotOpen(f"The checkout session is {session.status}.")
        self._apply(session, request)
        self._reprice_and_reserve(session, request, now=timezone.now(), creating=False)
        return self.session_answer(session_id)

    def session_cancel(self, session_id: str) -> CheckoutSession:
        from sandbox_merchant.errors import SessionNotOpen

        session = self.session_state(session_id)
        if session.status != "expired":
            if session.status not in OPEN_STATUSES:
                raise SessionNotOpen(f"The checkout session is {session.status}; it cannot be canceled.")
            session.status = "canceled"
            for line in session.lines:
                line.reserved = 0
        return self.session_answer(session_id)

    def _apply(self, session: FakeSession, request) -> None:
        from sandbox_merchant.rules import request_changes

        changes = request_changes(request=request)
        for name, value in changes.items():
            # The fake's session names two of the sandbox's fields more shortly.
            setattr(
                session, {"selected_fulfillment_options": "selected", "discount_codes": "codes"}.get(name, name), value
            )
        if "buyer" in changes:
            email = (request.buyer or {}).get("email")
            session.customer_id = next((c["id"] for c in self.customers.values() if c["email"] == email), None)

    def _reprice_and_reserve(self, session: FakeSession, request, *, now: datetime, creating: bool) -> None:
        from sandbox_merchant import rules
        from sandbox_merchant.errors import InvalidRequest
        from sandbox_merchant.wire import MISSING

        existing = {line.variant_id: line for line in session.lines}
        wanted = rules.requested_lines(request=request, quantities={v: line.quantity for v, line in existing.items()})
        for index, (variant_id, _quantity) in enumerate(wanted):
            if variant_id not in self.variants:
                raise InvalidRequest(f"No variant {variant_id}.", param=f"$.line_items[{index}].id", code="not_found")
        lines = []
        for variant_id, quantity in wanted:
            line = existing.get(variant_id) or FakeLine(variant_id=variant_id, quantity=quantity, unit_amount=0)
            line.quantity = quantity
            line.unit_amount = self.variants[variant_id].price
            lines.append(line)
        session.lines = lines
        session.expires_at = now + timedelta(seconds=settings.SANDBOX_MERCHANT_SESSION_TTL_SECONDS)
        stock_messages = []
        held = {variant_id: self.held(variant_id, exclude=session.id) for variant_id, _ in wanted}
        for index, line in enumerate(lines):
            available = self.variants[line.variant_id].stock - held[line.variant_id]
            if available >= line.quantity:
                line.reserved = line.quantity
                held[line.variant_id] += line.quantity
            else:
                line.reserved = 0
                stock_messages.append(
                    rules.out_of_stock_message(index=index, available=available, variant_id=line.variant_id)
                )
        choose_default = request.selected_fulfillment_options is MISSING and not session.selected
        if choose_default and rules.address_complete(fulfillment_details=session.fulfillment_details):
            # As the sandbox: a complete address and no option chosen yet selects the first (standard).
            session.selected = rules.default_fulfillment_selection(variant_ids=[line.variant_id for line in lines])
        quote = self._quote(session, now=now)
        self._store_quote(session, quote)
        details, selected = session.fulfillment_details, session.selected
        asked = selected if request.selected_fulfillment_options is MISSING else request.selected_fulfillment_options
        session.messages = (
            stock_messages + rules.fulfillment_messages(fulfillment_details=details, selected=asked) + quote.messages
        )
        ready = rules.ready_for_payment(fulfillment_details=details, selected=selected, messages=session.messages)
        session.status = "ready_for_payment" if ready else "not_ready_for_payment"

    def _quote(self, session: FakeSession, *, now: datetime):
        from sandbox_merchant.pricing import PricedInput, quote_lines
        from sandbox_merchant.rules import line_id

        priced = []
        for line in session.lines:
            variant = self.variants[line.variant_id]
            product = self.products[variant.product_id]
            priced.append(
                PricedInput(
                    line_id=line_id(variant_id=variant.id),
                    variant_id=variant.id,
                    product_id=product.id,
                    title=product.title,
                    category=product.category,
                    colour=variant.colour,
                    size=variant.size,
                    quantity=line.quantity,
                    unit_amount=line.unit_amount,
                )
            )
        codes = session.codes or []
        wanted = {code.strip().upper() for code in codes}
        return quote_lines(
            lines=priced,
            currency=session.currency,
            customer_id=session.customer_id,
            codes=codes,
            promotions={code: promotion for code, promotion in self.promotions.items() if code in wanted},
            address=(session.fulfillment_details or {}).get("address"),
            selected_option_id=session.selected[0]["option_id"] if session.selected else None,
            now=now,
        )

    def _store_quote(self, session: FakeSession, quote) -> None:
        """As the sandbox's: the priced state, its selected option's item_ids naming the very lines priced."""
        from sandbox_merchant.rules import fulfillment_selection_covering, stored_quote

        session.quote = stored_quote(quote)
        session.quoted_total = quote.total
        session.selected = fulfillment_selection_covering(
            selected=session.selected, line_ids=[line.source.line_id for line in quote.lines]
        )

    def _answer(self, session: FakeSession, status: str, extra: list[dict]) -> CheckoutSession:
        session.messages = [m for m in session.messages if m["code"] not in PAYMENT_MESSAGE_CODES] + extra
        session.status = status
        return self.session_answer(session.id)

    def session_complete(self, session_id: str, *, token_id: str, outcome: str | None) -> CheckoutSession:
        from sandbox_merchant.errors import SessionNotOpen
        from sandbox_merchant.pricing import empty_cart_message, message
        from sandbox_merchant.rules import (
            authentication_refusal,
            authentication_requested_message,
            card_brand_refused_message,
            card_declined_message,
            missing_for_payment,
            price_change_message,
            token_refusal,
            token_refused_message,
        )

        now = timezone.now()
        session = self.session_state(session_id)
        if session.status not in OPEN_STATUSES:
            raise SessionNotOpen(f"The checkout session is {session.status}; it cannot be completed.")
        if session.status == "not_ready_for_payment":
            if not any(item["type"] == "error" for item in session.messages):
                missing = missing_for_payment(
                    fulfillment_details=session.fulfillment_details, selected=session.selected
                )
                return self._answer(session, "not_ready_for_payment", missing)
            return self.session_answer(session_id)
        if not session.lines:
            # As the sandbox: never payable, even a session left ready without lines, before anything is charged.
            return self._answer(session, "not_ready_for_payment", [empty_cart_message()])
        if self._fault_draw("price_change"):
            for line in session.lines:
                variant = self.variants[line.variant_id]
                variant.price = (variant.price * 105 + 50) // 100
        for line in session.lines:
            line.unit_amount = self.variants[line.variant_id].price
        quote = self._quote(session, now=now)
        if quote.total != session.quoted_total:
            self._store_quote(session, quote)
            changed = price_change_message()
            return self._answer(session, "ready_for_payment", [changed])
        token = self.tokens.get(token_id)
        refusal = token_refusal(
            token=None if token is None else self._token_facts(token),
            session_id=session.id,
            customer_id=session.customer_id,
            currency=session.currency,
            total=quote.total,
            now=now,
        )
        if refusal:
            refused = token_refused_message(refusal=refusal)
            return self._answer(session, "ready_for_payment", [refused])
        card = self.cards[token.vault_reference]
        session.token_card = card.brand
        brand_refused = card_brand_refused_message(brand=card.brand, last4=card.last4)
        if brand_refused is not None:
            return self._answer(session, "ready_for_payment", [brand_refused])
        if self._fault_draw("decline") or card.behaviour == "decline":
            declined = card_declined_message(brand=card.brand, last4=card.last4)
            return self._answer(session, "ready_for_payment", [declined])
        mandated_by_card = card.behaviour == "requires_3ds"
        if self._fault_draw("requires_3ds") or mandated_by_card or session.status == "authentication_required":
            if outcome is None:
                if mandated_by_card or session.status != "authentication_required":
                    session.authentication_challenge = "mandated" if mandated_by_card else "preferred"
                challenge = authentication_requested_message()
                return self._answer(session, "authentication_required", [challenge])
            mandated = mandated_by_card or session.authentication_challenge != "preferred"
            # The fake has no issuer: no `authenticated` result of its own to match (the sandbox's issuer page does).
            refusal = authentication_refusal(outcome=outcome, mandated=mandated, issuer_matched=False)
            if refusal:
                failed = message(
                    type="error", code="payment_declined", param="$.authentication_result", content=refusal
                )
                if session.status != "authentication_required":
                    session.authentication_challenge = "mandated" if mandated else "preferred"
                return self._answer(session, "authentication_required", [failed])
        token.used = True
        for line in session.lines:
            self.variants[line.variant_id].stock -= line.quantity
            line.reserved = 0
        order = FakeOrder(
            id=self.new_id("ord"),
            session_id=session.id,
            currency=session.currency,
            total=quote.total,
            line_items=session.quote["line_items"],
            totals=session.quote["totals"],
            customer_id=session.customer_id,
            vault_reference=token.vault_reference,
        )
        self.order_records[order.id] = order
        session.order_id = order.id
        if session.customer_id:
            for line in {self.variants[line.variant_id].product_id: line for line in session.lines}.values():
                product_id = self.variants[line.variant_id].product_id
                self.saved_items = [
                    (c, i)
                    for c, i in self.saved_items
                    if not (c == session.customer_id and i.kind == "purchased" and i.product_id == product_id)
                ]
                self.saved_items.append(
                    (
                        session.customer_id,
                        SavedItem(kind="purchased", product_id=product_id, variant_id=line.variant_id, saved_at=now),
                    )
                )
        self.order_answer(order)
        answer = self._answer(session, "completed", [])
        self.order_event(order, event_type="order_create")
        return answer

    def _token_facts(self, token: FakeToken):
        from sandbox_merchant.rules import TokenFacts

        allowance = token.allowance
        return TokenFacts(
            revoked=token.revoked,
            used=token.used,
            expires_at=allowance.expires_at,
            checkout_session_id=allowance.checkout_session_id,
            card_customer_id=self.cards[token.vault_reference].customer_id,
            merchant_id=allowance.merchant_id,
            currency=allowance.max_amount.currency,
            max_amount=allowance.max_amount.amount,
        )

    # -- answers, as the sandbox's representations read by our adapter's parsers -------------------------

    def session_answer(self, session_id: str) -> CheckoutSession:
        from sandbox_merchant.acp import PROTOCOL_VERSION, session_capabilities
        from sandbox_merchant.rules import authentication_metadata, order_reference, order_status, session_contents

        session = self.session_state(session_id)
        quote = session.quote
        body: dict[str, Any] = {
            "id": session.id,
            "protocol": {"version": PROTOCOL_VERSION},
            "capabilities": session_capabilities(
                agent=session.capabilities or agent_capabilities(), public_base_url=BASE_URL
            ),
            "status": session.status,
            "currency": session.currency,
        }
        body.update(
            session_contents(
                buyer=session.buyer,
                line_items=quote.get("line_items", []),
                fulfillment_details=session.fulfillment_details,
                quote=quote,
                selected=session.selected,
                codes=session.codes,
                messages=session.messages,
            )
        )
        body["expires_at"] = session.expires_at.isoformat()
        body["continue_url"] = f"{BASE_URL}/checkout/{session.id}"
        if session.status == "authentication_required":
            body["authentication_metadata"] = authentication_metadata(
                brand=session.token_card or "visa", challenge=session.authentication_challenge
            )
            if not self.announces_challenge:
                del body["authentication_metadata"]["flow_preference"]
        if session.order_id:
            order = self.order_records[session.order_id]
            body["order"] = order_reference(
                order_id=order.id,
                session_id=session.id,
                permalink_url=f"{BASE_URL}/orders/{order.id}",
                status=order_status(order.status),
            )
        answer = session_from_wire(body)
        self.sessions[session.id] = answer
        return answer

    def order_answer(self, order: FakeOrder) -> Order:
        answer = order_from_wire(self.order_wire(order), currency=order.currency)
        self.orders_by_id[order.id] = answer
        return answer

    def order_wire(self, order: FakeOrder) -> dict:
        """The order as the sandbox represents it (`sandbox_merchant.selectors.order_representation`)."""
        from sandbox_merchant.rules import order_line, order_status

        canceled = order.status == "canceled"
        refunded = sum(adjustment[2] for adjustment in order.adjustments)
        totals = list(order.totals)
        if refunded:
            totals.append({"type": "amount_refunded", "display_text": "Refunded", "amount": refunded})
        body = {
            "type": "order",
            "id": order.id,
            "checkout_session_id": order.session_id,
            "order_number": order.id.removeprefix("ord_")[:12].upper(),
            "permalink_url": f"{BASE_URL}/orders/{order.id}",
            "status": order_status(order.status),
            "line_items": [order_line(line, canceled=canceled) for line in order.line_items],
            "adjustments": [
                {
                    "id": adjustment_id,
                    "type": kind,
                    "occurred_at": created.isoformat(),
                    "status": "completed",
                    "amount": amount,
                    "currency": order.currency,
                }
                for adjustment_id, kind, amount, created in order.adjustments
            ],
            "totals": totals,
        }
        return body

    def order_event(self, order: FakeOrder, *, event_type: str) -> None:
        """With `order_events`, what the sandbox's order webhook does, without HTTP: the official WebhookEvent
        `{type, data: Order}`, signed with the sandbox's webhook secret, handed to our receiver's service
        (`catalog_adapters.services.webhook_event_receive`, which the webhook view calls) as soon as the change is
        made, as the sandbox delivers it once its change commits (eagerly, during the call that made it)."""
        if not self.order_events:
            return
        import json
        import time

        from catalog_adapters.services import webhook_event_receive
        from sandbox_merchant.services import webhook_signature

        raw_body = json.dumps({"type": event_type, "data": self.order_wire(order)}, separators=(",", ":")).encode()
        timestamp = int(time.time())
        signature = webhook_signature(
            secret=settings.SANDBOX_MERCHANT_WEBHOOK_SECRET, timestamp=timestamp, raw_body=raw_body
        )
        webhook_event_receive(
            merchant_id=self.id,
            raw_body=raw_body,
            signature_header=f"t={timestamp},v1={signature}",
            request_id=self.new_id("evt"),
        )


class FakeControl:
    """The sandbox's control API (ordering/evaluation/sandbox_control.py, a `ShopControl`) over the fake's state:
    the demo shop put back (`reset`), stock set, the orders it took and the tokens delegated to it, as
    `SandboxControl` does them."""

    def __init__(self, merchant: FakeMerchant) -> None:
        self._merchant = merchant

    def reset(self, *, full: bool = False) -> dict:
        return self._merchant.demo_reset(full=full)

    def set_stock(self, stock: dict[str, int]) -> None:
        """Units on hand per variant id; an unknown one raises as the sandbox's answer does, and nothing changes."""
        from ordering.evaluation.sandbox_control import SandboxControlError

        unknown = sorted(set(stock) - set(self._merchant.variants))
        if unknown:
            raise SandboxControlError(f"POST sandbox/stock answered 404: The shop has no variant {unknown[0]!r}.")
        for variant_id, units in stock.items():
            self._merchant.set_stock(variant_id, int(units))

    def orders(self, *, customer: str = ""):
        from ordering.evaluation.sandbox_control import SandboxOrder

        taken = [
            SandboxOrder(
                id=order.id,
                checkout_session_id=order.session_id,
                customer=order.customer_id,
                status=order.status,
                currency=order.currency,
                total=order.total,
                card_brand=self._merchant.cards[order.vault_reference].brand,
                card_last4=self._merchant.cards[order.vault_reference].last4,
                vault_reference=order.vault_reference,
            )
            for order in self._merchant.order_records.values()
            if not customer or order.customer_id == customer
        ]
        return taken[::-1]  # newest first

    def tokens(self, *, checkout_session_id: str = ""):
        from ordering.evaluation.sandbox_control import SandboxToken

        return [
            SandboxToken(
                id=token.id,
                checkout_session_id=token.allowance.checkout_session_id,
                vault_reference=token.vault_reference,
                max_amount=token.allowance.max_amount.amount,
                currency=token.allowance.max_amount.currency,
                used=token.used,
                revoked=token.revoked,
            )
            for token in self._merchant.tokens.values()
            if not checkout_session_id or token.allowance.checkout_session_id == checkout_session_id
        ]

    def order(self, order_id: str):
        return next((order for order in self.orders() if order.id == order_id), None)


@pytest.fixture
def fake_merchant() -> Iterator[FakeMerchant]:
    """An in-memory merchant answering as "sandbox" through the registry, for this test only (no HTTP, no
    live server, no database of its own: pair it with `db`). See this module's docstring for what it does."""
    from catalog_adapters.registry import register_merchant_for_tests

    merchant = FakeMerchant()
    register_merchant_for_tests(merchant.id, merchant)
    try:
        yield merchant
    finally:
        register_merchant_for_tests(merchant.id, None)
