"""Consent grants, spend caps, vault-only payment methods, step-up: models.

Rows change only through consent.services. Money is integer minor units plus a currency code. Nothing
here can hold a card number or a security code: a payment method is the vault's reference to a card
plus what a person needs to recognise it (brand, last four digits, expiry).
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

from audit.models import ActorType

last4_validator = RegexValidator(r"^\d{4}$", "The last four digits of a card are exactly four digits.")
# Vault references are opaque ids such as "pm_alice_visa"; the prefix and the required letter keep a
# card number from ever being stored in their place.
vault_reference_validator = RegexValidator(
    r"^pm_[A-Za-z0-9_]{1,60}$", "A vault reference looks like 'pm_…' (letters, digits, underscores)."
)
# Whatever a field is for, a run of 13-19 digits in it could be a card number: refuse it.
no_card_number_validator = RegexValidator(
    r"\d{13}", "This looks like a card number; we never store card numbers, only vault references.", inverse_match=True
)
currency_validator = RegexValidator(r"^[A-Z]{3}$", "A currency is a three-letter ISO 4217 code such as USD.")


class Scope(models.TextChoices):
    PLACE_ORDERS = "place_orders", "Place orders for me"
    USE_SAVED_PAYMENT = "use_saved_payment", "Pay with my saved cards"
    USE_SAVED_ADDRESS = "use_saved_address", "Ship to my saved addresses"


class GrantChannel(models.TextChoices):
    SETTINGS_PAGE = "settings_page", "Settings page"
    API = "api", "Chat widget / API"
    CHAT = "chat", "In chat"
    STAFF = "staff", "Support staff"
    SEED = "seed", "Demo data"


class CapKind(models.TextChoices):
    PER_ORDER = "per_order", "Per order"
    PER_DAY = "per_day", "Per day"
    PER_MONTH = "per_month", "Per month"
    PER_SESSION = "per_session", "Per chat session"


class ConsentProfile(models.Model):
    """One per customer: their chosen caps and auto-checkout threshold.

    It is also the row spend reservations lock (`select_for_update`), so concurrent reservations of one
    customer queue behind each other while other customers' reservations run in parallel.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="consent_profile")
    currency = models.CharField(max_length=3, validators=[currency_validator])
    # NULL means "the ceiling": the customer has not chosen a lower cap, and a later, lower ceiling
    # (the rollout phase) applies to them without rewriting their row.
    cap_per_order = models.PositiveBigIntegerField(null=True, blank=True)
    cap_per_day = models.PositiveBigIntegerField(null=True, blank=True)
    cap_per_month = models.PositiveBigIntegerField(null=True, blank=True)
    cap_per_session = models.PositiveBigIntegerField(null=True, blank=True)
    auto_checkout_threshold = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"consent profile of user {self.user_id}"


class GrantStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    REVOKED = "revoked", "Revoked"
    # A grant replaced by a new one of the same scope (e.g. granted again after it expired).
    SUPERSEDED = "superseded", "Superseded"


class ConsentGrant(models.Model):
    """What the assistant may do for a customer, one scope per row. Expiry is derived from expires_at."""

    TRANSITIONS = {
        GrantStatus.ACTIVE: {GrantStatus.REVOKED, GrantStatus.SUPERSEDED},
        GrantStatus.REVOKED: set(),
        GrantStatus.SUPERSEDED: set(),
    }

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="consent_grants")
    scope = models.CharField(max_length=32, choices=Scope.choices)
    status = models.CharField(max_length=16, choices=GrantStatus.choices, default=GrantStatus.ACTIVE)
    granted_at = models.DateTimeField()
    granted_via = models.CharField(max_length=16, choices=GrantChannel.choices)
    expires_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_via = models.CharField(max_length=16, choices=GrantChannel.choices, blank=True)
    end_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["scope", "-granted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "scope"], condition=Q(status="active"), name="consent_one_active_grant_per_scope"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scope} for user {self.user_id} ({self.status})"

    def can_become(self, status: str) -> bool:
        return status in self.TRANSITIONS[GrantStatus(self.status)]

    @property
    def revoked_at(self):
        return self.ended_at if self.status == GrantStatus.REVOKED else None


class CardBrand(models.TextChoices):
    VISA = "visa", "Visa"
    MASTERCARD = "mastercard", "Mastercard"
    AMEX = "amex", "American Express"
    DISCOVER = "discover", "Discover"
    OTHER = "other", "Card"


class PaymentMethod(models.Model):
    """A card the merchant's vault keeps; we hold its reference and what identifies it to a person."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="payment_methods")
    merchant_id = models.CharField(max_length=64)
    vault_reference = models.CharField(max_length=64, validators=[vault_reference_validator, no_card_number_validator])
    brand = models.CharField(max_length=16, choices=CardBrand.choices)
    last4 = models.CharField(max_length=4, validators=[last4_validator])
    exp_month = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(12)])
    exp_year = models.PositiveSmallIntegerField(validators=[MinValueValidator(2000), MaxValueValidator(2100)])
    # The customer's own name for the card ("work card"); brand, last four and expiry are the merchant's.
    nickname = models.CharField(max_length=40, blank=True, validators=[no_card_number_validator])
    is_default = models.BooleanField(default=False)
    # Who added it (audit ActorType): a card a customer (or someone with their session) just added raises
    # the risk of an order paid with it; one seeded by the system does not.
    added_by = models.CharField(max_length=16, blank=True, choices=ActorType.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    # Removed cards stay as rows: flows and audit events that name them keep making sense.
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-is_default", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "merchant_id", "vault_reference"],
                condition=Q(removed_at__isnull=True),
                name="consent_payment_method_once",
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(is_default=True, removed_at__isnull=True),
                name="consent_one_default_payment_method",
            ),
        ]

    def __str__(self) -> str:
        return self.masked

    @property
    def masked(self) -> str:
        return f"{self.get_brand_display()} •••• {self.last4}"


class Address(models.Model):
    """A saved shipping address."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_addresses")
    label = models.CharField(max_length=40)
    recipient = models.CharField(max_length=120)
    line1 = models.CharField(max_length=200)
    line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100)
    region = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20)
    country = models.CharField(max_length=2, validators=[RegexValidator(r"^[A-Z]{2}$", "Use a two-letter code.")])
    is_default = models.BooleanField(default=False)
    # Who added it (audit ActorType); see PaymentMethod.added_by.
    added_by = models.CharField(max_length=16, blank=True, choices=ActorType.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-is_default", "created_at"]
        verbose_name_plural = "addresses"
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(is_default=True, removed_at__isnull=True),
                name="consent_one_default_address",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label}: {self.one_line}"

    @property
    def one_line(self) -> str:
        parts = [self.line1, self.line2, self.city, f"{self.region} {self.postal_code}".strip(), self.country]
        return ", ".join(part for part in parts if part)


class MerchantAccount(models.Model):
    """Who the customer is at a merchant: the merchant's customer reference and the e-mail it knows."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="merchant_accounts")
    merchant_id = models.CharField(max_length=64)
    customer_ref = models.CharField(max_length=128)
    email = models.EmailField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "merchant_id"], name="consent_one_account_per_merchant"),
            models.UniqueConstraint(fields=["merchant_id", "customer_ref"], name="consent_merchant_customer_once"),
        ]

    def __str__(self) -> str:
        return f"{self.merchant_id}:{self.customer_ref}"


class SpendKind(models.TextChoices):
    RESERVE = "reserve", "Reserve"
    COMMIT = "commit", "Commit"
    RELEASE = "release", "Release"
    REFUND = "refund", "Refund"


class SpendEntry(models.Model):
    """One fact of the spend ledger. Rows are only ever inserted.

    A reservation (kind=reserve) is settled at most once, by one commit or one release row pointing at
    it. A refund row (kind=refund) points at the commit whose money the merchant gave back, once per
    `refund_key` (the merchant's adjustment), and counts in the windows of that commit.
    Used spend = committed amounts - their refunds + reservations that are neither settled nor expired.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="spend_entries")
    kind = models.CharField(max_length=8, choices=SpendKind.choices)
    amount = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3, validators=[currency_validator])
    # The flow that reserved (the flow issue passes its flow id); unique per reservation.
    flow_reference = models.CharField(max_length=100)
    chat_session_reference = models.CharField(max_length=100, blank=True)
    reservation = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=100, blank=True)
    # A refund's idempotency key: the merchant, its order and its adjustment (unique among refunds).
    refund_key = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "spend entries"
        constraints = [
            models.UniqueConstraint(
                fields=["flow_reference"], condition=Q(kind="reserve"), name="consent_one_reservation_per_flow"
            ),
            # A reservation is committed or released once, never both: the idempotency of settlement.
            models.UniqueConstraint(
                fields=["reservation"],
                condition=Q(kind__in=["commit", "release"]),
                name="consent_reservation_settled_once",
            ),
            # A merchant's refund gives money back to the caps once, however often it is reported.
            models.UniqueConstraint(
                fields=["refund_key"], condition=Q(kind="refund"), name="consent_refund_applied_once"
            ),
            models.CheckConstraint(
                condition=(Q(kind="reserve", reservation__isnull=True, expires_at__isnull=False))
                | (Q(kind__in=["commit", "release"], reservation__isnull=False))
                | (Q(kind="refund", reservation__isnull=False) & ~Q(refund_key="")),
                name="consent_spend_entry_shape",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "created_at"], name="consent_spend_user_time"),
            models.Index(fields=["user", "chat_session_reference"], name="consent_spend_user_session"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} {self.currency} for {self.flow_reference}"


class StepUpVerification(models.Model):
    """A successful TOTP check: flows running in workers (no session) ask how recent the last one is."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="stepup_verifications")
    device = models.ForeignKey(
        "otp_totp.TOTPDevice", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    verified_at = models.DateTimeField(db_index=True)
    channel = models.CharField(max_length=16, blank=True)

    class Meta:
        ordering = ["-verified_at"]

    def __str__(self) -> str:
        return f"step-up of user {self.user_id} at {self.verified_at:%Y-%m-%d %H:%M}"


class StepUpEnrolment(models.Model):
    """How a pending step-up device was begun: with proof of the confirmed one it is to replace, or not.

    A device begun while no authenticator was set up needed no proof; it must not be confirmed over one
    that was set up meanwhile (consent.services.stepup.stepup_enrol_confirm). Goes with its device.
    """

    device = models.OneToOneField("otp_totp.TOTPDevice", on_delete=models.CASCADE, related_name="stepup_enrolment")
    begun_with_proof = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"enrolment of device {self.device_id} ({'with' if self.begun_with_proof else 'without'} proof)"


class SecurityNoticeKind(models.TextChoices):
    AUTHENTICATOR_ENROLLED = "authenticator_enrolled", "Authenticator app set up"
    CARD_ADDED = "card_added", "Card added"
    ADDRESS_ADDED = "address_added", "Address added"


class SecurityNotice(models.Model):
    """An e-mail telling the customer that their account changed ("a new card ending 4242 was added").

    Written in the transaction of the change (an outbox row), sent by a task after commit; `sent_at` is
    claimed before sending so a task delivered twice sends one e-mail, and a sweep sends what a crash
    between commit and enqueue left behind. The text names no secret and no card beyond its last four.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="security_notices")
    kind = models.CharField(max_length=32, choices=SecurityNoticeKind.choices)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Why nothing was sent, when nothing was (e.g. the customer has no e-mail address).
    skipped_reason = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["sent_at", "created_at"], name="consent_notice_pending")]

    def __str__(self) -> str:
        return f"{self.kind} notice to user {self.user_id}"


class PolicyActivation(models.Model):
    """One activation of a policy version (policies/<version>.toml). The row with `active` set is the policy
    in force; at most one row is (a partial unique index), and with none the ORDERING_POLICY_VERSION setting's
    file is. Older rows are the activation history: who switched from which version to which, and when."""

    version = models.CharField(max_length=64)
    previous_version = models.CharField(max_length=64, blank=True)
    active = models.BooleanField(default=True)
    activated_at = models.DateTimeField()
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Who, when no staff account did it (a deploy script running `manage.py policy_activate`).
    activated_via = models.CharField(max_length=64, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-activated_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["active"], condition=Q(active=True), name="consent_policy_one_active"),
        ]
        permissions = [("activate_policy", "Can activate a policy version")]

    def __str__(self) -> str:
        return f"policy {self.version}" + (" (active)" if self.active else "")
