"""`/metrics`: Prometheus exposition of this process (django-prometheus's registry), or of every gunicorn
worker together when PROMETHEUS_MULTIPROC_DIR is set.

Some numbers are read when the page is scraped rather than counted as they happen (the database's, the
broker's): their collectors are registered with `register_scrape_collector`, the Celery queues' here and
each app's own from its AppConfig.ready (escalations: the open escalations), since the frame imports no app.
"""

import hmac
import os

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django_prometheus.exports import ExportToDjangoView
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.registry import Collector

from config.queue_metrics import CeleryQueueCollector

_scrape_collectors: dict[str, Collector] = {}


def register_scrape_collector(*, name: str, collector: Collector) -> None:
    """Export `collector` at /metrics: in this process's registry, and in each multiprocess scrape's.

    Once per name: a second registration is ignored. (These collectors describe nothing, so that
    registering them reads no database; prometheus_client then cannot see a duplicate, and a collector
    registered twice would export every series twice.)"""
    if name in _scrape_collectors:
        return
    _scrape_collectors[name] = collector
    REGISTRY.register(collector)


# The Celery queues' backlog, read from the broker per scrape (config/queue_metrics.py).
register_scrape_collector(name="celery_queues", collector=CeleryQueueCollector())


def _multiprocess_metrics() -> HttpResponse:
    # Several gunicorn workers: their counters live in PROMETHEUS_MULTIPROC_DIR and are summed per
    # scrape into a fresh registry, which also needs the collectors that read the database and the broker.
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    for collector in _scrape_collectors.values():
        registry.register(collector)
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus exposition; behind a bearer token when METRICS_BEARER_TOKEN is set."""
    expected = settings.METRICS_BEARER_TOKEN
    if expected:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return HttpResponse("metrics need Authorization: Bearer <METRICS_BEARER_TOKEN>\n", status=401)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return _multiprocess_metrics()
    return ExportToDjangoView(request)
