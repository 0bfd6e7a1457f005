"""The outbound limit (local token bucket + a shared budget leased from Redis) and the breaker's cost in
Redis round trips, on this run's own Redis database; and both with no Redis at all.

Round trips are counted where they happen: each request redis-py writes to a socket (a command, a
pipeline, a script call) is one `send_packed_command`, counted for this thread only.
"""

from __future__ import annotations

import threading
import time
import uuid

import pytest
import redis.connection

from catalog_adapters import breaker as breaker_module
from catalog_adapters.breaker import CircuitBreaker
from catalog_adapters.ratelimit import OutboundRateLimiter, RateLimitTimeout
from catalog_adapters.sharedstate import RedisSharedState, bucket_take, shared_state
from tests.merchant_client.scripted import Reply

pytestmark = pytest.mark.redis


@pytest.fixture
def redis_state() -> RedisSharedState:
    store = shared_state()
    assert isinstance(store, RedisSharedState), "these tests run with REDIS_URL set"
    return store


@pytest.fixture
def no_redis() -> RedisSharedState:
    # Nothing listens on port 1: every command fails at connect, as in an outage.
    return RedisSharedState("redis://127.0.0.1:1/0", prefix=f"t{uuid.uuid4().hex}", socket_timeout=0.2)


@pytest.fixture
def round_trips(monkeypatch):
    """A counter of Redis round trips made by the current thread."""
    counted = {"n": 0}
    me = threading.get_ident()
    original = redis.connection.AbstractConnection.send_packed_command

    def counting(self, command, *args, **kwargs):
        if threading.get_ident() == me:
            counted["n"] += 1
        return original(self, command, *args, **kwargs)

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counting)

    class Counter:
        def __call__(self) -> int:
            return counted["n"]

    return Counter()


def _merchant_id() -> str:
    return f"lim{uuid.uuid4().hex[:12]}"


def _admitted(limiter: OutboundRateLimiter, tries: int) -> int:
    admitted = 0
    for _ in range(tries):
        try:
            limiter.acquire()
        except RateLimitTimeout:
            continue
        admitted += 1
    return admitted


# -- the bucket -----------------------------------------------------------------------------------


def test_the_bucket_arithmetic_admits_the_burst_then_the_rate():
    # a full bucket of 20 gives 20 at once, and no more
    granted, left, wait = bucket_take(tokens=None, at=None, now=100.0, rate=10, capacity=20, want=25)
    assert (granted, left) == (20, 0)
    # half a second later, 10/s has refilled 5
    granted, left, wait = bucket_take(tokens=left, at=100.0, now=100.5, rate=10, capacity=20, want=25)
    assert granted == 5
    # empty: the next token is a tenth of a second away
    granted, left, wait = bucket_take(tokens=left, at=100.5, now=100.5, rate=10, capacity=20, want=1)
    assert granted == 0 and wait == pytest.approx(0.1)
    # a long pause never fills beyond the burst
    granted, *_ = bucket_take(tokens=0, at=0.0, now=3600.0, rate=10, capacity=20, want=100)
    assert granted == 20


def test_the_shared_bucket_in_redis_grants_the_burst_then_says_how_long_to_wait(redis_state):
    name = f"ratelimit:{_merchant_id()}"

    first = redis_state.lease(name, want=30, rate=10, capacity=20, ttl=60)
    second = redis_state.lease(name, want=1, rate=10, capacity=20, ttl=60)

    assert first == (20, 0.0)
    assert second[0] == 0 and 0 < second[1] <= 0.1


def test_a_limiter_admits_its_burst_at_once_and_refuses_what_would_wait_too_long(redis_state):
    limiter = OutboundRateLimiter(_merchant_id(), per_second=0.1, burst=5, max_wait=0.05, state=redis_state)

    # 5 at once; the 6th would wait ten seconds for the next token, longer than it may
    assert _admitted(limiter, 8) == 5


def test_two_limiters_sharing_redis_share_one_budget(redis_state):
    merchant_id = _merchant_id()
    # two processes' limiters of the same merchant: each has a local bucket of 4, the deployment has 4
    here = OutboundRateLimiter(merchant_id, per_second=0.1, burst=4, lease=2, max_wait=0.05, state=redis_state)
    there = OutboundRateLimiter(merchant_id, per_second=0.1, burst=4, lease=2, max_wait=0.05, state=redis_state)

    admitted = _admitted(here, 2) + _admitted(there, 6) + _admitted(here, 6)

    assert admitted == 4


def test_leasing_in_batches_makes_far_fewer_round_trips_than_requests(redis_state, round_trips):
    limiter = OutboundRateLimiter(_merchant_id(), per_second=1000, burst=1000, lease=100, max_wait=1, state=redis_state)
    before = round_trips()

    assert _admitted(limiter, 60) == 60

    # leases of 1, 2, 4, 8, 16, 32 cover 63 requests: 6 round trips for 60 requests
    assert round_trips() - before <= 6


def test_without_redis_the_local_bucket_still_admits_and_limits(no_redis):
    limiter = OutboundRateLimiter(_merchant_id(), per_second=0.1, burst=3, max_wait=0.05, state=no_redis)

    assert _admitted(limiter, 6) == 3


# -- the breaker ----------------------------------------------------------------------------------


def test_a_closed_breaker_costs_one_round_trip_per_closed_read_ttl(redis_state, round_trips, monkeypatch):
    monkeypatch.setattr(breaker_module, "CLOSED_READ_TTL", 0.05)
    breaker = CircuitBreaker(_merchant_id(), threshold=3, cooldown=30, state=redis_state)
    breaker.acquire()  # the connection is warm from here on, and "closed, no failures" is trusted a moment
    before = round_trips()

    permits = [breaker.acquire() for _ in range(3)]
    for permit in permits:
        breaker.record_success(permit)
    assert all(permits) and round_trips() - before == 0

    time.sleep(0.06)  # the reading lapses: one MGET again
    permit = breaker.acquire()
    breaker.record_success(permit)
    assert permit is not None and round_trips() - before == 1


def test_breaker_failures_open_it_in_few_round_trips_and_it_keeps_its_semantics(redis_state, round_trips):
    breaker = CircuitBreaker(_merchant_id(), threshold=2, cooldown=30, state=redis_state)
    other_process = CircuitBreaker(breaker.merchant_id, threshold=2, cooldown=30, state=redis_state)
    breaker.acquire()  # closed, no failures: trusted for the next request
    before = round_trips()

    breaker.record_failure(breaker.acquire())  # INCR (the trusted reading ends with the failure)
    assert round_trips() - before == 1
    breaker.record_failure(breaker.acquire())  # read + INCR + SET NX (opens)
    assert round_trips() - before == 4

    assert other_process.state() == "open" and other_process.acquire() is None


def test_a_success_after_failures_clears_them(redis_state):
    breaker = CircuitBreaker(_merchant_id(), threshold=2, cooldown=30, state=redis_state)
    breaker.record_failure(breaker.acquire())

    breaker.record_success(breaker.acquire())
    breaker.record_failure(breaker.acquire())

    assert breaker.state() == "closed"  # one failure since the success, not two


def test_without_redis_the_breaker_reads_closed_and_nothing_raises(no_redis):
    breaker = CircuitBreaker(_merchant_id(), threshold=1, cooldown=30, state=no_redis)

    permit = breaker.acquire()
    breaker.record_failure(permit)

    assert permit is not None and breaker.state() == "closed"


# -- one merchant call ----------------------------------------------------------------------------


def test_a_merchant_call_makes_at_most_one_redis_round_trip_once_warm(scripted, configure_merchant, round_trips):
    merchant = configure_merchant(scripted.url, rate_limit=100)
    scripted.then(*[Reply(200, {"ok": True})] * 12)
    for _ in range(2):
        merchant.http.request("GET", "/things", operation="thing_get")
    before = round_trips()

    for _ in range(10):
        merchant.http.request("GET", "/things", operation="thing_get")

    # a lease now and then (batches of 2, 4, 8 at 100/s with a lease of 10) and the breaker's closed reading
    # trusted for 0.25 s (read again at most once or twice should the ten calls take longer on a busy machine)
    assert round_trips() - before <= 5


def test_a_merchants_allowance_defaults_to_100_per_second_and_is_set_by_its_variables(monkeypatch):
    from config.settings.merchants import merchant_from_env

    assert merchant_from_env("acme", {"BASE_URL": "https://acme.example"})["RATE_LIMIT"] == 100.0

    monkeypatch.setenv("MERCHANT_ACME_RATE_LIMIT", "250")
    monkeypatch.setenv("MERCHANT_ACME_RATE_LIMIT_BURST", "50")
    config = merchant_from_env("acme", {"BASE_URL": "https://acme.example"})
    limiter = OutboundRateLimiter("acme", per_second=config["RATE_LIMIT"], burst=config["RATE_LIMIT_BURST"], max_wait=1)
    assert (limiter.per_second, limiter.burst, limiter.max_lease) == (250.0, 50.0, 25)


# -- the file cache of `make run` ------------------------------------------------------------------


@pytest.fixture
def file_state(settings, tmp_path):
    from catalog_adapters.sharedstate import CacheSharedState

    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(tmp_path)}
    }
    return CacheSharedState(prefix=f"t{uuid.uuid4().hex}")


def test_on_the_file_cache_concurrent_failures_are_all_counted_under_the_file_lock(file_state):
    breaker = CircuitBreaker(_merchant_id(), threshold=1000, cooldown=30, state=file_state)

    def fail_25_times():
        for _ in range(25):
            breaker.record_failure(breaker.acquire())

    threads = [threading.Thread(target=fail_25_times) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert breaker._read()[1] == 100


def test_on_the_file_cache_the_breaker_opens_for_everyone_and_the_budget_is_shared(file_state):
    merchant_id = _merchant_id()
    breaker = CircuitBreaker(merchant_id, threshold=2, cooldown=30, state=file_state)
    breaker.record_failure(breaker.acquire())
    breaker.record_failure(breaker.acquire())
    here = OutboundRateLimiter(merchant_id, per_second=0.1, burst=3, max_wait=0.05, state=file_state)
    there = OutboundRateLimiter(merchant_id, per_second=0.1, burst=3, max_wait=0.05, state=file_state)

    assert CircuitBreaker(merchant_id, threshold=2, cooldown=30, state=file_state).acquire() is None
    assert _admitted(here, 2) + _admitted(there, 5) == 3
