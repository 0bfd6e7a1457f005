"""Liveness and readiness probes.

`/healthz` answers as long as the process serves requests: it touches nothing else, so an outage of
the database does not get healthy web processes killed. `/readyz` says whether this process can do
useful work now: the database answers and the Celery broker accepts connections.
"""

from __future__ import annotations

import logging

from django.db import connections
from django.http import HttpRequest, JsonResponse
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
