"""The merchant contract: what the rest of the app may ask of a merchant, by capability.

Code outside catalog_adapters talks to merchants only through these protocols and data classes
(obtained with `catalog_adapters.registry.get_merchant(merchant_id)`), never through HTTP or wire
JSON, so a merchant speaking another wire format is one more adapter, not a change to callers.

Money is always `Money(amount, currency)`: integer minor units and a lower-case ISO 4217 code.
Every call that changes something at the merchant takes an `operation_id`: the caller's stable id
for that logical call (a flow step id, for instance). The Idempotency-Key sent on the wire is
derived from it, so calling again with the same `operation_id` (after a crash, a timeout, a task
redelivery) can never do the thing twice. A different logical call must use a different one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable

SavedItemKind = Literal["liked", "viewed", "purchased"]
SAVED_ITEM_KINDS: tuple[str, ...] = ("liked", "viewed", "purchased")


@dataclass(frozen=True)
class Money:
    amount: int
    currency: str

    def __post_init__(self) -> None:
        # Floats and bools sneak in from JSON and arithmetic; minor units are integers, always.
        if not isinstance(self.amount, int) or isinstance(self.amount, bool):
            raise TypeError(f"Money.amount must be an int of minor units, not {self.amount!r}")
        if not (isinstance(self.currency, str) and len(self.currency) == 3):
            raise ValueError(f"Money.currency must be an ISO 4217 code, not {self.currency!r}")
        object.__setattr__(self, "currency", self.currency.lower())


# -- catalog -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProductVariant:
    id: str
    sku: str
    colour: str | None
    size: str | None
    price: Money
    available: int


@dataclass(frozen=True)
class Product:
    id: str
    title: str
    description: str
    category: str
    brand: str
    image_url: str | None
    price: Money
    variants: tuple[ProductVariant, ...] = ()


@dataclass(frozen=True)
class SavedItem:
    kind: str
    product_id: str
    variant_id: str | None
    saved_at: datetime


@runtime_checkable
class Catalog(Protocol):
    def search_products(
        self,
        *,
        query: str = "",
        category: str | None = None,
        colour: str | None = None,
        size: str | None = None,
        limit: int = 20,
    ) -> list[Product]: ...

    def get_product(self, *, product_id: str) -> Product: ...

    def list_saved_items(
        self, *, customer_id: str, kind: SavedItemKind, since: datetime | None = None
    ) -> list[SavedItem]: ...


# -- checkout (ACP) ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Address:
    name: str
    line_one: str
    city: str
    country: str
    postal_code: str
    line_two: str = ""
    state: str = ""


@dataclass(frozen=True)
class Buyer:
    email: str
    first_name: str = ""
    last_name: str = ""
    phone_number: str = ""


@dataclass(frozen=True)
class FulfillmentDetails:
    name: str
    address: Address
    email: str = ""
    phone_number: str = ""


@dataclass(frozen=True)
class LineItemRequest:
    id: str  # the merchant's item id; for the sandbox, a variant id
    quantity: int


@dataclass(frozen=True)
class SelectedFulfillmentOption:
    option_id: str
    item_ids: tuple[str, ...] = ()
    type: str = "shipping"


@dataclass(frozen=True)
class CheckoutRequest:
    """The body of create and update. On update, fields left as None are not sent (kept as they are)."""

    line_items: tuple[LineItemRequest, ...] | None = None
    currency: str | None = None
    buyer: Buyer | None = None
    fulfillment_details: FulfillmentDetails | None = None
    selected_fulfillment_options: tuple[SelectedFulfillmentOption, ...] | None = None
    discount_codes: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Total:
    type: str
    display_text: str
    amount: Money


@dataclass(frozen=True)
class CheckoutLineItem:
    id: str
    item_id: str
    quantity: int
    title: str
    colour: str | None
    size: str | None
    base_amount: Money
    discount: Money
    subtotal: Money
    tax: Money
    total: Money


@dataclass(frozen=True)
class FulfillmentOption:
    id: str
    type: str
    title: str
    carrier: str
    earliest_delivery_time: datetime | None
    latest_delivery_time: datetime | None
    totals: tuple[Total, ...] = ()


@dataclass(frozen=True)
class Message:
    """A business problem or note from the merchant (inside a 2xx); `type` is error, warning or info."""

    type: str
    code: str
    content: str
    param: str | None = None


@dataclass(frozen=True)
class AppliedDiscount:
    code: str
    amount: Money
    description: str


@dataclass(frozen=True)
class OrderRef:
    id: str
    checkout_session_id: str
    permalink_url: str
    status: str


@dataclass(frozen=True)
class CheckoutSession:
    """The merchant's full, authoritative state of a session, as every ACP response carries it."""

    id: str
    status: str
    currency: str
    line_items: tuple[CheckoutLineItem, ...]
    totals: tuple[Total, ...]
    messages: tuple[Message, ...]
    fulfillment_options: tuple[FulfillmentOption, ...] = ()
    selected_fulfillment_options: tuple[SelectedFulfillmentOption, ...] = ()
    discount_codes: tuple[str, ...] = ()
    applied_discounts: tuple[AppliedDiscount, ...] = ()
    buyer: Buyer | None = None
    fulfillment_details: FulfillmentDetails | None = None
    expires_at: datetime | None = None
    continue_url: str | None = None
    order: OrderRef | None = None
    # The wire JSON as received, for hashing a preview or for debugging; never for business logic.
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def total(self, type_: str = "total") -> Money | None:
        for entry in self.totals:
            if entry.type == type_:
                return entry.amount
        return None

    @property
    def errors(self) -> tuple[Message, ...]:
        return tuple(message for message in self.messages if message.type == "error")

    def has_message(self, code: str) -> bool:
        return any(message.code == code for message in self.messages)


@dataclass(frozen=True)
class PaymentData:
    """What pays at complete: a delegated one-time token (never card data)."""

    token: str
    billing_address: Address | None = None


@dataclass(frozen=True)
class AuthenticationSession:
    """An ACP delegate-authentication (3-D Secure) session, as the merchant's provider reports it.

    `challenge_url` is where the shopper answers the issuer (action.challenge.acs_url) while the status
    is `action_required`; `result` is the provider's authentication_result once answered (trans_status,
    electronic_commerce_indicator, three_ds_cryptogram, transaction_id, version): no card data.
    """

    id: str
    status: str
    checkout_session_id: str | None = None
    challenge_url: str | None = None
    result: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class Checkout(Protocol):
    def create(self, *, request: CheckoutRequest, operation_id: str) -> CheckoutSession: ...

    def update(self, *, session_id: str, request: CheckoutRequest, operation_id: str) -> CheckoutSession: ...

    def get(self, *, session_id: str) -> CheckoutSession: ...

    def complete(
        self,
        *,
        session_id: str,
        payment: PaymentData,
        operation_id: str,
        authentication_result: Mapping[str, Any] | None = None,
    ) -> CheckoutSession: ...

    def cancel(self, *, session_id: str, operation_id: str) -> CheckoutSession: ...

    def authentication_create(
        self, *, session_id: str, notification_url: str, operation_id: str
    ) -> AuthenticationSession: ...

    def authentication_get(self, *, authentication_session_id: str) -> AuthenticationSession: ...


# -- payment vault -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Allowance:
    """What a delegated token may pay: at most `max_amount`, once, for this session and merchant."""

    max_amount: Money
    checkout_session_id: str
    merchant_id: str
    expires_at: datetime
    reason: str = "one_time"


@dataclass(frozen=True)
class PaymentToken:
    id: str
    created: datetime | None
    expires_at: datetime | None
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TokenRevocation:
    id: str
    revoked: bool
    reason: str | None = None


@dataclass(frozen=True)
class StoredCard:
    """A card the merchant's vault keeps for one customer, as the merchant describes it (no card number)."""

    vault_reference: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


@runtime_checkable
class PaymentVault(Protocol):
    def delegate(
        self,
        *,
        vault_reference: str,
        allowance: Allowance,
        operation_id: str,
        billing_address: Address | None = None,
        risk_signals: Sequence[Mapping[str, Any]] = (),
        metadata: Mapping[str, str] | None = None,
    ) -> PaymentToken: ...

    def revoke(self, *, token_id: str, operation_id: str) -> TokenRevocation: ...

    def customer_cards(self, *, customer_id: str) -> list[StoredCard]:
        """The cards the merchant's vault keeps for its customer `customer_id` (who owns which reference)."""
        ...


# -- orders --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderAdjustment:
    """A post-order change (ACP Adjustment): type refund, cancellation, credit, dispute... (open list)."""

    type: str
    amount: Money
    created: datetime | None  # the wire's occurred_at
    id: str = ""  # the merchant's adjustment id: what makes applying it once possible
    status: str = ""  # completed, pending, failed (open list); only a completed one moved money
    reason: str = ""


@dataclass(frozen=True)
class Order:
    id: str
    checkout_session_id: str
    status: str  # created, confirmed, processing, shipped, completed, canceled... (open list)
    currency: str
    totals: tuple[Total, ...]
    adjustments: tuple[OrderAdjustment, ...]
    permalink_url: str
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    order_number: str = ""

    def total(self, type_: str = "total") -> Money | None:
        for entry in self.totals:
            if entry.type == type_:
                return entry.amount
        return None


@runtime_checkable
class Orders(Protocol):
    def get(self, *, order_id: str) -> Order: ...

    def cancel(self, *, order_id: str, operation_id: str) -> Order: ...

    def refund(self, *, order_id: str, operation_id: str, amount: Money | None = None) -> Order: ...
