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
from datetime import UTC, datetime
from typing import Any, Literal, Protocol, runtime_checkable

# Payment handlers this client can pay with (ACP capabilities.payment.handlers[].name): a delegated
# one-time token sent as an `spt` card credential.
SUPPORTED_PAYMENT_HANDLERS: tuple[str, ...] = ("dev.acp.tokenized.card",)

# A `dev.acp.tokenized.card` handler names the card brands it takes in its config's `accepted_brands`, from an
# enum of lower-case names (rfc.payment_handlers §10.4.1: visa, mastercard, amex, discover, diners, jcb, unionpay).
# Other spellings of those brands that vaults and wallets write ("American Express", "MasterCard", "Diners Club"):
_CARD_BRAND_ALIASES = {
    "americanexpress": "amex",
    "mc": "mastercard",
    "dinersclub": "diners",
    "chinaunionpay": "unionpay",
    "cup": "unionpay",
}

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


def card_brand_normalize(brand: str) -> str:
    """A card brand in the spelling of rfc.payment_handlers' `accepted_brands` enum ("American Express" -> "amex",
    "MasterCard" -> "mastercard"); a brand the enum does not name comes back lower-cased, its separators dropped."""
    squeezed = "".join(character for character in brand.lower() if character.isalnum())
    return _CARD_BRAND_ALIASES.get(squeezed, squeezed)


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
    saved_at: datetime | None  # None when the merchant's timestamp is missing or unreadable


@dataclass(frozen=True)
class SavedProduct:
    """A saved item with its product (variants, stock) as the merchant answers it now."""

    item: SavedItem
    product: Product


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

    def list_saved_products(
        self,
        *,
        customer_id: str,
        kind: SavedItemKind,
        since: datetime | None = None,
        product_ids: Sequence[str] | None = None,
        limit: int = 10,
        known_products: Mapping[str, Product] | None = None,
    ) -> list[SavedProduct]:
        """Saved items, newest first (only `product_ids` when given, at most `limit`), each with its product.

        One request where the merchant offers it; else the saved items and then each product not in
        `known_products` (products the caller already fetched, which are used as they are)."""
        ...


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
    """One line of the cart. On the wire (ACP `Item` has no quantity) it is the Item repeated `quantity` times."""

    id: str  # the merchant's item id; for the sandbox, a variant id
    quantity: int


@dataclass(frozen=True)
class SelectedFulfillmentOption:
    """A fulfillment choice. `option_id` is one of the merchant's own `fulfillment_options` ids, or one of the
    assistant's words for a shipping choice (`SHIPPING_WORDS`), which the client maps onto the options the merchant
    offers (`fulfillment_option_choose`) before anything is sent. No `item_ids`: the whole order."""

    option_id: str
    item_ids: tuple[str, ...] = ()
    type: str = "shipping"


# The assistant's words for a shipping choice, as the agent's state keeps them. They are the sandbox's own option
# ids too, so with the sandbox they are sent as they are; another merchant has its own ids and they are mapped.
SHIPPING_STANDARD = "ship_standard"
SHIPPING_EXPRESS = "ship_express"
SHIPPING_WORDS = {"standard": SHIPPING_STANDARD, "express": SHIPPING_EXPRESS, "default": SHIPPING_STANDARD}
# A shipping option said to be fast by its title, when the merchant gives no delivery window to compare.
_FAST_TITLE_WORDS = (
    "express",
    "overnight",
    "next day",
    "next-day",
    "priority",
    "expedited",
    "rush",
    "same day",
    "1-day",
)


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
    description: str = ""


@dataclass(frozen=True)
class CheckoutLineItem:
    """An ACP LineItem: `base_amount` ... `total` are the line's totals (items_base_amount, discount, ...)."""

    id: str
    item_id: str
    quantity: int
    title: str  # the wire's `name`
    colour: str | None
    size: str | None
    base_amount: Money
    discount: Money
    subtotal: Money
    tax: Money
    total: Money
    unit_amount: Money | None = None
    description: str = ""
    images: tuple[str, ...] = ()
    product_id: str = ""
    variant_id: str = ""
    sku: str = ""
    # (display_name, value) pairs: custom_attributes, then variant_options.
    attributes: tuple[tuple[str, str], ...] = ()
    totals: tuple[Total, ...] = ()


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
    # recoverable, requires_buyer_input or requires_buyer_review (empty when the merchant sent none).
    resolution: str = ""
    severity: str = ""
    content_type: str = "plain"


@dataclass(frozen=True)
class Coupon:
    id: str
    name: str
    percent_off: float | None = None
    amount_off: int | None = None
    currency: str | None = None
    duration: str = ""


@dataclass(frozen=True)
class DiscountAllocation:
    path: str  # JSONPath of what got the money, e.g. $.line_items[0]
    amount: int


@dataclass(frozen=True)
class AppliedDiscount:
    """A discount the merchant applied (ACP discount extension): code-based or automatic."""

    code: str
    amount: Money
    description: str  # the coupon's name
    id: str = ""
    coupon: Coupon | None = None
    automatic: bool = False
    method: str = ""
    priority: int | None = None
    allocations: tuple[DiscountAllocation, ...] = ()


@dataclass(frozen=True)
class RejectedDiscount:
    code: str
    reason: str  # the spec's DiscountErrorCode, e.g. discount_code_expired
    message: str = ""


@dataclass(frozen=True)
class PaymentHandler:
    """A payment handler the merchant offers (capabilities.payment.handlers[])."""

    id: str
    name: str  # reverse-DNS, e.g. dev.acp.tokenized.card
    version: str = ""
    display_name: str = ""
    psp: str = ""
    requires_delegate_payment: bool = False
    requires_pci_compliance: bool = False
    display_order: int | None = None
    spec: str = ""
    config: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def accepted_brands(self) -> tuple[str, ...]:
        """The card brands its config declares (`accepted_brands`, spelled as the spec's enum); () when it declares
        none, or nothing readable as a list of names."""
        declared = self.config.get("accepted_brands")
        if not isinstance(declared, list | tuple):
            return ()
        brands = (card_brand_normalize(brand) for brand in declared if isinstance(brand, str))
        return tuple(dict.fromkeys(brand for brand in brands if brand))

    def accepts_card_brand(self, brand: str) -> bool:
        """Whether a card of `brand` may pay with this handler, as far as its config says.

        True when it declares no brands (the merchant decides at complete), and for a card whose brand we do not
        know ("", or "other"): there is nothing to compare, so it is not refused here either.
        """
        accepted = self.accepted_brands
        card = card_brand_normalize(brand)
        return not accepted or card in ("", "other") or card in accepted


@dataclass(frozen=True)
class SessionCapabilities:
    """The merchant's side of the negotiation, as a session carries it."""

    payment_handlers: tuple[PaymentHandler, ...] = ()
    interventions: tuple[str, ...] = ()  # the intersection of what both sides support
    interventions_required: tuple[str, ...] = ()
    enforcement: str = ""
    extensions: tuple[str, ...] = ()  # names of the active extensions


@dataclass(frozen=True)
class AuthenticationMetadata:
    """What the merchant tells about a 3-D Secure it requires (acquirer, directory server, flow)."""

    directory_server: str
    acquirer_bin: str = ""
    acquirer_country: str = ""
    acquirer_merchant_id: str = ""
    merchant_name: str = ""
    requestor_id: str = ""
    flow_preference: str = ""  # challenge or frictionless
    flow_preference_subtype: str = ""  # mandated, preferred, low_risk
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class OrderRef:
    id: str
    checkout_session_id: str
    permalink_url: str
    status: str
    order_number: str = ""
    confirmation_number: str = ""


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
    rejected_discounts: tuple[RejectedDiscount, ...] = ()
    capabilities: SessionCapabilities = field(default_factory=SessionCapabilities)
    authentication_metadata: AuthenticationMetadata | None = None
    protocol_version: str = ""
    links: tuple[tuple[str, str], ...] = ()  # (type, url)
    # The locale the merchant wrote this session's texts in (its `locale`, e.g. "en-US"); "" when it says none.
    locale: str = ""

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

    @property
    def price_changed(self) -> bool:
        """The merchant says its prices moved (ACP warning `price_change`; `price_changed` of older merchants)."""
        return self.has_message("price_change") or self.has_message("price_changed")

    @property
    def payment_handlers(self) -> tuple[PaymentHandler, ...]:
        return self.capabilities.payment_handlers

    @property
    def payment_handler(self) -> PaymentHandler | None:
        """The negotiated handler: the merchant's preferred one (display_order, then its order) we support."""
        ranked = sorted(
            enumerate(self.payment_handlers),
            key=lambda pair: (pair[1].display_order is None, pair[1].display_order or 0, pair[0]),
        )
        for _, handler in ranked:
            if handler.name in SUPPORTED_PAYMENT_HANDLERS:
                return handler
        return None


def fulfillment_option_cost(option: FulfillmentOption) -> int:
    """What an option costs: its `total` entry (the spec's options carry one), else the sum of what it lists."""
    for entry in option.totals:
        if entry.type == "total":
            return entry.amount.amount
    return sum(entry.amount.amount for entry in option.totals)


def _fastest(options: Sequence[FulfillmentOption]) -> FulfillmentOption | None:
    """The option that arrives first by its delivery window (latest, then earliest delivery time), else the one
    whose title says it is fast; None when nothing tells them apart."""
    timed = [option for option in options if option.latest_delivery_time or option.earliest_delivery_time]
    if len(timed) >= 2:

        def aware(value: datetime) -> datetime:
            # a time sent without an offset is read as UTC, so that it compares with the others
            return value if value.tzinfo is not None else value.replace(tzinfo=UTC)

        def arrival(option: FulfillmentOption) -> tuple[datetime, datetime]:
            # one of the two is set (`timed`): an option with one only arrives by it
            latest = aware(option.latest_delivery_time or option.earliest_delivery_time or datetime.max)
            earliest = aware(option.earliest_delivery_time or latest)
            return latest, earliest

        ranked = sorted(timed, key=arrival)
        if arrival(ranked[0]) < arrival(ranked[1]):
            return ranked[0]
    titled = [option for option in options if any(word in option.title.lower() for word in _FAST_TITLE_WORDS)]
    if len(titled) == 1 and len(options) > 1:
        return titled[0]
    return None


def fulfillment_option_choose(session: CheckoutSession, wanted: str) -> FulfillmentOption | None:
    """The merchant's own option for a choice: `wanted` itself when the merchant offers an option of that id, else
    the assistant's word (`SHIPPING_WORDS`, or any id not offered) mapped onto the shipping options it offers.

    rfc.agentic_checkout §8: a selected option_id MUST be one of the session's `fulfillment_options`, so nothing
    else is ever returned; None when the merchant offers no shipping option (nothing to choose: its own stands).
    - express: the fastest shipping option (by its delivery window, else a title saying so: "Express",
      "Overnight"...); with nothing to tell them apart, the dearest (what costs more is bought for speed).
    - standard (and the default, and any other word): the merchant's own selection when it is a shipping option
      and not the express one (its default, or our standard chosen before); else the cheapest shipping option.
    """
    offered = {option.id: option for option in session.fulfillment_options}
    if wanted in offered:
        return offered[wanted]
    shipping = [option for option in session.fulfillment_options if option.type == "shipping"]
    if not shipping:
        return None
    word = SHIPPING_WORDS.get(wanted.lower(), wanted.lower())
    fastest = _fastest(shipping) if len(shipping) > 1 else shipping[0]
    if word == SHIPPING_EXPRESS or "express" in word:
        if fastest is not None:
            return fastest
        return max(shipping, key=fulfillment_option_cost)  # max keeps the first of equals: the merchant's order
    current = [
        offered[selected.option_id]
        for selected in session.selected_fulfillment_options
        if selected.option_id in offered
    ]
    if (
        len(current) == 1
        and current[0].type == "shipping"
        and (len(shipping) == 1 or fastest is None or current[0].id != fastest.id)
    ):
        return current[0]
    cheapest = min(fulfillment_option_cost(option) for option in shipping)
    candidates = [option for option in shipping if fulfillment_option_cost(option) == cheapest]
    # Of equally cheap options, not the express one (when the cheapest are all alike, the merchant's first).
    return next((option for option in candidates if fastest is None or option.id != fastest.id), candidates[0])


@dataclass(frozen=True)
class PaymentData:
    """What pays at complete: a delegated one-time token (never card data).

    `handler_id` is the negotiated payment handler (`catalog_adapters.acp.payment_handler_select`);
    left empty, the client reads the session and negotiates it itself before sending anything.
    """

    token: str
    billing_address: Address | None = None
    handler_id: str = ""


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


@dataclass(frozen=True)
class AuthenticationCard:
    """The card a 3-D Secure authentication is for, as we know it: the vault's reference, never its number."""

    vault_reference: str
    exp_month: int
    exp_year: int
    name: str


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
        self,
        *,
        session_id: str,
        notification_url: str,
        operation_id: str,
        card: AuthenticationCard | None = None,
        session: CheckoutSession | None = None,
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
    description: str = ""
    line_items: tuple[tuple[str, int], ...] = ()  # (order line item id, quantity)


@dataclass(frozen=True)
class OrderLineItem:
    """An ACP OrderLineItem: what was ordered and how much of it is still on, and delivered."""

    id: str
    title: str
    quantity_ordered: int
    quantity_current: int
    quantity_fulfilled: int = 0
    product_id: str = ""
    unit_price: Money | None = None
    subtotal: Money | None = None
    status: str = ""  # processing, partial, fulfilled, removed (open list)
    totals: tuple[Total, ...] = ()


@dataclass(frozen=True)
class OrderFulfillment:
    id: str
    type: str
    status: str = ""
    carrier: str = ""
    tracking_number: str = ""
    tracking_url: str = ""
    line_items: tuple[tuple[str, int], ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


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
    line_items: tuple[OrderLineItem, ...] = ()
    fulfillments: tuple[OrderFulfillment, ...] = ()
    confirmation_number: str = ""
    client_reference_id: str = ""

    def total(self, type_: str = "total") -> Money | None:
        for entry in self.totals:
            if entry.type == type_:
                return entry.amount
        return None


@runtime_checkable
class Orders(Protocol):
    """`currency`: the one the order was charged in, when the caller knows it (an ACP Order has none)."""

    def get(self, *, order_id: str, currency: str | None = None) -> Order: ...

    def cancel(self, *, order_id: str, operation_id: str, currency: str | None = None) -> Order: ...

    def refund(
        self, *, order_id: str, operation_id: str, amount: Money | None = None, currency: str | None = None
    ) -> Order: ...
