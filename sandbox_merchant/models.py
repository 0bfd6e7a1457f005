"""The sandbox merchant's own data: catalog, stock, promotions, customers, checkout, vault, orders.

Money is integer minor units plus a lower-case ISO 4217 currency. Ids are the merchant's public ids
(`prod_…`, `var_…`, `cs_…`, `vt_…`, `ord_…`), so the wire shows exactly what the database holds.
Statuses change only through services, which check the transition tables below.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

# -- catalog ---------------------------------------------------------------------------------------


class Product(models.Model):
    id = models.CharField(primary_key=True, max_length=64)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    category = models.CharField(max_length=64, db_index=True)
    brand = models.CharField(max_length=100, blank=True)
    # The "from" price shown in listings; each variant carries the price actually charged.
    price_amount = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3, default="usd")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.title


class ProductImage(models.Model):
    product = models.ForeignKey(Product, related_name="images", on_delete=models.CASCADE)
    url = models.URLField(max_length=500)
    alt_text = models.CharField(max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["product_id", "position"]
        constraints = [models.UniqueConstraint(fields=["product", "position"], name="sandbox_image_position_unique")]

    def __str__(self) -> str:
        return self.url


class Variant(models.Model):
    id = models.CharField(primary_key=True, max_length=64)
    product = models.ForeignKey(Product, related_name="variants", on_delete=models.CASCADE)
    sku = models.CharField(max_length=64, unique=True)
    colour = models.CharField(max_length=32, blank=True)
    size = models.CharField(max_length=16, blank=True)
    price_amount = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3, default="usd")
    # Units on hand. Reservations are derived from open checkout lines; selling decrements this.
    stock = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["product_id", "id"]
        constraints = [models.CheckConstraint(condition=Q(stock__gte=0), name="sandbox_variant_stock_not_negative")]

    def __str__(self) -> str:
        return self.id


# -- customers -------------------------------------------------------------------------------------


class Customer(models.Model):
    id = models.CharField(primary_key=True, max_length=64)
    email = models.EmailField(unique=True)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    phone_number = models.CharField(max_length=32, blank=True)

    def __str__(self) -> str:
        return self.id


class CustomerAddress(models.Model):
    customer = models.ForeignKey(Customer, related_name="addresses", on_delete=models.CASCADE)
    label = models.CharField(max_length=32)
    name = models.CharField(max_length=200)
    line_one = models.CharField(max_length=200)
    line_two = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100)
    state = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2)
    postal_code = models.CharField(max_length=20)
    is_default = models.BooleanField(default=False)

    class Meta:
        ordering = ["customer_id", "-is_default", "label"]
        constraints = [models.UniqueConstraint(fields=["customer", "label"], name="sandbox_address_label_unique")]

    def __str__(self) -> str:
        return f"{self.customer_id}:{self.label}"


class SavedItemKind(models.TextChoices):
    LIKED = "liked"
    VIEWED = "viewed"
    PURCHASED = "purchased"


class SavedItem(models.Model):
    customer = models.ForeignKey(Customer, related_name="saved_items", on_delete=models.CASCADE)
    kind = models.CharField(max_length=16, choices=SavedItemKind.choices)
    product = models.ForeignKey(Product, on_delete=models.CASCADE)
    variant = models.ForeignKey(Variant, null=True, blank=True, on_delete=models.SET_NULL)
    saved_at = models.DateTimeField()

    class Meta:
        ordering = ["-saved_at"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "kind", "product"], name="sandbox_saved_item_unique"),
        ]
        indexes = [models.Index(fields=["customer", "kind", "saved_at"])]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.kind} {self.product_id}"


# -- promotions ------------------------------------------------------------------------------------


class PromotionKind(models.TextChoices):
    PERCENT = "percent"
    AMOUNT = "amount"


class Promotion(models.Model):
    """A discount code. With a customer it is personal; with a category it discounts only those lines."""

    code = models.CharField(max_length=64, unique=True)  # stored upper-case; matched case-insensitively
    description = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=PromotionKind.choices)
    percent_off = models.PositiveSmallIntegerField(null=True, blank=True)
    amount_off = models.PositiveBigIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3, default="usd")
    customer = models.ForeignKey(Customer, null=True, blank=True, related_name="promotions", on_delete=models.CASCADE)
    minimum_spend_amount = models.PositiveBigIntegerField(default=0)
    category = models.CharField(max_length=64, blank=True)
    starts_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="percent", percent_off__gte=1, percent_off__lte=100, amount_off__isnull=True))
                | (Q(kind="amount", amount_off__gte=1, percent_off__isnull=True)),
                name="sandbox_promotion_kind_matches_value",
            )
        ]

    def __str__(self) -> str:
        return self.code


# -- checkout --------------------------------------------------------------------------------------


class CheckoutStatus(models.TextChoices):
    NOT_READY_FOR_PAYMENT = "not_ready_for_payment"
    READY_FOR_PAYMENT = "ready_for_payment"
    AUTHENTICATION_REQUIRED = "authentication_required"
    COMPLETED = "completed"
    CANCELED = "canceled"
    EXPIRED = "expired"


OPEN_CHECKOUT_STATUSES = (
    CheckoutStatus.NOT_READY_FOR_PAYMENT,
    CheckoutStatus.READY_FOR_PAYMENT,
    CheckoutStatus.AUTHENTICATION_REQUIRED,
)
_OPEN = set(OPEN_CHECKOUT_STATUSES)
_FINAL = {CheckoutStatus.COMPLETED, CheckoutStatus.CANCELED, CheckoutStatus.EXPIRED}

# Which status may follow which. Services refuse anything else (CheckoutTransitionInvalid).
CHECKOUT_TRANSITIONS: dict[str, set[str]] = {
    CheckoutStatus.NOT_READY_FOR_PAYMENT: _OPEN | {CheckoutStatus.CANCELED, CheckoutStatus.EXPIRED},
    CheckoutStatus.READY_FOR_PAYMENT: _OPEN | _FINAL,
    CheckoutStatus.AUTHENTICATION_REQUIRED: _OPEN | _FINAL,
    CheckoutStatus.COMPLETED: set(),
    CheckoutStatus.CANCELED: set(),
    CheckoutStatus.EXPIRED: set(),
}


class ChallengePreference(models.TextChoices):
    MANDATED = "mandated"
    PREFERRED = "preferred"


class CheckoutSession(models.Model):
    id = models.CharField(primary_key=True, max_length=64)
    status = models.CharField(max_length=32, choices=CheckoutStatus.choices)
    currency = models.CharField(max_length=3, default="usd")
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.SET_NULL)
    buyer = models.JSONField(null=True, blank=True)
    fulfillment_details = models.JSONField(null=True, blank=True)
    selected_fulfillment_options = models.JSONField(default=list, blank=True)
    discount_codes = models.JSONField(default=list, blank=True)
    # What the agent declared on create (ACP Capabilities); the session answers the merchant's side of it.
    capabilities = models.JSONField(default=dict, blank=True)
    # The priced state of the last response (line amounts, options, applied discounts, totals):
    # GET answers exactly what the last write computed, and complete compares its re-pricing to it.
    quote = models.JSONField(default=dict, blank=True)
    quoted_total = models.BigIntegerField(default=0)
    messages = models.JSONField(default=list, blank=True)
    # Set when a complete asks for 3-D Secure: whose wish the challenge is (AuthenticationMetadata.flow_preference).
    # `mandated`: the card's issuer requires it, so only the issuer's own result pays; `preferred`: the merchant's
    # risk check asks for it and would charge a card whose 3-D Secure is `not_supported`, without a liability shift.
    authentication_challenge = models.CharField(max_length=16, choices=ChallengePreference.choices, blank=True)
    continue_url = models.URLField(max_length=500)
    expires_at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.id


class CheckoutLine(models.Model):
    """A line of a session. `reserved_quantity` is the stock this line holds while the session is open."""

    session = models.ForeignKey(CheckoutSession, related_name="lines", on_delete=models.CASCADE)
    variant = models.ForeignKey(Variant, related_name="checkout_lines", on_delete=models.PROTECT)
    position = models.PositiveSmallIntegerField()
    quantity = models.PositiveIntegerField()
    unit_amount = models.PositiveBigIntegerField()
    reserved_quantity = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["session_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["session", "variant"], name="sandbox_line_variant_unique"),
            models.CheckConstraint(
                condition=Q(reserved_quantity__lte=models.F("quantity")), name="sandbox_line_reserves_at_most_quantity"
            ),
        ]
        indexes = [models.Index(fields=["variant", "reserved_quantity"])]

    def __str__(self) -> str:
        return f"{self.session_id}:{self.variant_id}x{self.quantity}"


# -- payment vault ---------------------------------------------------------------------------------


class CardBehaviour(models.TextChoices):
    APPROVE = "approve"
    DECLINE = "decline"
    REQUIRES_3DS = "requires_3ds"


class VaultCard(models.Model):
    """A sandbox card. No card number is stored anywhere: brand, last4, expiry and how it behaves."""

    reference = models.CharField(primary_key=True, max_length=64)
    customer = models.ForeignKey(Customer, related_name="cards", on_delete=models.CASCADE)
    brand = models.CharField(max_length=32)
    last4 = models.CharField(max_length=4)
    exp_month = models.PositiveSmallIntegerField()
    exp_year = models.PositiveSmallIntegerField()
    behaviour = models.CharField(max_length=16, choices=CardBehaviour.choices, default=CardBehaviour.APPROVE)

    def __str__(self) -> str:
        return self.reference


class VaultToken(models.Model):
    """A delegated, one-time payment token and the allowance it may be spent within."""

    id = models.CharField(primary_key=True, max_length=64)
    card = models.ForeignKey(VaultCard, related_name="tokens", on_delete=models.PROTECT)
    max_amount = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    checkout_session_id = models.CharField(max_length=64)
    merchant_id = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.id


class IssuerChallengeStatus(models.TextChoices):
    # The delegate-authentication statuses of ACP (rfc.delegate_authentication, retrieve).
    ACTION_REQUIRED = "action_required"
    AUTHENTICATED = "authenticated"
    NOT_AUTHENTICATED = "not_authenticated"
    CHALLENGE_ABANDONED = "challenge_abandoned"
    EXPIRED = "expired"


class IssuerChallenge(models.Model):
    """A simulated issuer's 3-D Secure challenge of one checkout session (an ACP authentication session).

    The client creates it when a complete answered `authentication_required`; the shopper answers it on
    the issuer's page (`acs_trans_id` is the unguessable part of that page's URL); the issuer sends the
    shopper back to the client's `notification_url` with a signed CRes; the client reads the result and
    completes with it. A result pays once: `used_at` is set by the complete that charged with it.
    """

    id = models.CharField(primary_key=True, max_length=64)  # authentication_session_id
    session = models.ForeignKey(CheckoutSession, related_name="issuer_challenges", on_delete=models.CASCADE)
    acs_trans_id = models.CharField(max_length=64, unique=True)
    three_ds_server_trans_id = models.CharField(max_length=64)
    status = models.CharField(
        max_length=32, choices=IssuerChallengeStatus.choices, default=IssuerChallengeStatus.ACTION_REQUIRED
    )
    notification_url = models.URLField(max_length=500)
    amount = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    # What the issuer returned (transaction id, ECI, cryptogram): a simulated value, never card data.
    result = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.id} ({self.status})"


# -- orders ----------------------------------------------------------------------------------------


class OrderStatus(models.TextChoices):
    CONFIRMED = "confirmed"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    CANCELED = "canceled"


ORDER_TRANSITIONS: dict[str, set[str]] = {
    OrderStatus.CONFIRMED: {OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED, OrderStatus.CANCELED},
    OrderStatus.PARTIALLY_REFUNDED: {OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED, OrderStatus.CANCELED},
    OrderStatus.REFUNDED: set(),
    OrderStatus.CANCELED: set(),
}


class Order(models.Model):
    id = models.CharField(primary_key=True, max_length=64)
    session = models.OneToOneField(CheckoutSession, related_name="order", on_delete=models.PROTECT)
    customer = models.ForeignKey(Customer, null=True, blank=True, related_name="orders", on_delete=models.SET_NULL)
    payment_token = models.OneToOneField(VaultToken, on_delete=models.PROTECT)
    status = models.CharField(max_length=32, choices=OrderStatus.choices, default=OrderStatus.CONFIRMED)
    currency = models.CharField(max_length=3)
    total_amount = models.PositiveBigIntegerField()
    # What was sold, as priced at completion (a snapshot: later catalog changes do not rewrite it).
    line_items = models.JSONField(default=list)
    totals = models.JSONField(default=list)
    permalink_url = models.URLField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.id


class AdjustmentType(models.TextChoices):
    REFUND = "refund"
    CANCEL = "cancel"


class OrderAdjustment(models.Model):
    """Money given back. The refunded balance of an order is the sum of these rows."""

    order = models.ForeignKey(Order, related_name="adjustments", on_delete=models.CASCADE)
    type = models.CharField(max_length=16, choices=AdjustmentType.choices)
    amount = models.PositiveBigIntegerField()
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["order_id", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.type} {self.amount} on {self.order_id}"


class WebhookStatus(models.TextChoices):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class WebhookDelivery(models.Model):
    """An order event to send to our app; written with the change it reports, sent after commit."""

    id = models.CharField(primary_key=True, max_length=64)
    order = models.ForeignKey(Order, related_name="webhook_deliveries", on_delete=models.CASCADE)
    event_type = models.CharField(max_length=32)
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=WebhookStatus.choices, default=WebhookStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.event_type} {self.id} ({self.status})"


# -- protocol plumbing -----------------------------------------------------------------------------


class IdempotencyState(models.TextChoices):
    IN_FLIGHT = "in_flight"
    COMPLETED = "completed"


class IdempotencyRecord(models.Model):
    """One POST per (caller, endpoint, key). The unique constraint is what makes a duplicate a duplicate."""

    scope = models.CharField(max_length=300)  # hash of the bearer token, method and path
    key = models.CharField(max_length=255)
    request_fingerprint = models.CharField(max_length=64)  # sha256 of the canonical JSON body
    state = models.CharField(max_length=16, choices=IdempotencyState.choices, default=IdempotencyState.IN_FLIGHT)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="sandbox_idempotency_scope_key_unique")]

    def __str__(self) -> str:
        return f"{self.key} ({self.state})"


class FaultKind(models.TextChoices):
    SERVER_ERROR = "server_error"
    UNAVAILABLE = "unavailable"
    RATE_LIMITED = "rate_limited"
    TIMEOUT = "timeout"
    TIMEOUT_AFTER_COMMIT = "timeout_after_commit"
    SLOW = "slow"
    DECLINE = "decline"
    REQUIRES_3DS = "requires_3ds"
    OUT_OF_STOCK_AT_COMPLETE = "out_of_stock_at_complete"
    PRICE_CHANGE = "price_change"
    # A misbehaving merchant (for the client's money-path checks): it completes the order, but not the one quoted.
    UNDERCHARGE_AT_COMPLETE = "undercharge_at_complete"
    SUBSTITUTE_AT_COMPLETE = "substitute_at_complete"


class FaultOperation(models.TextChoices):
    CREATE = "create"
    UPDATE = "update"
    GET = "get"
    COMPLETE = "complete"
    CANCEL = "cancel"
    DELEGATE_PAYMENT = "delegate_payment"
    REVOKE = "revoke"
    SEARCH = "search"
    CUSTOMER = "customer"
    ORDER = "order"
    ANY = "any"


class FaultRule(models.Model):
    """A fault switched on for matching requests; with `times_remaining` it is spent after that many."""

    id = models.CharField(primary_key=True, max_length=64)
    kind = models.CharField(max_length=32, choices=FaultKind.choices)
    operation = models.CharField(max_length=32, choices=FaultOperation.choices, default=FaultOperation.ANY)
    customer_id = models.CharField(max_length=64, blank=True)
    vault_reference = models.CharField(max_length=64, blank=True)
    # Set for rules born from a `Sandbox-Fault` header with `times`: they count the retries of one call.
    header_scope = models.CharField(max_length=400, blank=True)
    times_remaining = models.PositiveIntegerField(null=True, blank=True)
    delay_ms = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # Concurrent retries carrying the same header share one counter, never two.
            models.UniqueConstraint(
                fields=["header_scope", "kind", "operation"],
                condition=~Q(header_scope=""),
                name="sandbox_fault_header_counter_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind}@{self.operation}"


class ReceivedRequest(models.Model):
    """Every request the sandbox received, written once it was answered (or before a deliberate fault wait), so tests
    can assert what clients send."""

    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    query_string = models.CharField(max_length=1000, blank=True)
    trace_id = models.CharField(max_length=128, blank=True)  # the raw X-Trace-ID header; "" when absent
    request_id = models.CharField(max_length=255, blank=True)
    idempotency_key = models.CharField(max_length=255, blank=True)
    # The raw header; "" when absent (a database default: a row written without it, as before, reads "").
    accept_language = models.CharField(max_length=255, blank=True, db_default="")
    operation = models.CharField(max_length=32, blank=True)
    faults = models.CharField(max_length=200, blank=True)
    status = models.PositiveSmallIntegerField(null=True, blank=True)  # None while a fault holds it (being answered)
    replayed = models.BooleanField(default=False)
    received_at = models.DateTimeField(db_index=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["received_at", "id"]

    def __str__(self) -> str:
        return f"{self.method} {self.path} {self.status}"


# -- the storefront's own checkout (the traditional path; sandbox_merchant/shop/) -------------------------


class ShopCheckoutStatus(models.TextChoices):
    OPEN = "open"  # the customer is choosing address and card
    PLACING = "placing"  # one "Place order" is talking to the checkout API; others wait for it
    PLACED = "placed"


class ShopCheckout(models.Model):
    """One visit to the storefront's checkout page, from opening it to the order it placed.

    `key` is the checkout's idempotency key: every checkout API call is named after it (and the
    revision or attempt it belongs to), so a repeated "Place order" can never charge twice. The shop
    page is a client of the checkout API over HTTP like any frontend; this row is its own state."""

    key = models.UUIDField(unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    customer_ref = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=ShopCheckoutStatus.choices, default=ShopCheckoutStatus.OPEN)
    checkout_session_id = models.CharField(max_length=64, blank=True)
    # What the checkout session was last given: [{"variant_id", "quantity"}] and the ACP fulfillment details.
    lines = models.JSONField(default=list, blank=True)
    fulfillment = models.JSONField(default=dict, blank=True)
    revision = models.PositiveIntegerField(default=0)  # checkout session updates sent so far
    attempt = models.PositiveIntegerField(default=0)  # placements that ended without an order
    placing_since = models.DateTimeField(null=True, blank=True)
    order_id = models.CharField(max_length=64, blank=True)
    order_number = models.CharField(max_length=64, blank=True)
    total_amount = models.PositiveBigIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    # The merchant's lines and totals at placement, for the confirmation page.
    summary = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"shop checkout {self.key} ({self.status})"
