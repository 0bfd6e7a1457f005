"""When a dependency is down: which errors mean "PostgreSQL, Redis or the broker cannot be reached", and
the one JSON answer the API gives then.

An outage is not a bug in the request, and retrying it later succeeds without anyone doing anything
(Django reconnects to PostgreSQL per request, redis-py and kombu reconnect on the next call). So the API
answers `503` with `Retry-After` and a message a person understands, in the same shape as every other
error (`{"error", "message", "retry_after_seconds"}`), instead of a 500 page. Staff see a log line
`api.dependency_unavailable` naming the dependency and the counter
`api_dependency_unavailable_total{dependency}`.

Every request we serve is safe to send again after a 503: a message post carries its Idempotency-Key
(a repeat answers the same turn), a confirmation is bound to its preview hash (a repeat starts nothing
new), and work committed before the failure (a turn or a flow whose task could not be enqueued) is
picked up by the beat's sweeps.
"""

from __future__ import annotations

import logging
import math

import redis.exceptions
from django.conf import settings
from django.db import InterfaceError as DatabaseInterfaceError
from django.db import OperationalError as DatabaseOperationalError
from django.http import HttpRequest, JsonResponse
from kombu.exceptions import OperationalError as BrokerOperationalError
from prometheus_client import Counter

logger = logging.getLogger(__name__)

# The cache (Redis, or files under VAR_DIR without it) cannot be read or written.
CACHE_UNAVAILABLE: tuple[type[BaseException], ...] = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    OSError,
)
# Ordered as checked: the broker's errors first (kombu may wrap a Redis error), then PostgreSQL, then the cache.
_DEPENDENCIES: tuple[tuple[str, tuple[type[BaseException], ...]], ...] = (
    ("broker", (BrokerOperationalError,)),
    ("database", (DatabaseOperationalError, DatabaseInterfaceError)),
    ("cache", (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)),
)

dependency_unavailable = Counter(
    "api_dependency_unavailable_total",
    "API requests answered 503 because a dependency (database, cache, broker) could not be reached",
    ["dependency"],
)


def unavailable_dependency(error: BaseException | None) -> str | None:
    """The dependency whose outage this error is (database, cache, broker), or None for any other error."""
    if error is None:
        return None
    return next((name for name, kinds in _DEPENDENCIES if isinstance(error, kinds)), None)


def retry_after_seconds() -> int:
    return max(1, math.ceil(settings.API_OUTAGE_RETRY_AFTER_SECONDS))


def outage_body(seconds: int) -> dict:
    return {
        "error": "service_unavailable",
        "message": (
            "We're having a brief technical problem on our side and couldn't finish that. "
            f"Please try again in {seconds} seconds."
        ),
        "retry_after_seconds": seconds,
    }


def outage_reported(*, request: HttpRequest | None, dependency: str, error: BaseException) -> int:
    """Log and count one request refused for an outage; returns the seconds to tell the client to wait."""
    dependency_unavailable.labels(dependency=dependency).inc()
    logger.error(
        "api.dependency_unavailable",
        extra={
            "dependency": dependency,
            "error": repr(error)[:300],
            "path": request.path if request is not None else "",
            "method": request.method if request is not None else "",
        },
    )
    return retry_after_seconds()


def outage_response(*, request: HttpRequest, dependency: str, error: BaseException) -> JsonResponse:
    """The 503 for a request that failed outside a DRF view (a middleware reading the session, say)."""
    seconds = outage_reported(request=request, dependency=dependency, error=error)
    response = JsonResponse(outage_body(seconds), status=503)
    response["Retry-After"] = str(seconds)
    return response
