"""The breaker trusts a reading of "closed, no failures" for a moment (breaker.CLOSED_READ_TTL) instead of
asking the shared state before every request; a failure, or any other reading, ends that at once, and what
another process did is seen at most that moment later (docs/merchant-integration.md, the HTTP base)."""

from __future__ import annotations

import time
import uuid

import pytest

from catalog_adapters import breaker as breaker_module
from catalog_adapters.breaker import CircuitBreaker
from catalog_adapters.errors import MerchantCircuitOpen, MerchantServerError
from catalog_adapters.sharedstate import shared_state
from tests.merchant_client.scripted import Reply


class CountingStore:
    """The process's real shared store, counting the breaker's reads of it."""

    def __init__(self) -> None:
        self.inner = shared_state()
        self.reads = 0

    def get_many(self, names):
        self.reads += 1
        return self.inner.get_many(names)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def _pair(threshold: int = 2) -> tuple[CircuitBreaker, CircuitBreaker, CountingStore]:
    merchant_id = f"cache{uuid.uuid4().hex[:10]}"
    store = CountingStore()
    here = CircuitBreaker(merchant_id, threshold=threshold, cooldown=30, state=store)  # type: ignore[arg-type]
    elsewhere = CircuitBreaker(merchant_id, threshold=threshold, cooldown=30)  # "another process"
    return here, elsewhere, store


def test_a_closed_reading_serves_the_requests_of_the_next_moment_without_asking_again():
    here, _, store = _pair()
    permits = [here.acquire() for _ in range(5)]
    assert all(permit is not None and not permit.probe for permit in permits)
    assert store.reads == 1


def test_the_closed_reading_lapses_and_a_breaker_opened_elsewhere_then_refuses(monkeypatch):
    monkeypatch.setattr(breaker_module, "CLOSED_READ_TTL", 0.05)
    here, elsewhere, store = _pair()
    assert here.acquire() is not None
    for _ in range(2):  # another process sees the merchant fail and opens the breaker
        elsewhere.record_failure(elsewhere.acquire())
    assert elsewhere.state() == "open"
    time.sleep(0.06)
    assert here.acquire() is None
    assert store.reads == 2


def test_a_failure_here_ends_the_trust_at_once():
    here, elsewhere, store = _pair()
    here.record_success(here.acquire())
    elsewhere.record_failure(elsewhere.acquire())  # counted elsewhere: 1
    here.record_failure(here.acquire())  # counted here: 2, the threshold
    assert here.acquire() is None  # read again at once: open
    assert store.reads == 2


def test_a_counted_failure_is_not_trusted_so_the_next_success_clears_it():
    here, elsewhere, store = _pair(threshold=3)
    elsewhere.record_failure(elsewhere.acquire())
    permit = here.acquire()
    assert permit is not None and permit.failures_seen == 1
    here.record_success(permit)  # a success between failures: they are no longer consecutive
    assert here.acquire() is not None and store.reads == 2  # that reading had failures: not trusted
    elsewhere.record_failure(elsewhere.acquire())
    elsewhere.record_failure(elsewhere.acquire())
    assert elsewhere.state() == "closed"


def test_over_http_the_breaker_still_opens_on_consecutive_failures_and_fails_fast(scripted, configure_merchant):
    merchant = configure_merchant(scripted.url, breaker_threshold=2, max_attempts=1)
    scripted.then(Reply(200, {"ok": True}), Reply(500), Reply(500))
    merchant.http.request("GET", "/things", operation="thing_get")  # closed, read and trusted
    for _ in range(2):
        with pytest.raises(MerchantServerError):
            merchant.http.request("GET", "/things", operation="thing_get")
    with pytest.raises(MerchantCircuitOpen):
        merchant.http.request("GET", "/things", operation="thing_get")
    assert len(scripted.received) == 3
