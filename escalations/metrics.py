"""Escalation metrics, exported at /metrics with django-prometheus's registry.

Open escalations are read from the database at scrape time (a collector, registered with /metrics by
escalations/apps.py), so every web process reports the same true number instead of a gauge each process
would have to keep in step.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

# Seconds: a minute up to a day.
_BUCKETS = (60, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400)

escalations_opened = Counter("escalations_opened_total", "Escalations opened", ["reason", "priority"])
time_to_first_response = Histogram(
    "escalations_time_to_first_response_seconds",
    "From opening to the first thing staff did for the customer (reply, decision, hand back)",
    ["reason"],
    buckets=_BUCKETS,
)
time_to_resolution = Histogram(
    "escalations_time_to_resolution_seconds",
    "From opening to resolved or handed back (MTTR is its sum over its count)",
    ["reason", "outcome"],
    buckets=_BUCKETS,
)


class OpenEscalationsCollector(Collector):
    """escalations_open{reason} and escalations_sla_breached{reason}, counted by the database per scrape."""

    def collect(self) -> Iterator[Metric]:
        from escalations.selectors import escalations_open_counts

        open_family = GaugeMetricFamily("escalations_open", "Escalations open or claimed", labels=["reason"])
        breached_family = GaugeMetricFamily(
            "escalations_sla_breached", "Open or claimed escalations past their SLA due time", labels=["reason"]
        )
        try:
            counts = escalations_open_counts()
        except Exception:
            # A scrape must not fail because the database is away; the gauges are simply absent.
            logger.warning("could not count open escalations for /metrics", exc_info=True)
            return
        for reason, (open_count, breached_count) in sorted(counts.items()):
            open_family.add_metric([reason], open_count)
            breached_family.add_metric([reason], breached_count)
        yield open_family
        yield breached_family

    def describe(self) -> Iterator[Metric]:
        # Describing without collecting keeps registration from querying the database at import time.
        return iter(())
