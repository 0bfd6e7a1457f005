import hmac
import os

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django_prometheus.exports import ExportToDjangoView
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess

from config.queue_metrics import CeleryQueueCollector, register_collector

# The Celery queues' backlog, read from the broker per scrape (config/queue_metrics.py).
register_collector()


def _multiprocess_metrics() -> HttpResponse:
    # Several gunicorn workers: their counters live in PROMETHEUS_MULTIPROC_DIR and are summed per
    # scrape into a fresh registry, which also needs the collectors that read the database and the broker.
    from escalations.metrics import OpenEscalationsCollector

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    registry.register(OpenEscalationsCollector())
    registry.register(CeleryQueueCollector())
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
