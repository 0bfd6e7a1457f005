"""Our own outbound rate limit per merchant: a local token bucket per process plus a shared budget.

The merchant's allowance (`MERCHANT_<ID>_RATE_LIMIT` requests/s, `_RATE_LIMIT_BURST` at once) is a
token bucket kept twice:

- **Shared budget** (catalog_adapters.sharedstate: Redis, or the file cache of one machine): one
  bucket per merchant for the whole deployment, refilled at the rate up to the burst, on Redis's own
  clock. A process does not ask it per request: it *leases* a batch of tokens in one round trip (a Lua
  script) and spends them locally. The batch starts at one token and doubles while the process keeps
  spending whole batches within a lease's lifetime (up to `_RATE_LIMIT_LEASE`); an unspent rest
  expires after `LEASE_LIFETIME` and halves the next batch, so idle processes do not hoard the budget.
  The deployment therefore never sends more than burst + rate x t, whatever the number of processes.
- **Local bucket** (rate and burst, per process, in memory): smooths a process's own bursts and is
  what still holds when the shared store is unavailable (each process then keeps to the full
  allowance on its own; the merchant's 429 + Retry-After handling in the HTTP base is the backstop).

A burst of customers (or of retries) queues here, for at most `max_wait` seconds, instead of tripping
the merchant's own limits; when the wait it would need is longer, the caller gets `MerchantRateLimited`
at once, having sent nothing.
"""

from __future__ import annotations

import contextlib
import math
import random
import threading
import time

from catalog_adapters import metrics
from catalog_adapters.sharedstate import CacheSharedState, RedisSharedState, SharedStateUnavailable, shared_state

# Leased tokens not spent within this many seconds go back to nobody (they were already counted).
LEASE_LIFETIME = 1.0


class RateLimitTimeout(Exception):
    def __init__(self, waited: float, needed: float = 0.0) -> None:
        super().__init__(f"outbound rate limit still full after {waited:.2f}s")
        self.waited = waited
        # How much longer it would have had to wait for a token: when to come back.
        self.needed = needed


class OutboundRateLimiter:
    def __init__(
        self,
        merchant_id: str,
        *,
        per_second: float,
        max_wait: float,
        burst: float | None = None,
        lease: int | None = None,
        state: RedisSharedState | CacheSharedState | None = None,
    ) -> None:
        self.merchant_id = merchant_id
        self.per_second = per_second
        self.max_wait = max_wait
        # A bucket holds at least one request, else nothing could ever be sent; by default one second's worth.
        self.burst = max(1.0, float(burst) if burst else per_second)
        self.max_lease = max(1, min(int(self.burst), int(lease) if lease else math.ceil(per_second / 10)))
        self._state = state
        self._name = f"ratelimit:{merchant_id}"
        self._lock = threading.Lock()
        self._tokens = self.burst
        self._refilled_at = time.monotonic()
        self._leased = 0
        self._lease_expires_at = 0.0
        self._lease_size = 1

    @property
    def store(self) -> RedisSharedState | CacheSharedState:
        return self._state or shared_state()

    def acquire(self) -> float:
        """Take one token (waiting if needed); returns the seconds waited, or raises RateLimitTimeout."""
        if self.per_second <= 0:
            return 0.0
        started = time.monotonic()
        while True:
            wait = self._try_take()
            waited = time.monotonic() - started
            if wait <= 0:
                metrics.RATE_LIMIT_WAIT.labels(self.merchant_id).observe(waited)
                return waited
            if waited + wait > self.max_wait:
                # The wait needed is known: failing now sends nothing and frees the caller sooner.
                raise RateLimitTimeout(waited, wait)
            # Jitter so that waiting threads and processes do not all come back at the same instant.
            time.sleep(wait * random.uniform(1.0, 1.2))  # noqa: S311 - jitter, not security

    def _try_take(self) -> float:
        """0 when a token was taken, else the seconds to wait before the next one can be."""
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._refilled_at) * self.per_second)
            self._refilled_at = now
            if self._tokens < 1:
                return (1 - self._tokens) / self.per_second
            if self._leased <= 0 or now >= self._lease_expires_at:
                wait = self._lease(now)
                if wait > 0:
                    return wait
            self._leased -= 1
            self._tokens -= 1
            return 0.0

    def _lease(self, now: float) -> float:
        """Lease a batch from the shared budget: 0 when tokens are in hand, else the seconds to wait."""
        if self._leased > 0:
            # The last batch expired half-spent: this process needs less than it asked for.
            self._lease_size = max(1, self._lease_size // 2)
        elif self._lease_expires_at and now < self._lease_expires_at:
            self._lease_size = min(self.max_lease, self._lease_size * 2)
        self._leased = 0
        try:
            granted, wait = self.store.lease(
                self._name,
                want=self._lease_size,
                rate=self.per_second,
                capacity=self.burst,
                ttl=self.burst / self.per_second + 60,
            )
        except SharedStateUnavailable:
            # Throttling protects the merchant; a store outage must not refuse every call: the local bucket holds.
            self._leased, self._lease_expires_at = 1, now + LEASE_LIFETIME
            return 0.0
        if granted <= 0:
            self._lease_expires_at = 0.0
            return max(wait, 0.001)
        self._leased, self._lease_expires_at = granted, now + LEASE_LIFETIME
        return 0.0

    def reset(self) -> None:
        with self._lock:
            self._tokens, self._refilled_at = self.burst, time.monotonic()
            self._leased, self._lease_expires_at, self._lease_size = 0, 0.0, 1
        with contextlib.suppress(SharedStateUnavailable):
            self.store.delete(self._name)
