"""Liveness and readiness probes.

`/healthz` answers as long as the process serves requests: it touches nothing else, so an outage of
the database does not get healthy web processes killed. `/readyz` says whether this process can do
useful work now: the database answers and the Celery broker accepts connections.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

BROKER_TIMEOUT_SECONDS = 2.0


def check_database(alias: str = "default") -> None:
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_broker() -> None:
    from config.celery import app

    with app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=BROKER_TIMEOUT_SECONDS)


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, str] = {}
    for name, check in (("database", check_database), ("broker", check_broker)):
        try:
            check()
        except Exception as error:  # any failure means "not ready"; the reason goes to the log
            logger.warning("readiness.failed", extra={"dependency": name, "error": repr(error)})
            checks[name] = "unreachable"
        else:
            checks[name] = "ok"
    ready = all(state == "ok" for state in checks.values())
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)


class ProbesAnyHostMiddleware:
    """/healthz, /readyz and /metrics answer whatever Host header they come with.

    ALLOWED_HOSTS names the shop's public host, and Django answers 400 to any other Host (CommonMiddleware): the
    balancer's health checks, often sent to a machine's address, and Prometheus scraping `web-1.internal:8000`
    (deploy/prometheus/prometheus.yml) got a 400 for every probe and scrape, so the balancer took every web machine
    out and MetricsTargetDown paged. Nothing these three answer depends on the host (/metrics has its own token),
    so they are answered here, before anything reads it; every other path keeps Django's check. After the trace id
    middleware (the response still carries X-Trace-ID and its log line); probes and scrapes are then not counted in
    django_http_* (they never were the traffic those metrics are about)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from config.metrics import metrics

        probes: dict[str, Callable[[HttpRequest], HttpResponse]] = {
            "/healthz": healthz,
            "/readyz": readyz,
            "/metrics": metrics,
        }
        view = probes.get(request.path_info)
        return view(request) if view is not None else self.get_response(request)
