"""Per-user rate limits that keep the API up while the shared cache (Redis) is down.

DRF's throttles keep their counts in the cache, and a cache call that raises would turn every throttled
request into an error: a Redis outage would take the chat down although PostgreSQL, which holds
everything that matters, is fine. So when the shared cache cannot be reached, the throttle counts in
this process's memory instead, at the same rate: the limit still holds per process (with N web
processes a customer may get up to N times the rate), nothing is refused for the outage, and after
`API_THROTTLE_SHARED_CACHE_RETRY_SECONDS` (5 s) the next request tries the shared cache again, so the shared counts come
back by themselves when Redis does. The switch is logged once per fallback (`throttle.local_fallback`)
and counted in `api_throttle_local_fallback_total`.

A throttle is not a spend control (caps are enforced in the database), which is why counting per process
for the length of an outage is acceptable here. Security limits (step-up codes, sign-in lockouts) do not
use this: they refuse while they cannot count.
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.core.cache.backends.locmem import LocMemCache
from prometheus_client import Counter
from rest_framework.request import Request
from rest_framework.throttling import UserRateThrottle

from config.outages import CACHE_UNAVAILABLE

logger = logging.getLogger(__name__)

local_fallbacks = Counter(
    "api_throttle_local_fallback_total",
    "Times a web process switched its rate limits to local counting because the shared cache was unreachable",
)

_local_counts = LocMemCache("throttle-local-fallback", {"OPTIONS": {"MAX_ENTRIES": 10_000}})


class _SharedCacheState:
    """Whether this process is counting locally, and until when (monotonic seconds)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._local_until = 0.0

    def counting_locally(self) -> bool:
        return time.monotonic() < self._local_until

    def failed(self, error: BaseException) -> None:
        with self._lock:
            already = self.counting_locally()
            self._local_until = time.monotonic() + settings.API_THROTTLE_SHARED_CACHE_RETRY_SECONDS
        if not already:
            local_fallbacks.inc()
            logger.warning(
                "throttle.local_fallback",
                extra={
                    "error": repr(error)[:300],
                    "retry_after_seconds": settings.API_THROTTLE_SHARED_CACHE_RETRY_SECONDS,
                },
            )

    def reset(self) -> None:
        with self._lock:
            self._local_until = 0.0


shared_cache_state = _SharedCacheState()


class UserRateThrottleWithLocalFallback(UserRateThrottle):
    """DRF's per-user throttle, counting in this process's memory while the shared cache is unreachable."""

    def allow_request(self, request: Request, view) -> bool:
        if not shared_cache_state.counting_locally():
            try:
                return super().allow_request(request, view)
            except CACHE_UNAVAILABLE as error:
                shared_cache_state.failed(error)
        self.cache = _local_counts
        return super().allow_request(request, view)
