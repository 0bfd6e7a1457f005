"""Our own outbound rate limit per merchant, shared across processes through Django's cache.

A sliding-window counter: requests in the current window plus the previous window's count weighted
by how much of it still overlaps. A burst of customers (or of retries) therefore queues here, for at
most `max_wait` seconds, instead of tripping the merchant's own limits; past that the caller gets
`MerchantRateLimited`, having sent nothing.
"""

from __future__ import annotations

import contextlib
import logging
import random
import time

from django.core.cache import cache

from catalog_adapters import metrics
from catalog_adapters.sharedstate import cache_mutex

logger = logging.getLogger("catalog_adapters.ratelimit")


class RateLimitTimeout(Exception):
    def __init__(self, waited: float) -> None:
        super().__init__(f"outbound rate limit still full after {waited:.2f}s")
        self.waited = waited


class OutboundRateLimiter:
    def __init__(self, merchant_id: str, *, per_second: float, max_wait: float) -> None:
        self.merchant_id = merchant_id
        self.per_second = per_second
        self.max_wait = max_wait
        # Below one request per second a one-second window could never admit anyone.
        self.window = max(1.0, 1.0 / per_second) if per_second > 0 else 1.0
        self.capacity = per_second * self.window
        self._prefix = f"merchant-ratelimit:{merchant_id}"

    def acquire(self) -> float:
        """Wait for a slot; returns the seconds waited, or raises RateLimitTimeout."""
        if self.per_second <= 0:
            return 0.0
        started = time.monotonic()
        while True:
            try:
                if self._try_take():
                    waited = time.monotonic() - started
                    metrics.RATE_LIMIT_WAIT.labels(self.merchant_id).observe(waited)
                    return waited
            except Exception:
                # Throttling protects the merchant; it is not worth refusing every call over a cache outage.
                logger.warning(
                    "merchant.ratelimit.cache_unavailable", extra={"merchant": self.merchant_id}, exc_info=True
                )
                return 0.0
            waited = time.monotonic() - started
            if waited >= self.max_wait:
                raise RateLimitTimeout(waited)
            # Jitter so that waiting processes do not all retry at the same instant.
            pause = random.uniform(0.5, 1.5) / self.per_second  # noqa: S311 - jitter, not security
            time.sleep(min(pause, self.max_wait - waited + 0.001))

    def _try_take(self) -> bool:
        with cache_mutex(self._prefix):
            return self._take_unlocked()

    def _take_unlocked(self) -> bool:
        now = time.time()
        index = int(now // self.window)
        key = f"{self._prefix}:{index}"
        ttl = int(self.window * 3) + 1
        if cache.add(key, 0, timeout=ttl):
            # First in a new window: drop the one before last now, so that the file cache (which culls
            # random entries once full) is not filled with stale windows that could push out breaker state.
            cache.delete(f"{self._prefix}:{index - 2}")
        try:
            current = cache.incr(key)
        except ValueError:  # the key expired between add and incr
            cache.add(key, 1, timeout=ttl)
            current = 1
        previous = cache.get(f"{self._prefix}:{index - 1}") or 0
        overlap = 1.0 - (now - index * self.window) / self.window
        if previous * overlap + current <= self.capacity:
            return True
        with contextlib.suppress(ValueError):  # expired meanwhile: nothing to give back
            cache.decr(key)  # give the slot back: we are not sending now
        return False

    def reset(self) -> None:
        index = int(time.time() // self.window)
        cache.delete_many([f"{self._prefix}:{index + offset}" for offset in (-2, -1, 0, 1)])
