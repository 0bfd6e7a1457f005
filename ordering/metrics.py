"""Business metrics of order flows, exported at /metrics with django-prometheus's registry."""

from prometheus_client import Counter, Histogram

# `phase` and `arm`: the rollout phase and experiment arm the flow started in (ordering.rollout), bounded:
# phase 0-3 or "none" (a flow from before the rollout), arm assistant, internal (staff outside the
# experiment) or "none". The alert rules sum them away; the OCR per phase and arm is a recording rule.
ROLLOUT = ["phase", "arm"]
flows_started = Counter("ordering_flows_started_total", "Order flows started", ["merchant", *ROLLOUT])
flows_placed = Counter(
    "ordering_flows_placed_total", "Order flows that placed a merchant order", ["merchant", *ROLLOUT]
)
flows_failed = Counter(
    "ordering_flows_failed_total",
    "Order flows that failed, by the step and error class",
    ["step", "error_class", *ROLLOUT],
)
flow_outcomes = Counter(
    "ordering_flow_outcomes_total",
    "How placement rounds ended (placed, repreviewed, requires_action, …)",
    ["outcome", *ROLLOUT],
)
compensations = Counter(
    "ordering_compensations_total", "Compensations run, by action and outcome", ["action", "outcome"]
)
step_seconds = Histogram(
    "ordering_flow_step_seconds",
    "Time one saga step attempt took",
    ["step", "status"],
    # 2 s is a bucket of its own: the payment alert (deploy/prometheus) fires on a p95 above it.
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 2.5, 5, 10, 30, 60),
)
order_value = Histogram(
    "ordering_order_value_minor_units",
    "Placed order totals in minor units",
    ["currency"],
    buckets=(1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000),
)
holds_released = Counter(
    "ordering_holds_released_total",
    "Carts and previews whose merchant stock hold we released before any order, by why (ordering/holds.py)",
    ["reason"],
)

# Why a flow failed (ordering_flows_failed_total's error_class): the customer's or the shop's answer, then
# the technical classes of catalog_adapters/errors.py and our own.
FAILURE_CLASSES = (
    "consent",
    "spend",
    "business",
    "client_error",
    "server_error",
    "network_error",
    "circuit_open",
    "rate_limited",
    "merchant_error",
    "internal_error",
)
FLOW_OUTCOMES = ("placed", "failed", "repreviewed", "requires_action", "escalated")
ROLLOUT_PHASES = ("0", "1", "2", "3")
ROLLOUT_ARMS = ("assistant", "internal")


def rollout_labels(flow) -> dict[str, str]:
    """The flow's `phase` and `arm` labels (bounded: see ROLLOUT above); never an id."""
    phase = flow.rollout_phase
    arm = flow.rollout_arm if flow.rollout_arm in (*ROLLOUT_ARMS, "control") else ""
    return {"phase": str(phase) if phase in (0, 1, 2, 3) else "none", "arm": arm or "none"}


def _rollout_label_sets() -> list[dict[str, str]]:
    return [{"phase": "none", "arm": "none"}] + [
        {"phase": phase, "arm": arm} for phase in ROLLOUT_PHASES for arm in ROLLOUT_ARMS
    ]


def metrics_create_known_series(*, merchant_ids: list[str]) -> None:
    """Create every label combination the alert rules read, at zero, when a process starts.

    A labelled series exists only after its first increment, so the first placement (or failure, or undo
    step) after a restart would be a lone sample, invisible to rate() and increase(). With the series at
    0 from the start, that first event is a step from 0 to 1. The label values are bounded: configured
    merchants, the saga's steps, its undo kinds and outcomes.
    """
    from ordering.holds import HOLD_IDLE, HOLD_LIMIT
    from ordering.models import CompensationStatus, StepStatus
    from ordering.saga.base import ROUND_COMPENSATIONS, STEPS

    rollout = _rollout_label_sets()
    for merchant in merchant_ids:
        for labels in rollout:
            flows_started.labels(merchant=merchant, **labels)
            flows_placed.labels(merchant=merchant, **labels)
    for step in STEPS:
        for error_class in FAILURE_CLASSES:
            # Failures by phase for the assistant arm (and flows from before the rollout); staff's are rare
            # enough to appear on their first increment.
            for labels in rollout:
                if labels["arm"] != "internal":
                    flows_failed.labels(step=step, error_class=error_class, **labels)
        for status in (StepStatus.SUCCEEDED, StepStatus.FAILED):
            step_seconds.labels(step=step, status=status)
    for outcome in FLOW_OUTCOMES:
        for labels in rollout:
            flow_outcomes.labels(outcome=outcome, **labels)
    undo_outcomes = [value for value in CompensationStatus.values if value != CompensationStatus.PENDING]
    for action in (*ROUND_COMPENSATIONS, "cancel_checkout"):
        for outcome in (*undo_outcomes, "refused"):
            compensations.labels(action=action, outcome=outcome)
    for reason in (HOLD_LIMIT, HOLD_IDLE):
        holds_released.labels(reason=reason)
    for step in TURN_STEPS:
        for error_class in FAILURE_CLASSES:
            turn_step_failures.labels(step=step, error_class=error_class)
    for purchase in PURCHASE_HISTORY:
        orders_by_history.labels(purchase=purchase)
    for converted in ("true", "false"):
        session_seconds.labels(converted=converted)
        for arm in SESSION_ARMS:
            for phase in SESSION_PHASES:
                sessions_ended.labels(converted=converted, arm=arm, phase=phase)


# -- the customer's journey around the saga (issue #17) ------------------------------------------------

# Failures before a flow's saga, in the turn's own work with the shop: finding products (catalog), building
# the cart (cart) and the merchant's pricing of the preview (pricing). The saga's steps are in
# ordering_flows_failed_total; the recording rules put both on one "failures per 100 flows by step" scale.
TURN_STEPS = ("catalog", "cart", "pricing")
turn_step_failures = Counter(
    "ordering_turn_step_failures_total",
    "Shop calls that failed in a chat turn, by the step they belong to (catalog, cart, pricing) and error class",
    ["step", "error_class"],
)
confirm_to_placed = Histogram(
    "ordering_confirm_to_placed_seconds",
    "From the customer's confirmation of a preview to the merchant's order number",
    buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900),
)
# A placed order by a customer who had placed one before (repeat) or not (first).
orders_by_history = Counter(
    "ordering_orders_placed_by_history_total", "Placed orders, by whether the customer had ordered before", ["purchase"]
)
PURCHASE_HISTORY = ("first", "repeat")
# A conversation's session ends once it has been quiet for ORDERING_SESSION_IDLE_SECONDS (ordering/sessions.py).
# `converted`: an order was placed in it. Arm and phase: the rollout's (ordering/rollout), "none" before it.
sessions_ended = Counter(
    "ordering_sessions_ended_total",
    "Chat sessions that ended (went quiet), by whether they placed an order, and the rollout arm and phase",
    ["converted", "arm", "phase"],
)
session_seconds = Histogram(
    "ordering_session_duration_seconds",
    "A chat session's length, from its first message to its last",
    ["converted"],
    buckets=(30, 60, 120, 300, 600, 900, 1800, 3600, 7200),
)
SESSION_ARMS = ("assistant", "control", "internal", "none")
SESSION_PHASES = ("0", "1", "2", "3", "none")
