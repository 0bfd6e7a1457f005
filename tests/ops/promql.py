"""What the Prometheus rules and the Grafana dashboard refer to, and what our code registers.

The rules and panels name metrics by string; nothing but these tests notices when code renames a metric,
drops a label or a saga step, and an alert that refers to a name nobody exports never fires. So the
tests read every expression, pull out the metric names, label matchers and grouping labels, and
compare them with what the running code registers in prometheus_client's REGISTRY.

The PromQL reading here is deliberately small (our expressions use selectors, ranges, offsets,
functions, aggregations with by/on/group_left and binary operators); `promtool check rules` is the
parser of record and runs beside it.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

PROJECT_DIR = Path(__file__).resolve().parents[2]
PROMETHEUS_DIR = PROJECT_DIR / "deploy" / "prometheus"
RULE_FILES = sorted((PROMETHEUS_DIR / "rules").glob("*.yml"))
RULE_TEST_FILES = sorted((PROMETHEUS_DIR / "tests").glob("*.test.yml"))
DASHBOARD = PROJECT_DIR / "deploy" / "grafana" / "assistant.json"

# Modules whose import registers our metrics (the escalation collector registers when the app is ready;
# config.metrics registers the Celery queue collector).
METRIC_MODULES = (
    "ordering.metrics",
    "ordering.agent.metrics",
    "ordering.agent.llm",
    "catalog_adapters.metrics",
    "escalations.metrics",
    "config.outages",
    "config.throttling",
    "config.metrics",
)
# Series Prometheus itself makes, not our code.
PROMETHEUS_SERIES = frozenset({"up", "scrape_duration_seconds", "scrape_samples_scraped"})
# Labels Prometheus adds at scrape time, and the bucket label of histograms.
TARGET_LABELS = frozenset({"job", "instance"})

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_SELECTOR = re.compile(r'([A-Za-z_:][\w:]*)\s*\{((?:[^}"]|"(?:[^"\\]|\\.)*")*)\}')
_MATCHER = re.compile(r'([A-Za-z_]\w*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")
_BRACES = re.compile(r"\{[^}]*\}")
_RANGE = re.compile(r"\[[^\]]*\]")
_IDENTIFIER = re.compile(r"(?<![\w.:$])([A-Za-z_:][\w:]*)(\s*\()?")
_KEYWORDS = frozenset(
    {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset"}
)
_KEYWORDS |= {"inf", "nan", "Inf", "NaN"}


@dataclass
class Reference:
    """What one expression refers to."""

    metrics: set[str] = field(default_factory=set)
    # (metric, label, operator, value) of every matcher in a selector with a metric name.
    matchers: list[tuple[str, str, str, str]] = field(default_factory=list)
    grouping_labels: set[str] = field(default_factory=set)


def references(expr: str) -> Reference:
    found = Reference()
    for name, body in _SELECTOR.findall(expr):
        for label, operator, value in _MATCHER.findall(body):
            found.matchers.append((name, label, operator, value))
    bare = _STRING.sub('""', expr)
    for labels in _GROUPING.findall(bare):
        found.grouping_labels |= {label.strip() for label in labels.split(",") if label.strip()}
    bare = _GROUPING.sub(" ", _RANGE.sub(" ", _BRACES.sub(" ", bare)))
    for name, call in _IDENTIFIER.findall(bare):
        if not call and name not in _KEYWORDS:
            found.metrics.add(name)
    return found


# -- the rule files ------------------------------------------------------------------------------


def rule_groups() -> list[dict]:
    groups = []
    for path in RULE_FILES:
        groups += yaml.safe_load(path.read_text())["groups"]
    return groups


def recording_rules() -> dict[str, str]:
    return {rule["record"]: rule["expr"] for group in rule_groups() for rule in group["rules"] if "record" in rule}


def alert_rules() -> dict[str, dict]:
    return {rule["alert"]: rule for group in rule_groups() for rule in group["rules"] if "alert" in rule}


def rule_expressions() -> dict[str, str]:
    """Every expression of the rule files, by the rule's name."""
    return {**recording_rules(), **{name: rule["expr"] for name, rule in alert_rules().items()}}


# -- the dashboard -------------------------------------------------------------------------------


def dashboard_panels(dashboard: dict) -> list[dict]:
    panels = []
    for panel in dashboard.get("panels", []):
        panels.append(panel)
        panels += panel.get("panels", [])  # a collapsed row keeps its panels inside
    return panels


def dashboard_expressions(dashboard: dict) -> dict[str, str]:
    """Every query of the dashboard: panel targets and template variables (label_values(metric, label))."""
    found = {}
    for panel in dashboard_panels(dashboard):
        for target in panel.get("targets", []):
            found[f"panel {panel['title']!r} target {target.get('refId')}"] = target["expr"]
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") == "query":
            query = variable["query"]
            query = query["query"] if isinstance(query, dict) else query
            # label_values(metric, label): the metric as a selector that uses the label.
            match = _LABEL_VALUES.fullmatch(query.strip())
            found[f"variable {variable['name']!r}"] = f'{match[1]}{{{match[2]}=~".*"}}' if match else query
    return found


_LABEL_VALUES = re.compile(r"label_values\(\s*([A-Za-z_:][\w:]*)\s*,\s*(\w+)\s*\)")


# -- what the code registers ---------------------------------------------------------------------


@dataclass
class Registered:
    # Exposed series names (counter foo: foo_total; histogram bar: bar_bucket, bar_sum, bar_count).
    series: set[str]
    # Label names by exposed series name, where known.
    labels: dict[str, frozenset[str]]


_SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("", "_sum", "_count", "_created"),
    "gauge": ("",),
    "info": ("_info",),
}


def registered_metrics() -> Registered:
    """Every metric in prometheus_client's REGISTRY once our metric modules are imported.

    Needs the database (the escalation collector counts open escalations per collect) and, for
    django-prometheus's request metrics, its middleware to have been built (any request does that).
    """
    from prometheus_client import REGISTRY
    from prometheus_client.metrics import MetricWrapperBase

    for module in METRIC_MODULES:
        importlib.import_module(module)
    series: set[str] = set()
    labels: dict[str, frozenset[str]] = {}
    for family in REGISTRY.collect():
        names = [family.name + suffix for suffix in _SUFFIXES.get(family.type, ("",))]
        series |= set(names)
        sampled = frozenset(key for sample in family.samples for key in sample.labels if key != "le")
        for name in names:
            labels[name] = labels.get(name, frozenset()) | sampled
    # Label names of metrics with no sample yet: from the metric objects our modules define.
    for module in METRIC_MODULES:
        for value in vars(importlib.import_module(module)).values():
            if isinstance(value, MetricWrapperBase):
                # prometheus_client keeps a metric's kind, name and label names in these attributes.
                kind = value._type
                for suffix in _SUFFIXES.get(kind, ("",)):
                    name = value._name + suffix
                    labels[name] = labels.get(name, frozenset()) | frozenset(value._labelnames)
    return Registered(series=series, labels=labels)


def problems(expressions: dict[str, str], registered: Registered, recorded: set[str]) -> list[str]:
    """Names an expression uses that neither our code registers nor a recording rule records."""
    found = []
    for where, expr in expressions.items():
        ref = references(expr)
        for name in sorted(ref.metrics):
            if ":" in name:
                if name not in recorded:
                    found.append(f"{where}: {name} is no recording rule of deploy/prometheus/rules")
            elif name not in registered.series and name not in PROMETHEUS_SERIES:
                found.append(f"{where}: {name} is not registered by our code")
        for metric, label, _, _ in ref.matchers:
            if ":" in metric or metric in PROMETHEUS_SERIES or metric not in registered.labels:
                continue
            known = registered.labels[metric] | TARGET_LABELS | ({"le"} if metric.endswith("_bucket") else set())
            if label not in known:
                found.append(f"{where}: {metric} has no label {label!r} (it has {sorted(known)})")
    return found
