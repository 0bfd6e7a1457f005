"""Conversations, the agent, order flows: models.

An `OrderFlow` is one attempt to place one order in a conversation. Its status moves only along
`FLOW_TRANSITIONS` (through `ordering.services`), each step of the placement saga leaves a `FlowStep`
row per attempt, and each foreign effect that may need undoing is registered as a `FlowCompensation`
*before* the call that creates it.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class ConversationStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    ESCALATED = "escalated", "With a specialist"
    CLOSED = "closed", "Closed"


class Conversation(models.Model):
    """A customer's chat with the assistant. The conversation API issue adds messages and the agent's state."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="conversations")
    status = models.CharField(max_length=16, choices=ConversationStatus.choices, default=ConversationStatus.ACTIVE)
    trace_id = models.CharField(max_length=64, blank=True)
    # The agent's working memory, kept here and not in any prompt: the cart (our copy of the lines we
    # sent the merchant), promo codes, shipping choice, the flow owning the checkout session, the one
    # pending clarifying question and the count of failed clarifications. Bounded by ordering.agent.state.
    agent_state = models.JSONField(default=dict, blank=True)
    # The rollout phase and experiment arm the customer was in when the conversation started
    # (ordering.rollout.assignment); null/blank for conversations from before the rollout existed.
    rollout_phase = models.PositiveSmallIntegerField(null=True, blank=True)
    rollout_arm = models.CharField(max_length=16, blank=True)
    # Set once the conversation has been quiet for ORDERING_SESSION_IDLE_SECONDS and its session was counted
    # (ordering/sessions.py: duration, conversion). A conversation is one session.
    session_ended_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The sessions sweep reads only conversations whose session is still open.
            models.Index(
                fields=["created_at"], condition=Q(session_ended_at__isnull=True), name="ordering_conv_session_open"
            )
        ]

    def __str__(self) -> str:
        return f"conversation {self.id} ({self.status})"


class MessageRole(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    ASSISTANT = "assistant", "Assistant"
    STAFF = "staff", "Staff"
    SYSTEM = "system", "System"


class Message(models.Model):
    """One message of a conversation. The conversation API issue adds cards and the agent's rationale."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    role = models.CharField(max_length=16, choices=MessageRole.choices)
    text = models.TextField()
    # Structured content for the widget (a flow outcome, a preview); never card data or secrets.
    data = models.JSONField(default=dict, blank=True)
    # The customer turn this message belongs to (its question or one of its answers), if any.
    turn = models.ForeignKey(
        "ConversationTurn", on_delete=models.SET_NULL, null=True, blank=True, related_name="messages"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.role}: {self.text[:40]}"


class FlowStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PREVIEWED = "previewed", "Previewed"
    CONFIRMED = "confirmed", "Confirmed"
    PLACING = "placing", "Placing"
    PLACED = "placed", "Placed"
    REQUIRES_ACTION = "requires_action", "Requires action"
    FAILED = "failed", "Failed"
    COMPENSATING = "compensating", "Compensating"
    COMPENSATED = "compensated", "Compensated"
    ESCALATED = "escalated", "Escalated"
    CANCELED = "canceled", "Canceled"
    EXPIRED = "expired", "Expired"


S = FlowStatus
# Every allowed move. Anything else is a bug or a race, and is refused loudly.
FLOW_TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.PREVIEWED, S.CANCELED, S.EXPIRED}),
    # previewed -> previewed: the cart or the merchant's prices changed, so a new preview replaces it.
    S.PREVIEWED: frozenset({S.PREVIEWED, S.CONFIRMED, S.CANCELED, S.EXPIRED}),
    S.CONFIRMED: frozenset({S.PLACING, S.CANCELED, S.FAILED, S.EXPIRED}),
    # placing -> previewed: the merchant's totals drifted from the confirmed preview; ask again.
    S.PLACING: frozenset({S.PLACED, S.PREVIEWED, S.REQUIRES_ACTION, S.FAILED, S.ESCALATED}),
    S.REQUIRES_ACTION: frozenset({S.PLACING, S.FAILED, S.ESCALATED, S.CANCELED, S.EXPIRED}),
    S.FAILED: frozenset({S.COMPENSATING}),
    S.COMPENSATING: frozenset({S.COMPENSATED, S.ESCALATED}),
    # A specialist approves (placing), retries, or cancels with compensations.
    S.ESCALATED: frozenset({S.PLACING, S.COMPENSATING, S.COMPENSATED, S.CANCELED, S.PLACED}),
    S.PLACED: frozenset(),
    S.COMPENSATED: frozenset(),
    S.CANCELED: frozenset(),
    S.EXPIRED: frozenset(),
}
del S

TERMINAL_FLOW_STATUSES = frozenset(status for status, targets in FLOW_TRANSITIONS.items() if not targets)
# Statuses in which nothing has been placed and a revoked grant must stop the flow.
NOT_YET_PLACED_STATUSES = frozenset(
    {
        FlowStatus.DRAFT,
        FlowStatus.PREVIEWED,
        FlowStatus.CONFIRMED,
        FlowStatus.PLACING,
        FlowStatus.REQUIRES_ACTION,
        FlowStatus.ESCALATED,
    }
)


class WaitingFor(models.TextChoices):
    """What a flow stopped for (requires action or escalated): not a failure, the one thing that moves it on.

    Set with the move into REQUIRES_ACTION or ESCALATED and cleared with the move out of them
    (`ordering.transitions.flow_transition` does both), so code asks this field, never `failure_code`,
    which names only what actually failed.
    """

    NOTHING = "", "Nothing"
    STEP_UP = "step_up", "The customer's step-up code"
    RISK_REVIEW = "risk_review", "A specialist's risk decision"
    PAYMENT_VERIFICATION = "payment_verification", "The payment's verification"
    SPECIALIST = "specialist", "A specialist to repair it"


# The statuses in which a flow waits for something (WaitingFor); in any other, waiting_for is "".
WAITING_STATUSES = frozenset({FlowStatus.REQUIRES_ACTION, FlowStatus.ESCALATED})


class EscalationReason(models.TextChoices):
    """Why ordering asks for a person (`ordering.hooks.person_needed`); escalations files it under this reason."""

    PAYMENT_VERIFICATION = "payment_verification", "Payment needs verification"
    RISK_REVIEW = "risk_review", "Risk review"
    COMPENSATION_FAILED = "compensation_failed", "Undoing a failed order failed"
    MERCHANT_UNAVAILABLE = "merchant_unavailable", "Merchant unavailable"
    CUSTOMER_REQUEST = "customer_request", "Customer asked for a person"
    AGENT_STUCK = "agent_stuck", "Assistant could not help"


class ConfirmationChannel(models.TextChoices):
    BUTTON = "button", "Confirm button"
    TYPED = "typed", "Typed confirmation"
    AUTO_CHECKOUT = "auto_checkout", "Auto-checkout grant"
    STAFF = "staff", "Approved by staff"


class OrderFlow(models.Model):
    """One attempt to place one order, and (once placed) the order as the shop later reports it.

    `status` is the placement saga's: did we get an order placed, and what of our own work must be
    undone. PLACED is terminal on purpose: from then on the order belongs to the merchant, whose order
    status is an open list (ACP: "accept unrecognized values gracefully") that moves in any direction
    (processing, shipped, completed, canceled) and whose refunds can arrive on any of them. Mirroring
    that into FLOW_TRANSITIONS would need edges out of a terminal state and would make the saga's
    sweeper, compensations and "is it placed?" checks reason about the shop's fulfilment. So a merchant
    cancel or refund is recorded in `merchant_order_status` and `refunded_amount` (and one
    `FlowOrderAdjustment` per merchant adjustment), written only by `ordering.order_events`; the flow
    stays PLACED, which remains true: the order was placed and charged, then canceled or refunded by the shop.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="order_flows")
    conversation = models.ForeignKey(Conversation, on_delete=models.PROTECT, related_name="flows")
    merchant_id = models.CharField(max_length=64)
    checkout_session_id = models.CharField(max_length=128)
    status = models.CharField(max_length=20, choices=FlowStatus.choices, default=FlowStatus.DRAFT, db_index=True)
    # The preview as the customer saw it (lines, totals, address, payment method: all from the
    # merchant's session and our vault references), and the hash of its canonical JSON.
    payment_method = models.ForeignKey(
        "consent.PaymentMethod", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    shipping_address = models.ForeignKey(
        "consent.Address", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    preview = models.JSONField(default=dict, blank=True)
    preview_hash = models.CharField(max_length=64, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    total_amount = models.PositiveBigIntegerField(null=True, blank=True)
    confirmed_hash = models.CharField(max_length=64, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_via = models.CharField(max_length=16, choices=ConfirmationChannel.choices, blank=True)
    # Each confirmation is a new placement round with its own spend reservation and merchant keys
    # (after a price change the customer confirms again, and the old round's keys must not replay).
    confirmations = models.PositiveSmallIntegerField(default=0)
    # A specialist approved a risk review: the risk step lets this round through.
    risk_approved_by = models.CharField(max_length=64, blank=True)
    # A specialist verified the payment with the customer (3-D Secure): the next payment attempt of
    # this round mints a fresh token and completes with an authentication result, under new keys.
    payment_verified_by = models.CharField(max_length=64, blank=True)
    payment_attempt = models.PositiveSmallIntegerField(default=0)
    # What the next complete sends as ACP `authentication_result`: the issuer's result the merchant
    # returned for the customer's challenge, or the outcome two specialists vouched for. Empty: none.
    payment_authentication_result = models.JSONField(default=dict, blank=True)
    # Why the payment counts as verified (kind customer_challenge or staff_two_person, who, when, which
    # merchant result): never a bare click. Kept after placing, for whoever reads the order later.
    payment_verification_evidence = models.JSONField(default=dict, blank=True)
    merchant_order_id = models.CharField(max_length=128, blank=True)
    placed_at = models.DateTimeField(null=True, blank=True)
    # The order's life after placing, as the merchant reports it in its order webhooks
    # (ordering.order_events): its status in the shop's words (confirmed, shipped, canceled...) and how
    # much of the charge came back (refunds and cancellations applied, in minor units of `currency`).
    # Kept beside `status`, not in it: see `OrderFlow` for why PLACED stays terminal.
    merchant_order_status = models.CharField(max_length=32, blank=True)
    merchant_order_updated_at = models.DateTimeField(null=True, blank=True)
    refunded_amount = models.PositiveBigIntegerField(default=0)
    # What actually failed (a declined card, a revoked grant, a hold released); never a wait.
    failure_code = models.CharField(max_length=64, blank=True)
    # Why the flow stopped, failed or waiting, for the person who reads it.
    failure_detail = models.TextField(blank=True)
    # What a flow in REQUIRES_ACTION or ESCALATED waits for ("" in every other status).
    waiting_for = models.CharField(max_length=32, choices=WaitingFor.choices, blank=True, default="")
    # The saga's recovery point: the step to run next, and until when a worker holds it.
    next_step = models.CharField(max_length=32, blank=True)
    step_lease_until = models.DateTimeField(null=True, blank=True)
    trace_id = models.CharField(max_length=64, blank=True)
    # Copied from the conversation when the flow starts: the phase and arm its outcome counts for.
    rollout_phase = models.PositiveSmallIntegerField(null=True, blank=True)
    rollout_arm = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One flow per merchant order: a second flow can never claim an order already recorded.
            models.UniqueConstraint(
                fields=["merchant_id", "merchant_order_id"],
                condition=~Q(merchant_order_id=""),
                name="ordering_one_flow_per_merchant_order",
            ),
            models.CheckConstraint(
                condition=~Q(status="placed") | ~Q(merchant_order_id=""),
                name="ordering_placed_flow_has_order_id",
            ),
            models.CheckConstraint(
                condition=Q(waiting_for="") | Q(status__in=("requires_action", "escalated")),
                name="ordering_only_a_stopped_flow_waits",
            ),
        ]
        permissions = [
            # The staff console's ops page and trace lookup (ordering/ops): numbers and stories across
            # every customer, so not part of the support group's everyday permissions.
            ("view_operations", "Can view the ops page and look up traces"),
        ]

    def __str__(self) -> str:
        return f"flow {self.id} ({self.status})"

    def can_become(self, status: str) -> bool:
        return status in FLOW_TRANSITIONS[FlowStatus(self.status)]


class FlowOrderAdjustment(models.Model):
    """A merchant adjustment of a placed order (refund, cancellation) that we applied: told, credited, audited.

    One row per (flow, merchant adjustment id): the unique constraint is what makes a webhook delivered
    twice, or two events racing, tell the customer and give money back to the caps once. Cancellations
    or refunds the merchant reports without an adjustment id get a derived one (`canceled`,
    `amount_refunded:<cumulative>`).
    """

    flow = models.ForeignKey(OrderFlow, on_delete=models.PROTECT, related_name="order_adjustments")
    adjustment_id = models.CharField(max_length=128)
    type = models.CharField(max_length=32)
    # What the merchant reported, and what went back to the spend caps (never more than was charged).
    amount = models.PositiveBigIntegerField()
    credited = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    webhook_event_id = models.BigIntegerField(null=True, blank=True)
    applied_at = models.DateTimeField()

    class Meta:
        ordering = ["applied_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["flow", "adjustment_id"], name="ordering_order_adjustment_once"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.adjustment_id} of flow {self.flow_id}"


class PaymentChallengeStatus(models.TextChoices):
    PENDING = "pending", "Waiting for the customer"
    AUTHENTICATED = "authenticated", "Authenticated by the issuer"
    FAILED = "failed", "Not authenticated"


class PaymentChallenge(models.Model):
    """One 3-D Secure challenge the customer was sent to, at the merchant's authentication provider.

    Created when the customer opens the link in the chat; answered once, by the merchant's signed
    result coming back to our callback (`ordering.payment_verification`). A result for a challenge
    that is not pending (used, failed) is refused: the callback is one-time.
    """

    flow = models.ForeignKey(OrderFlow, on_delete=models.CASCADE, related_name="payment_challenges")
    authentication_session_id = models.CharField(max_length=128, unique=True)
    payment_attempt = models.PositiveSmallIntegerField()
    status = models.CharField(
        max_length=16, choices=PaymentChallengeStatus.choices, default=PaymentChallengeStatus.PENDING
    )
    # The provider's status when it answered (authenticated, not_authenticated, challenge_abandoned...).
    outcome = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.authentication_session_id} ({self.status})"


class StepStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class FlowStep(models.Model):
    """One attempt of one saga step (or compensation) of a flow: the record staff read when things fail."""

    flow = models.ForeignKey(OrderFlow, on_delete=models.CASCADE, related_name="steps")
    name = models.CharField(max_length=32)
    is_compensation = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=StepStatus.choices, default=StepStatus.RUNNING)
    attempt = models.PositiveSmallIntegerField()
    # Stable across attempts of the same logical call: the merchant deduplicates on it.
    idempotency_key = models.CharField(max_length=255, blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    error_class = models.CharField(max_length=32, blank=True)
    error_detail = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True)
    trace_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["started_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["flow", "name", "attempt"], name="ordering_step_attempt_once"),
        ]

    def __str__(self) -> str:
        return f"{self.name} #{self.attempt} {self.status}"


class CompensationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DONE = "done", "Done"
    NOT_NEEDED = "not_needed", "Not needed"
    FAILED = "failed", "Failed"


class FlowCompensation(models.Model):
    """An undo registered before the foreign call it undoes; run in reverse order when the flow fails.

    A failing undo keeps trying (`retry_at`) until it has failed for ORDERING_UNDO_GIVE_UP_SECONDS since
    `failing_since`; then it gives up (`gave_up_at`) and a person owns it (a `compensation_failed`
    escalation) until they retry it. `attempts` counts tries that reached the merchant (or our ledger):
    refusals by our own breaker or rate limit, which send nothing, are not attempts.
    """

    flow = models.ForeignKey(OrderFlow, on_delete=models.CASCADE, related_name="compensations")
    action = models.CharField(max_length=32)
    # The placement round whose effect this undoes (0: the whole flow, e.g. the checkout session).
    # A later round never runs an earlier round's undo against its own effects, nor the reverse.
    placement_round = models.PositiveSmallIntegerField(default=0)
    # What to undo at the merchant or in our ledger (a session id, a token id, a flow reference).
    target_ref = models.CharField(max_length=255)
    status = models.CharField(max_length=16, choices=CompensationStatus.choices, default=CompensationStatus.PENDING)
    registered_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # Nobody tries it before this time: a retry's due time (backoff, or our breaker's half-open time), or
    # the lease of the worker trying it now, so two workers never run the same undo at once. Null: due.
    retry_at = models.DateTimeField(null=True, blank=True)
    # When its current run of failures began (the give-up deadline counts from here), and when it gave
    # up and was handed to a person (the sweeper leaves it alone from then on).
    failing_since = models.DateTimeField(null=True, blank=True)
    gave_up_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["registered_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["flow", "action", "target_ref"], name="ordering_compensation_once"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.target_ref} ({self.status})"


class TurnStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ConversationTurn(models.Model):
    """One customer message and the assistant's answer to it.

    The row is committed (status queued, with the customer's message) before the agent works, and a
    worker runs it (queued -> running -> done | failed), so a retried post with the same Idempotency-Key
    finds it and answers the same turn. Only one turn per conversation is queued or running at a time
    (the partial unique constraint), so two tabs cannot interleave cart edits.
    """

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="turns")
    idempotency_key = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=16, choices=TurnStatus.choices, default=TurnStatus.QUEUED)
    # The widget's structured command sent with the text, if any (ordering/agent/commands.py wire form).
    command = models.JSONField(null=True, blank=True)
    planner = models.CharField(max_length=32, blank=True)
    # The answer exactly as first returned, for replays.
    response = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["started_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="ordering_turn_idempotency_key_once",
            ),
            models.UniqueConstraint(
                fields=["conversation"],
                condition=Q(status__in=["queued", "running"]),
                name="ordering_one_running_turn_per_conversation",
            ),
        ]

    def __str__(self) -> str:
        return f"turn {self.pk} ({self.status})"


class DecisionKind(models.TextChoices):
    TOOL = "tool", "Tool call"
    CONFIRMATION = "confirmation", "Confirmation"
    CLARIFICATION = "clarification", "Clarifying question"
    HANDOVER = "handover", "Hand-over"
    RULE = "rule", "Rule"


class AgentDecision(models.Model):
    """What the agent did in a turn and why, in words a specialist can read (never a secret)."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="decisions")
    turn = models.ForeignKey(ConversationTurn, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    kind = models.CharField(max_length=16, choices=DecisionKind.choices)
    name = models.CharField(max_length=64)
    arguments = models.JSONField(default=dict, blank=True)
    rationale = models.TextField(blank=True)
    ok = models.BooleanField(default=True)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    planner = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"


class ConversationRating(models.Model):
    """The customer's satisfaction score for a conversation (one per conversation; a new score replaces it)."""

    conversation = models.OneToOneField(Conversation, on_delete=models.CASCADE, related_name="rating")
    score = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(score__gte=1) & Q(score__lte=5), name="ordering_rating_score_1_to_5"),
        ]

    def __str__(self) -> str:
        return f"{self.score}/5"


# -- rollout (phases 0-3, the assistant-vs-checkout experiment, the kill switch) -----------------------


class RolloutPhase(models.IntegerChoices):
    INTERNAL = 0, "0 · internal (staff only, sandbox payments)"
    BETA = 1, "1 · beta cohort"
    AB = 2, "2 · A/B against the traditional checkout"
    EVERYONE = 3, "3 · everyone"


class RolloutArm(models.TextChoices):
    ASSISTANT = "assistant", "Assistant"
    CONTROL = "control", "Traditional checkout"


# Conversation.rollout_arm / OrderFlow.rollout_arm of staff in phases 0-2: they use the assistant but are
# not part of the experiment (no ExperimentEvent), and the metrics count them apart.
ARM_INTERNAL = "internal"


class RolloutSettings(models.Model):
    """The one row (pk=1) operators change in the admin; every change is audited (ordering.rollout.services).

    With no row, `settings.ORDERING_ROLLOUT_DEFAULT_PHASE` applies with these field defaults."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    phase = models.PositiveSmallIntegerField(choices=RolloutPhase.choices, default=RolloutPhase.EVERYONE)
    # Phase 1: the share of customers (by stable bucket) in the beta cohort.
    beta_percent = models.PositiveSmallIntegerField(default=5)
    # Phase 2: the share of customers given the assistant; the rest are the control arm.
    assistant_percent = models.PositiveSmallIntegerField(default=50)
    # The kill switch: on, the assistant takes no new orders (flows already placing finish).
    kill_switch = models.BooleanField(default=False)
    kill_switch_reason = models.CharField(max_length=255, blank=True)
    # Phase 1: what one chat session may order in total (minor units of the order's currency), below the
    # customer's own caps; phase 0 needs no ceiling: it places orders with sandbox merchants only.
    beta_session_ceiling = models.PositiveBigIntegerField(default=10000)
    # Gates (ordering.rollout.gates): the current phase's SLOs over the last `gate_window_hours`, with at
    # least `gate_min_flows` flows, before the next phase may start.
    gate_window_hours = models.PositiveSmallIntegerField(default=24)
    gate_min_flows = models.PositiveIntegerField(default=20)
    # Order completion (placed / started flows) of the assistant: at least this, and (phase 2) at least the
    # control arm's checkout completion.
    gate_ocr_floor_percent = models.PositiveSmallIntegerField(default=60)
    # The payment step (complete_checkout) p95, in milliseconds.
    gate_payment_p95_ms = models.PositiveIntegerField(default=2000)
    # Flows that needed a person, per 100 flows.
    gate_escalation_percent = models.PositiveSmallIntegerField(default=5)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.CharField(max_length=150, blank=True)

    class Meta:
        verbose_name = "rollout settings"
        verbose_name_plural = "rollout settings"
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="ordering_rollout_settings_single_row"),
            models.CheckConstraint(condition=Q(beta_percent__lte=100), name="ordering_rollout_beta_percent_max"),
            models.CheckConstraint(
                condition=Q(assistant_percent__lte=100), name="ordering_rollout_assistant_percent_max"
            ),
            models.CheckConstraint(
                condition=Q(gate_ocr_floor_percent__lte=100, gate_escalation_percent__lte=100),
                name="ordering_rollout_gate_percent_max",
            ),
        ]

    def __str__(self) -> str:
        return f"rollout phase {self.phase}"


class ExperimentEventKind(models.TextChoices):
    SESSION_STARTED = "session_started", "Session started"  # a conversation, or a storefront cart
    CHECKOUT_STARTED = "checkout_started", "Checkout started"  # a flow started, or the checkout page
    ORDER_PLACED = "order_placed", "Order placed"


class ExperimentChannel(models.TextChoices):
    ASSISTANT = "assistant", "Assistant"
    STOREFRONT = "storefront", "Shop checkout"


class ExperimentEvent(models.Model):
    """One step of a customer's funnel in one arm: what the A/B report compares (OCR, conversion, AOV).

    Both arms write the same kinds: the assistant from its conversations and flows, the traditional
    checkout (control) from the storefront. Append-only by convention; never updated."""

    id = models.BigAutoField(primary_key=True)
    experiment = models.CharField(max_length=64)
    arm = models.CharField(max_length=16, choices=RolloutArm.choices)
    phase = models.PositiveSmallIntegerField(choices=RolloutPhase.choices)
    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=24, choices=ExperimentEventKind.choices)
    # Where it happened: the assistant, or the shop's own (traditional) checkout. A customer in the
    # assistant arm may still use the shop's checkout; conversion per arm counts both channels.
    channel = models.CharField(max_length=16, choices=ExperimentChannel.choices)
    conversation = models.ForeignKey(Conversation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    flow = models.ForeignKey(OrderFlow, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    order_ref = models.CharField(max_length=128, blank=True)
    amount = models.PositiveBigIntegerField(null=True, blank=True)  # minor units, for order_placed
    currency = models.CharField(max_length=3, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["experiment", "arm", "kind", "created_at"])]

    def __str__(self) -> str:
        return f"{self.experiment}/{self.arm}: {self.kind}"


class ABReport(ExperimentEvent):
    """The A/B report's page in the staff console (ordering.rollout.report); no rows of its own.

    A proxy, so the page has its own view permission (`ordering.view_abreport`) to give to whoever reads it."""

    class Meta:
        proxy = True
        verbose_name = "A/B report"
        verbose_name_plural = "A/B report"
