"""The human-in-the-loop queue: models.

An escalation asks a specialist to decide or repair something the assistant must not: a payment that
needs verification, a risky order, a compensation that failed. The staff console comes later; the
flows open escalations now.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class EscalationReason(models.TextChoices):
    PAYMENT_VERIFICATION = "payment_verification", "Payment needs verification"
    RISK_REVIEW = "risk_review", "Risk review"
    COMPENSATION_FAILED = "compensation_failed", "Undoing a failed order failed"
    MERCHANT_UNAVAILABLE = "merchant_unavailable", "Merchant unavailable"
    CUSTOMER_REQUEST = "customer_request", "Customer asked for a person"
    AGENT_STUCK = "agent_stuck", "Assistant could not help"


class EscalationStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLAIMED = "claimed", "Claimed"
    RESOLVED = "resolved", "Resolved"
    HANDED_BACK = "handed_back", "Handed back to the assistant"


OPEN_STATUSES = (EscalationStatus.OPEN, EscalationStatus.CLAIMED)


class Escalation(models.Model):
    reason = models.CharField(max_length=32, choices=EscalationReason.choices)
    status = models.CharField(max_length=16, choices=EscalationStatus.choices, default=EscalationStatus.OPEN)
    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="escalations")
    flow = models.ForeignKey(
        "ordering.OrderFlow", on_delete=models.PROTECT, null=True, blank=True, related_name="escalations"
    )
    conversation = models.ForeignKey(
        "ordering.Conversation", on_delete=models.PROTECT, null=True, blank=True, related_name="escalations"
    )
    detail = models.TextField(blank=True)
    trace_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            # A flow waits on at most one open escalation per reason: retries never pile up duplicates.
            models.UniqueConstraint(
                fields=["flow", "reason"],
                condition=Q(status__in=["open", "claimed"]) & Q(flow__isnull=False),
                name="escalations_one_open_per_flow_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} ({self.status})"
