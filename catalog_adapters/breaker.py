"""A circuit breaker per merchant, its state in Django's cache so every process agrees.

With Redis as the cache (REDIS_URL), web and worker processes on every machine share one breaker
per merchant; with the file cache, the processes of one machine do. Closed: requests flow and
consecutive server/network failures are counted. Open (after `threshold` of them): requests fail
fast without touching the network. Half-open (after `cooldown` seconds): exactly one request, the
probe, is let through; its success closes the breaker, its failure opens it for another cool-down.
A 4xx answer proves the merchant is up, so it counts as a success, never a failure.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from django.core.cache import cache

from catalog_adapters import metrics
from catalog_adapters.sharedstate import cache_mutex

logger = logging.getLogger("catalog_adapters.breaker")

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"
# Failure counts and open marks outlive the cool-down so that, once it passes, we know to probe.
_STATE_TTL = 3600


@dataclass(frozen=True)
class Permit:
    probe: bool = False


class CircuitBreaker:
    def __init__(self, merchant_id: str, *, threshold: int, cooldown: float) -> None:
        self.merchant_id = merchant_id
        self.threshold = threshold
        self.cooldown = cooldown
        prefix = f"merchant-breaker:{merchant_id}"
        self._failures_key = f"{prefix}:failures"
        self._open_until_key = f"{prefix}:open-until"
        self._probe_key = f"{prefix}:probe"

    def state(self) -> str:
        open_until = self._get(self._open_until_key)
        if open_until is None:
            return CLOSED
        return OPEN if time.time() < open_until else HALF_OPEN

    def acquire(self) -> Permit | None:
        """A permit to send one request, or None: fail fast, send nothing."""
        open_until = self._get(self._open_until_key)
        if open_until is None:
            return Permit()
        if time.time() < open_until:
            return None
        # Cool-down over: one process wins the probe slot; the others keep failing fast meanwhile.
        try:
            with cache_mutex(self._probe_key):
                won = cache.add(self._probe_key, 1, timeout=max(1, int(self.cooldown) + 1))
        except Exception:
            logger.warning("merchant.breaker.cache_unavailable", extra={"merchant": self.merchant_id}, exc_info=True)
            return Permit()
        if won:
            metrics.CIRCUIT_TRANSITIONS.labels(self.merchant_id, HALF_OPEN).inc()
            return Permit(probe=True)
        return None

    def record_success(self, permit: Permit) -> None:
        if permit.probe or self._get(self._open_until_key) is not None:
            metrics.CIRCUIT_TRANSITIONS.labels(self.merchant_id, CLOSED).inc()
            logger.info("merchant.breaker.closed", extra={"merchant": self.merchant_id})
            self._delete(self._open_until_key, self._probe_key)
        if self._get(self._failures_key):
            self._delete(self._failures_key)

    def record_failure(self, permit: Permit) -> None:
        if permit.probe:
            self._open()
            self._delete(self._probe_key)
            return
        try:
            with cache_mutex(self._failures_key):
                cache.add(self._failures_key, 0, timeout=_STATE_TTL)
                failures = cache.incr(self._failures_key)
        except ValueError:  # expired between add and incr
            failures = 1
        except Exception:
            logger.warning("merchant.breaker.cache_unavailable", extra={"merchant": self.merchant_id}, exc_info=True)
            return
        if failures >= self.threshold and self._get(self._open_until_key) is None:
            self._open()

    def release(self, permit: Permit) -> None:
        """Give back a permit that sent nothing, so another process may probe at once."""
        if permit.probe:
            self._delete(self._probe_key)

    def reset(self) -> None:
        self._delete(self._failures_key, self._open_until_key, self._probe_key)

    def _open(self) -> None:
        try:
            cache.set(self._open_until_key, time.time() + self.cooldown, timeout=int(self.cooldown) + _STATE_TTL)
        except Exception:
            logger.warning("merchant.breaker.cache_unavailable", extra={"merchant": self.merchant_id}, exc_info=True)
            return
        metrics.CIRCUIT_TRANSITIONS.labels(self.merchant_id, OPEN).inc()
        logger.warning("merchant.breaker.opened", extra={"merchant": self.merchant_id, "cooldown_s": self.cooldown})

    def _get(self, key: str):
        # A cache outage must not stop all merchant traffic: the breaker then reads as closed.
        try:
            return cache.get(key)
        except Exception:
            logger.warning("merchant.breaker.cache_unavailable", extra={"merchant": self.merchant_id}, exc_info=True)
            return None

    def _delete(self, *keys: str) -> None:
        try:
            cache.delete_many(keys)
        except Exception:
            logger.warning("merchant.breaker.cache_unavailable", extra={"merchant": self.merchant_id}, exc_info=True)
