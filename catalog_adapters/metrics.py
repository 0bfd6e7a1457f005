"""Prometheus metrics of merchant calls (exported at /metrics with django-prometheus's registry)."""

from prometheus_client import Counter, Histogram

REQUEST_DURATION = Histogram(
    "merchant_request_duration_seconds",
    "Latency of one HTTP request to a merchant (each attempt), by merchant and operation.",
    ["merchant", "operation"],
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
REQUESTS = Counter(
    "merchant_requests_total",
    "HTTP requests sent to a merchant (each attempt), by outcome: ok, client_error, server_error, network_error.",
    ["merchant", "operation", "outcome"],
)
CALL_ERRORS = Counter(
    "merchant_call_errors_total",
    "Logical merchant calls that failed after retries, by error class "
    "(client_error, server_error, network_error, circuit_open, rate_limited).",
    ["merchant", "operation", "error_class"],
)
RETRIES = Counter(
    "merchant_retries_total",
    "Retries of a merchant request (attempts after the first), by merchant and operation.",
    ["merchant", "operation"],
)
CIRCUIT_TRANSITIONS = Counter(
    "merchant_circuit_transitions_total",
    "Circuit breaker transitions seen by this process, by the state entered: open, half_open, closed.",
    ["merchant", "state"],
)
RATE_LIMIT_WAIT = Histogram(
    "merchant_rate_limit_wait_seconds",
    "Time a request waited for our own outbound rate limit of a merchant.",
    ["merchant"],
    buckets=(0.0, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0),
)
