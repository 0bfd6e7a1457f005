"""State that every process must agree on (circuit breakers, outbound rate budgets), in one round trip.

Two stores with the same small interface:

- `RedisSharedState` (REDIS_URL / CACHE_URL set): one `redis.Redis` client per process on its own
  connection pool, so a merchant call reuses a pooled connection instead of building a client per
  cache operation; every operation is one round trip (MGET, SET NX, a MULTI pipeline, or a Lua
  script). After a Redis error it answers `SharedStateUnavailable` at once for a few seconds, so an
  outage costs the merchant path one timeout, not one per call.
- `CacheSharedState` (no Redis: Django's file cache, as `make run` uses): the file cache's `incr` is
  a read then a write, so our read-modify-write sections take an OS file lock next to the cache files
  (`cache_mutex`); that cache is only shared by the processes of one machine, and so is the lock.

`shared_state()` is the process's store for the configured cache.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

from django.core.cache import BaseCache, caches
from django.core.cache.backends.filebased import FileBasedCache

logger = logging.getLogger("catalog_adapters.sharedstate")

Result = TypeVar("Result")

# After a Redis error, how long the merchant path stops asking Redis (it falls back meanwhile).
UNAVAILABLE_FOR_SECONDS = 5.0


class SharedStateUnavailable(Exception):
    """The shared store did not answer; callers fall back (breaker reads closed, limiter goes local)."""


@contextlib.contextmanager
def cache_mutex(name: str) -> Iterator[None]:
    backend = caches["default"]
    if not isinstance(backend, FileBasedCache):
        yield
        return
    # The cache's folder; django-stubs leaves FileBasedCache's attributes undeclared.
    lock_dir = Path(backend._dir) / "locks"  # type: ignore[attr-defined]
    lock_dir.mkdir(parents=True, exist_ok=True)
    path = lock_dir / f"{hashlib.sha256(name.encode()).hexdigest()[:32]}.lock"
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def bucket_take(
    *, tokens: float | None, at: float | None, now: float, rate: float, capacity: float, want: int
) -> tuple[int, float, float]:
    """A token bucket's take: (granted, tokens left, seconds until one token) — the Lua script's twin."""
    if tokens is None or at is None:
        tokens, at = capacity, now
    tokens = min(capacity, tokens + max(0.0, now - at) * rate)
    granted = max(0, min(want, int(tokens)))
    tokens -= granted
    wait = 0.0 if granted else (1.0 - tokens) / rate
    return granted, tokens, wait


# KEYS[1]: the bucket hash {tokens, at}. ARGV: rate/s, capacity, tokens wanted, key ttl (s).
# Returns {granted, milliseconds until the next token (0 when granted)}. The clock is Redis's own, so
# processes on machines with skewed clocks still share one bucket.
_LEASE_SCRIPT = """
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = capacity
  at = now
end
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
local granted = math.max(0, math.min(want, math.floor(tokens)))
tokens = tokens - granted
redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens), 'at', string.format('%.6f', now))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
local wait = 0
if granted == 0 then
  wait = math.ceil((1 - tokens) / rate * 1000)
end
return {granted, wait}
"""


class RedisSharedState:
    def __init__(self, url: str, *, prefix: str, socket_timeout: float = 0.5) -> None:
        import redis

        self._errors = (redis.RedisError, OSError)
        self.client = redis.Redis.from_url(
            url,
            socket_timeout=socket_timeout,
            socket_connect_timeout=socket_timeout,
            decode_responses=True,
        )
        self._lease = self.client.register_script(_LEASE_SCRIPT)
        self.prefix = prefix
        self._down_until = 0.0

    def key(self, name: str) -> str:
        return f"{self.prefix}:{name}"

    def _run(self, operation: Callable[[], Result]) -> Result:
        if time.monotonic() < self._down_until:
            raise SharedStateUnavailable("redis was unavailable moments ago")
        try:
            return operation()
        except self._errors as error:
            self._down_until = time.monotonic() + UNAVAILABLE_FOR_SECONDS
            logger.warning("merchant.shared_state.unavailable", extra={"error": type(error).__name__})
            raise SharedStateUnavailable(str(error)) from error

    def get_many(self, names: Sequence[str]) -> list[str | None]:
        values = self._run(lambda: self.client.mget([self.key(name) for name in names]))
        # Text already (decode_responses), though redis-py's types cannot say so.
        return [value.decode() if isinstance(value, bytes) else value for value in values]

    def add(self, name: str, value: str, *, ttl: float) -> bool:
        return bool(self._run(lambda: self.client.set(self.key(name), value, nx=True, px=_ms(ttl))))

    def set(self, name: str, value: str, *, ttl: float) -> None:
        self._run(lambda: self.client.set(self.key(name), value, px=_ms(ttl)))

    def incr(self, name: str, *, ttl: float) -> int:
        def run() -> int:
            pipe = self.client.pipeline(transaction=True)
            pipe.incr(self.key(name))
            pipe.pexpire(self.key(name), _ms(ttl))
            return int(pipe.execute()[0])

        return self._run(run)

    def delete(self, *names: str) -> None:
        self._run(lambda: self.client.delete(*[self.key(name) for name in names]))

    def lease(self, name: str, *, want: int, rate: float, capacity: float, ttl: float) -> tuple[int, float]:
        def run() -> tuple[int, float]:
            granted, wait_ms = self._lease(keys=[self.key(name)], args=[rate, capacity, want, max(1, int(ttl))])
            return int(granted), int(wait_ms) / 1000

        return self._run(run)


class CacheSharedState:
    """The same operations on Django's cache (the file cache of `make run`), read-modify-write under a file lock."""

    def __init__(self, *, prefix: str = "merchant") -> None:
        self.prefix = prefix

    def key(self, name: str) -> str:
        return f"{self.prefix}:{name}"

    @property
    def cache(self) -> BaseCache:
        return caches["default"]

    def _run(self, operation: Callable[[], Result]) -> Result:
        try:
            return operation()
        except SharedStateUnavailable:
            raise
        except Exception as error:
            logger.warning("merchant.shared_state.unavailable", extra={"error": type(error).__name__})
            raise SharedStateUnavailable(str(error)) from error

    def get_many(self, names: Sequence[str]) -> list[str | None]:
        def run() -> list[str | None]:
            found = self.cache.get_many([self.key(name) for name in names])
            return [found.get(self.key(name)) for name in names]

        return self._run(run)

    def add(self, name: str, value: str, *, ttl: float) -> bool:
        def run() -> bool:
            with cache_mutex(self.key(name)):
                return bool(self.cache.add(self.key(name), value, timeout=_seconds(ttl)))

        return self._run(run)

    def set(self, name: str, value: str, *, ttl: float) -> None:
        self._run(lambda: self.cache.set(self.key(name), value, timeout=_seconds(ttl)))

    def incr(self, name: str, *, ttl: float) -> int:
        def run() -> int:
            key = self.key(name)
            with cache_mutex(key):
                count = int(self.cache.get(key) or 0) + 1
                self.cache.set(key, str(count), timeout=_seconds(ttl))
                return count

        return self._run(run)

    def delete(self, *names: str) -> None:
        self._run(lambda: self.cache.delete_many([self.key(name) for name in names]))

    def lease(self, name: str, *, want: int, rate: float, capacity: float, ttl: float) -> tuple[int, float]:
        def run() -> tuple[int, float]:
            key = self.key(name)
            with cache_mutex(key):
                state = self.cache.get(key) or {}
                granted, tokens, wait = bucket_take(
                    tokens=state.get("tokens"), at=state.get("at"), now=time.time(),
                    rate=rate, capacity=capacity, want=want,
                )  # fmt: skip
                self.cache.set(key, {"tokens": tokens, "at": time.time()}, timeout=_seconds(ttl))
                return granted, wait

        return self._run(run)


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


def _seconds(seconds: float) -> int:
    return max(1, int(seconds + 0.999))


_stores: dict[tuple[str, float, str, int], RedisSharedState | CacheSharedState] = {}
_stores_lock = threading.Lock()


def shared_state() -> RedisSharedState | CacheSharedState:
    """This process's store for the configured cache (one Redis client per process and URL)."""
    from django.conf import settings

    url = getattr(settings, "MERCHANT_SHARED_STATE_URL", "") or ""
    timeout = float(getattr(settings, "MERCHANT_SHARED_STATE_TIMEOUT", 0.5))
    prefix = f"{getattr(settings, 'MERCHANT_SHARED_STATE_PREFIX', 'ordering')}:merchant"
    # Keyed by pid too: a forked worker builds its own client instead of sharing its parent's sockets.
    key = (url, timeout, prefix, os.getpid())
    store = _stores.get(key)
    if store is None:
        with _stores_lock:
            store = _stores.get(key)
            if store is None:
                store = RedisSharedState(url, prefix=prefix, socket_timeout=timeout) if url else CacheSharedState()
                _stores[key] = store
    return store
