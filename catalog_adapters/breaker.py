"""A circuit breaker per merchant, its state shared by every process (catalog_adapters.sharedstate).

With Redis (REDIS_URL), web and worker processes on every machine share one breaker per merchant;
with the file cache, the processes of one machine do. Closed: requests flow and consecutive
server/network failures are counted. Open (after `threshold` of them): requests fail fast without
touching the network. Half-open (after `cooldown` seconds): exactly one request, the probe, is let
through; its success closes the breaker, its failure opens it for another cool-down. A 4xx answer
proves the merchant is up, so it counts as a success, never a failure.

Cost per request: `acquire` reads the whole state in one round trip (MGET of the open mark and the
failure count) and the permit remembers what it saw, so the common case (closed, no failures) records
its success without asking again; a failure is one more round trip (INCR with its expiry), opening
the breaker one more (SET NX, so two processes never restart each other's cool-down).

A reading of "closed, no failures counted" is trusted by this process for `CLOSED_READ_TTL` seconds
(the common case asks Redis once per that time, not once per request); any failure this process sees,
and any other reading, ends that at once. What another process does meanwhile (a failure counted, the
breaker opened) is therefore seen here at most that much later: a request or two more to a merchant
that has just gone down, each of whose failures then reads the shared state again. Open, half-open and
the probe are never served from this memory.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from catalog_adapters import metrics
from catalog_adapters.sharedstate import CacheSharedState, RedisSharedState, SharedStateUnavailable, shared_state

logger = logging.getLogger("catalog_adapters.breaker")

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"
# Failure counts and open marks outlive the cool-down so that, once it passes, we know to probe.
_STATE_TTL = 3600
# Half-open with another process's probe in flight: its answer decides soon; come back after this long.
PROBE_WAIT = 1.0
# How long this process trusts a reading of "closed, no failures" before asking the shared state again.
CLOSED_READ_TTL = 0.25


@dataclass(frozen=True)
class Permit:
    probe: bool = False
    # What `acquire` read: whether anything needs clearing when this request succeeds.
    failures_seen: int = 0
    open_seen: bool = False


class CircuitBreaker:
    def __init__(
        self,
        merchant_id: str,
        *,
        threshold: int,
        cooldown: float,
        state: RedisSharedState | CacheSharedState | None = None,
    ) -> None:
        self.merchant_id = merchant_id
        self.threshold = threshold
        self.cooldown = cooldown
        self._state = state
        prefix = f"breaker:{merchant_id}"
        self._failures_key = f"{prefix}:failures"
        self._open_until_key = f"{prefix}:open-until"
        self._probe_key = f"{prefix}:probe"
        # time.monotonic() until which the last reading (closed, no failures) stands; 0: ask the store.
        self._closed_until = 0.0

    @property
    def store(self) -> RedisSharedState | CacheSharedState:
        return self._state or shared_state()

    def state(self) -> str:
        open_until, _ = self._read()
        if open_until is None:
            return CLOSED
        return OPEN if time.time() < open_until else HALF_OPEN

    def retry_in(self) -> float:
        """Seconds until a request refused now could be let through: the rest of the cool-down.

        0 when closed. Half-open with the probe taken by another process: a short wait, the probe's
        answer decides then (closed, or open for a new cool-down). Callers that schedule work for later
        (the order saga, its undo steps) come back at this time instead of spending attempts on refusals.
        """
        open_until, _ = self._read()
        if open_until is None:
            return 0.0
        remaining = open_until - time.time()
        return remaining if remaining > 0 else min(PROBE_WAIT, self.cooldown)

    def acquire(self) -> Permit | None:
        """A permit to send one request, or None: fail fast, send nothing."""
        if self._closed_until and time.monotonic() < self._closed_until:
            return Permit()
        open_until, failures = self._read()
        if open_until is None:
            if not failures:
                self._closed_until = time.monotonic() + CLOSED_READ_TTL
            return Permit(failures_seen=failures)
        self._closed_until = 0.0
        if time.time() < open_until:
            return None
        # Cool-down over: one process wins the probe slot; the others keep failing fast meanwhile.
        try:
            won = self.store.add(self._probe_key, "1", ttl=max(1.0, self.cooldown + 1))
        except SharedStateUnavailable:
            self._unavailable()
            return Permit()
        if won:
            metrics.CIRCUIT_TRANSITIONS.labels(self.merchant_id, HALF_OPEN).inc()
            return Permit(probe=True, failures_seen=failures, open_seen=True)
        return None

    def record_success(self, permit: Permit) -> None:
        if permit.probe or permit.open_seen:
            metrics.CIRCUIT_TRANSITIONS.labels(self.merchant_id, CLOSED).inc()
            logger.info("merchant.breaker.closed", extra={"merchant": self.merchant_id})
            self._delete(self._open_until_key, self._probe_key, self._failures_key)
        elif permit.failures_seen:
            self._delete(self._failures_key)

    def record_failure(self, permit: Permit) -> None:
        self._closed_until = 0.0
        if permit.probe:
            self._open(restart=True)
            self._delete(self._probe_key)
            return
        try:
            failures = self.store.incr(self._failures_key, ttl=_STATE_TTL)
        except SharedStateUnavailable:
            self._unavailable()
            return
        if failures >= self.threshold:
            self._open(restart=False)

    def release(self, permit: Permit) -> None:
        """Give back a permit that sent nothing, so another process may probe at once."""
        if permit.probe:
            self._delete(self._probe_key)

    def reset(self) -> None:
        self._closed_until = 0.0
        self._delete(self._failures_key, self._open_until_key, self._probe_key)

    def _open(self, *, restart: bool) -> None:
        """Open for a cool-down; `restart` (a failed probe) starts a new one, else an open breaker stays as is."""
        value, ttl = repr(time.time() + self.cooldown), self.cooldown + _STATE_TTL
        try:
            if restart:
                self.store.set(self._open_until_key, value, ttl=ttl)
            elif not self.store.add(self._open_until_key, value, ttl=ttl):
                return  # already open (another process, or a request that started before it opened)
        except SharedStateUnavailable:
            self._unavailable()
            return
        metrics.CIRCUIT_TRANSITIONS.labels(self.merchant_id, OPEN).inc()
        logger.warning("merchant.breaker.opened", extra={"merchant": self.merchant_id, "cooldown_s": self.cooldown})

    def _read(self) -> tuple[float | None, int]:
        # A store outage must not stop all merchant traffic: the breaker then reads as closed.
        try:
            open_until, failures = self.store.get_many([self._open_until_key, self._failures_key])
        except SharedStateUnavailable:
            self._unavailable()
            return None, 0
        return (float(open_until) if open_until is not None else None), int(failures or 0)

    def _delete(self, *keys: str) -> None:
        try:
            self.store.delete(*keys)
        except SharedStateUnavailable:
            self._unavailable()

    def _unavailable(self) -> None:
        logger.warning("merchant.breaker.state_unavailable", extra={"merchant": self.merchant_id})
