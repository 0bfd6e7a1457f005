"""Business metrics of the conversation layer, exported at /metrics with django-prometheus's registry."""

from prometheus_client import Counter, Histogram

csat_scores = Histogram(
    "ordering_csat_score", "Customer satisfaction scores given after a conversation (1..5)", buckets=(1, 2, 3, 4, 5)
)
turn_seconds = Histogram(
    "ordering_turn_seconds",
    "Time the assistant took to answer one customer message",
    ["planner"],
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
tool_calls = Counter("ordering_agent_tool_calls_total", "Tool calls made by planners", ["tool", "ok"])
handovers = Counter("ordering_agent_handovers_total", "Conversations handed to a person", ["reason"])
turns_unanswered = Counter(
    "ordering_agent_turns_unanswered_total",
    "Turns that would have ended without an answer and were given the fallback answer instead",
    ["planner"],
)
