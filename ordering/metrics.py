"""Business metrics of order flows, exported at /metrics with django-prometheus's registry."""

from prometheus_client import Counter, Histogram

flows_started = Counter("ordering_flows_started_total", "Order flows started", ["merchant"])
flows_placed = Counter("ordering_flows_placed_total", "Order flows that placed a merchant order", ["merchant"])
flows_failed = Counter(
    "ordering_flows_failed_total", "Order flows that failed, by the step and error class", ["step", "error_class"]
)
flow_outcomes = Counter(
    "ordering_flow_outcomes_total", "How placement rounds ended (placed, repreviewed, requires_action, …)", ["outcome"]
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
