"""The human-in-the-loop queue: models.

An escalation asks a specialist to decide or repair something the assistant must not: a payment that
needs verification, a risky order, a compensation that failed. Rows change only through
`escalations.services`; the status moves only along `ESCALATION_TRANSITIONS`.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

# Why a person is needed is ordering's word: it asks through ordering.hooks.person_needed.
from ordering.models import EscalationReason


class EscalationStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLAIMED = "claimed", "Claimed"
    RESOLVED = "resolved", "Resolved"
    HANDED_BACK = "handed_back", "Handed back to the assistant"


OPEN_STATUSES = (EscalationStatus.OPEN, EscalationStatus.CLAIMED)

_E = EscalationStatus
# Every allowed move. claimed -> claimed is a colleague taking an escalation over; claimed -> open is
# its assignee putting it back in the queue. Resolved and handed back are final.
ESCALATION_TRANSITIONS: dict[str, frozenset[str]] = {
    _E.OPEN: frozenset({_E.CLAIMED}),
    _E.CLAIMED: frozenset({_E.CLAIMED, _E.OPEN, _E.RESOLVED, _E.HANDED_BACK}),
    _E.RESOLVED: frozenset(),
    _E.HANDED_BACK: frozenset(),
}
del _E


class EscalationPriority(models.TextChoices):
    URGENT = "urgent", "Urgent"
    HIGH = "high", "High"
    NORMAL = "normal", "Normal"
    LOW = "low", "Low"


PRIORITY_RANK = {
    EscalationPriority.URGENT: 1,
    EscalationPriority.HIGH: 2,
    EscalationPriority.NORMAL: 3,
    EscalationPriority.LOW: 4,
}


class ResolutionCode(models.TextChoices):
    ORDER_PLACED = "order_placed", "Order placed"
    ORDER_CANCELED = "order_canceled", "Order canceled"
    UNDO_COMPLETED = "undo_completed", "Undo completed"
    CUSTOMER_HELPED = "customer_helped", "Customer helped, order unchanged"
    DUPLICATE = "duplicate", "Duplicate of another escalation"
    NO_ACTION_NEEDED = "no_action_needed", "No action needed"
    HANDED_BACK = "handed_back", "Handed back to the assistant"


class Escalation(models.Model):
    reason = models.CharField(max_length=32, choices=EscalationReason.choices)
    status = models.CharField(max_length=16, choices=EscalationStatus.choices, default=EscalationStatus.OPEN)
    priority = models.CharField(
        max_length=8, choices=EscalationPriority.choices, default=EscalationPriority.NORMAL, db_index=True
    )
    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="escalations")
    flow = models.ForeignKey(
        "ordering.OrderFlow", on_delete=models.PROTECT, null=True, blank=True, related_name="escalations"
    )
    conversation = models.ForeignKey(
        "ordering.Conversation", on_delete=models.PROTECT, null=True, blank=True, related_name="escalations"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_escalations",
    )
    detail = models.TextField(blank=True)
    trace_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    # When it must be resolved or handed back by: created_at plus the SLA of its priority.
    sla_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # The first time staff did something for the customer: a reply, a decision on the order, a hand back.
    first_response_at = models.DateTimeField(null=True, blank=True)
    # When it left the queue, resolved or handed back.
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_code = models.CharField(max_length=32, choices=ResolutionCode.choices, blank=True)
    resolution_note = models.TextField(blank=True)
    # Set when the support group was told about it: the notification task sends at most once.
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["sla_due_at", "created_at"]
        constraints = [
            # A flow waits on at most one open escalation per reason: retries never pile up duplicates.
            models.UniqueConstraint(
                fields=["flow", "reason"],
                condition=Q(status__in=["open", "claimed"]) & Q(flow__isnull=False),
                name="escalations_one_open_per_flow_reason",
            ),
            # Without a flow, one open escalation per conversation and reason (the customer asked twice).
            models.UniqueConstraint(
                fields=["conversation", "reason"],
                condition=Q(status__in=["open", "claimed"]) & Q(flow__isnull=True) & Q(conversation__isnull=False),
                name="escalations_one_open_per_conversation_reason",
            ),
            # Claimed means someone holds it; open means nobody does.
            models.CheckConstraint(
                condition=~Q(status="claimed") | Q(assignee__isnull=False),
                name="escalations_claimed_has_assignee",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "sla_due_at"], name="escalations_queue"),
        ]
        permissions = [
            ("work_escalation", "Can work escalations: claim, reply, decide orders, hand back, resolve"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_reason_display()} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in OPEN_STATUSES

    def can_become(self, status: str) -> bool:
        return status in ESCALATION_TRANSITIONS[EscalationStatus(self.status)]


class PaymentVerification(models.Model):
    """Two specialists' evidence that a 3-D Secure payment was verified with the customer.

    The first records how they verified it (`note`, required); it takes effect only when a different
    specialist confirms it, and then exactly once: one row per payment attempt of a flow, confirmed at
    most once (`escalations.services.escalation_payment_verification_*`).
    """

    escalation = models.ForeignKey(Escalation, on_delete=models.PROTECT, related_name="payment_verifications")
    flow = models.ForeignKey("ordering.OrderFlow", on_delete=models.PROTECT, related_name="+")
    payment_attempt = models.PositiveSmallIntegerField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    note = models.TextField()
    recorded_at = models.DateTimeField(auto_now_add=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["recorded_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["flow", "payment_attempt"], name="escalations_one_verification_per_attempt"
            ),
            # Four eyes: whoever confirms is never whoever recorded.
            models.CheckConstraint(
                condition=Q(confirmed_by__isnull=True) | ~Q(confirmed_by=models.F("recorded_by")),
                name="escalations_verification_confirmed_by_another",
            ),
        ]

    def __str__(self) -> str:
        return f"verification of flow {self.flow_id} attempt {self.payment_attempt}"

    @property
    def is_pending(self) -> bool:
        return self.confirmed_at is None
