"""deploy/grafana/assistant.json is a dashboard Grafana can import, over metrics that exist.

Every panel query and template variable may only name metrics our code registers or series the
recording rules in deploy/prometheus record, with labels those metrics have.
"""

from __future__ import annotations

import json

import pytest

from tests.ops.promql import DASHBOARD, dashboard_expressions, dashboard_panels, problems, recording_rules
from tests.ops.promql import registered_metrics as _registered_metrics

TOPICS = (
    "order completion",
    "by saga step",
    "undo steps",
    "escalations",
    "turn",
    "payment",
    "merchant request p95",
    "circuit breaker",
    "llm",
    "satisfaction",
    "order value",
    "celery queue",
)


@pytest.fixture(scope="module")
def dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


def test_the_dashboard_is_an_importable_grafana_dashboard(dashboard):
    assert dashboard["uid"] and dashboard["title"] and dashboard["schemaVersion"] >= 36
    panels = dashboard_panels(dashboard)
    ids = [panel["id"] for panel in panels]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    variables = {variable["name"] for variable in dashboard["templating"]["list"]}
    assert "datasource" in variables
    for panel in panels:
        position = panel["gridPos"]
        assert position["x"] >= 0 and position["x"] + position["w"] <= 24, panel["title"]
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        assert panel["targets"] and all(target["expr"].strip() for target in panel["targets"]), panel["title"]


def test_the_dashboard_covers_what_operators_asked_for(dashboard):
    titles = " | ".join(panel["title"].lower() for panel in dashboard_panels(dashboard))

    missing = [topic for topic in TOPICS if topic not in titles]
    assert not missing, f"no panel about {missing}"


@pytest.mark.django_db
def test_every_dashboard_query_names_registered_metrics_or_recorded_series(dashboard, client):
    client.get("/healthz")  # builds django-prometheus's middleware, which registers the request metrics
    registered = _registered_metrics()

    found = problems(dashboard_expressions(dashboard), registered, set(recording_rules()))

    assert not found, "\n".join(found)
    assert len(dashboard_expressions(dashboard)) >= 30
