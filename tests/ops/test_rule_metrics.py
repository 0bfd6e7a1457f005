"""Every metric the rules name is one our code registers, with the labels and label values it uses.

A rule that names a metric (or a label, or a saga step) nobody exports is valid PromQL, passes promtool,
and never fires. These tests tie deploy/prometheus/rules to the code: rename a metric, drop a label or a
step, and they fail until the rules follow.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import get_resolver

from tests.ops.promql import (
    PROMETHEUS_SERIES,
    TARGET_LABELS,
    problems,
    recording_rules,
    references,
    registered_metrics,
    rule_expressions,
)

# Rules must never group or filter by something unbounded (a customer, conversation, flow, trace, order).
UNBOUNDED = re.compile(r"customer|conversation|flow_id|trace|order_id|session|user|email")


@pytest.fixture
def registered(db, client):
    client.get("/healthz")  # builds django-prometheus's middleware, which registers the request metrics
    return registered_metrics()


def _values_in_code() -> dict[tuple[str, str], set[str]]:
    """The label values the code gives, for the labels whose values the rules name."""
    import catalog_adapters.acp
    from ordering.models import CompensationStatus, EscalationReason
    from ordering.saga.base import ROUND_COMPENSATIONS, STEPS

    acp_source = Path(catalog_adapters.acp.__file__).read_text()
    operations = set(re.findall(r'operation="([a-z_]+)"', acp_source))
    steps = set(STEPS)
    return {
        ("ordering_flow_step_seconds_bucket", "step"): steps,
        ("ordering_flows_failed_total", "step"): steps,
        ("ordering_compensations_total", "action"): {*ROUND_COMPENSATIONS, "cancel_checkout"},
        ("ordering_compensations_total", "outcome"): {*CompensationStatus.values, "refused"},
        ("escalations_open", "reason"): set(EscalationReason.values),
        ("escalations_sla_breached", "reason"): set(EscalationReason.values),
        ("merchant_request_duration_seconds_bucket", "operation"): operations,
        ("merchant_call_errors_total", "operation"): operations,
        ("merchant_call_errors_total", "error_class"): {
            "client_error",
            "server_error",
            "network_error",
            "circuit_open",
            "rate_limited",
            "merchant_error",
        },
        ("merchant_requests_total", "outcome"): {"ok", "client_error", "server_error", "network_error"},
        ("ordering_llm_calls_total", "outcome"): {"ok", "timeout", "connection", "http_error", "bad_response"},
        ("merchant_circuit_transitions_total", "state"): {"open", "half_open", "closed"},
        ("django_http_responses_total_by_status_view_method_total", "view"): {
            pattern.name for pattern in _url_patterns(get_resolver()) if pattern.name
        },
    }


def _url_patterns(resolver):
    for pattern in resolver.url_patterns:
        if hasattr(pattern, "url_patterns"):
            yield from _url_patterns(pattern)
        else:
            yield pattern


def _plain_alternatives(value: str) -> list[str] | None:
    """`a|b|c` as its words; None for any other regular expression."""
    return value.split("|") if re.fullmatch(r"[\w|]+", value) else None


def test_the_extractor_reads_names_labels_and_grouping_but_not_functions_or_durations():
    ref = references(
        'histogram_quantile(0.95, sum by (step, le) (rate(x_bucket{step="a|b", le!="1"}[5m] offset 1h)))'
        " / on () group_left () (level:y:ratio > 0) or vector(0)"
    )

    assert ref.metrics == {"x_bucket", "level:y:ratio"}
    assert ref.matchers == [("x_bucket", "step", "=", "a|b"), ("x_bucket", "le", "!=", "1")]
    assert ref.grouping_labels == {"step", "le"}


def test_every_metric_and_label_the_rules_use_is_registered_by_our_code(registered):
    found = problems(rule_expressions(), registered, set(recording_rules()))

    assert not found, "\n".join(found)


def test_the_rules_use_our_core_business_metrics(registered):
    used = set().union(*(references(expr).metrics for expr in rule_expressions().values()))

    for name in (
        "ordering_flows_started_total",
        "ordering_flows_placed_total",
        "ordering_flows_failed_total",
        "ordering_compensations_total",
        "ordering_flow_step_seconds_bucket",
        "ordering_turn_seconds_bucket",
        "merchant_request_duration_seconds_bucket",
        "merchant_call_errors_total",
        "escalations_sla_breached",
        "api_dependency_unavailable_total",
    ):
        assert name in registered.series
        assert name in used, name


def test_label_values_the_rules_name_are_ones_the_code_gives(registered):
    values = _values_in_code()
    checked = 0
    for where, expr in rule_expressions().items():
        for metric, label, operator, value in references(expr).matchers:
            allowed = values.get((metric, label))
            if allowed is None:
                continue
            checked += 1
            words = _plain_alternatives(value) if operator in ("=~", "!~") else [value]
            if words is None:
                assert any(re.fullmatch(value, candidate) for candidate in allowed), (
                    f"{where}: {metric}{{{label}{operator}{value!r}}} matches none of {sorted(allowed)}"
                )
            else:
                unknown = set(words) - allowed
                assert not unknown, f"{where}: {metric} {label} has no value {sorted(unknown)}, only {sorted(allowed)}"
    assert checked >= 8


def test_rules_group_only_by_labels_that_exist_and_are_bounded(registered):
    known = set().union(*registered.labels.values()) | TARGET_LABELS | {"le"}
    for where, expr in rule_expressions().items():
        ref = references(expr)
        assert ref.grouping_labels <= known, f"{where}: unknown grouping labels {ref.grouping_labels - known}"
        for label in ref.grouping_labels | {label for _, label, _, _ in ref.matchers}:
            assert not UNBOUNDED.search(label), f"{where}: {label} is unbounded"
    assert "up" in PROMETHEUS_SERIES
