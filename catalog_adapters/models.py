"""Rows of the merchant integration: the webhook events merchants send us."""

from django.db import models


class WebhookOutcome(models.TextChoices):
    APPLIED = "applied", "Applied to the order"
    NO_CHANGE = "no_change", "Nothing new for the order"
    UNKNOWN_ORDER = "unknown_order", "No order of ours"
    NOT_PLACED = "not_placed", "Order not placed by us (flow not placed)"
    IGNORED_TYPE = "ignored_type", "Event type not applied"
    UNREADABLE = "unreadable", "Order data unreadable"


class MerchantWebhookEvent(models.Model):
    """One verified webhook delivery from a merchant, kept once however often it is delivered.

    A merchant retries a delivery until it sees a 2xx, so the same event may arrive several times;
    the unique (merchant_id, dedupe_key) makes "recorded once" a database fact, not a check-then-insert.
    """

    merchant_id = models.CharField(max_length=64)
    # The SHA-256 of the raw body: the official event carries no id, and a retry resends the same bytes.
    dedupe_key = models.CharField(max_length=128)
    event_type = models.CharField(max_length=64)
    order_id = models.CharField(max_length=128, blank=True, db_index=True)
    order_status = models.CharField(max_length=64, blank=True)
    payload = models.JSONField()
    signed_at = models.DateTimeField(help_text="The timestamp the merchant signed (t= of Merchant-Signature).")
    received_at = models.DateTimeField(auto_now_add=True)
    deliveries = models.PositiveIntegerField(default=1, help_text="How many times this event was delivered.")
    trace_id = models.CharField(max_length=64, blank=True)
    # The merchant's Request-Id header of the first delivery, for their support and ours.
    request_id = models.CharField(max_length=128, blank=True)
    # Set once the event was handled (ordering.order_events applies order events to the customer's
    # order); null means nobody has handled it yet and the sweeper will. `outcome` says how.
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=32, choices=WebhookOutcome.choices, blank=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(fields=["merchant_id", "dedupe_key"], name="merchant_webhook_event_once"),
        ]
        indexes = [models.Index(fields=["merchant_id", "processed_at"], name="merchant_webhook_unprocessed")]

    def __str__(self) -> str:
        return f"{self.merchant_id} {self.event_type} {self.order_id}"
