"""Our outbound rate limit and the breaker, whose state lives in the shared cache (Redis or files)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
import uuid

import pytest

from catalog_adapters.errors import MerchantCircuitOpen, MerchantRateLimited
from tests.merchant_client.scripted import Reply
from tests.support.services import PROJECT_DIR, child_env


def _burst(merchant, count: int) -> tuple[list, list]:
    successes, failures = [], []
    lock = threading.Lock()

    def call():
        try:
            response = merchant.http.request("GET", "/things", operation="thing_get")
            with lock:
                successes.append(response)
        except MerchantRateLimited as error:
            with lock:
                failures.append(error)

    threads = [threading.Thread(target=call) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return successes, failures


def test_a_burst_is_spread_to_our_own_rate_limit_instead_of_hitting_the_merchant(scripted, configure_merchant):
    merchant = configure_merchant(scripted.url, rate_limit=5, rate_limit_max_wait=5)

    successes, failures = _burst(merchant, 12)

    assert len(successes) == 12 and failures == []
    times = sorted(received.at for received in scripted.received)
    # 12 requests at 5/s cannot all go out within one second; the first 5 may.
    assert times[-1] - times[0] >= 1.0
    for index in range(len(times)):
        in_one_second = [t for t in times if times[index] <= t < times[index] + 1.0]
        assert len(in_one_second) <= 10  # a sliding window admits at most ~2x capacity across a boundary


def test_callers_wait_a_bounded_time_then_fail_clearly_having_sent_nothing(scripted, configure_merchant):
    merchant = configure_merchant(scripted.url, rate_limit=2, rate_limit_max_wait=0.2)

    started = time.monotonic()
    successes, failures = _burst(merchant, 8)

    assert time.monotonic() - started < 3
    assert failures and all(error.attempts == 0 and error.error_class == "rate_limited" for error in failures)
    assert len(scripted.received) == len(successes) <= 3


def test_the_rate_limit_is_shared_by_clients_of_the_same_merchant(scripted, configure_merchant, settings):
    merchant = configure_merchant(scripted.url, rate_limit=2, rate_limit_max_wait=0.1)
    # A second client of the same merchant, as another process would build it.
    from catalog_adapters.http import MerchantHttpClient

    other = MerchantHttpClient(merchant.config)
    merchant.http.request("GET", "/a", operation="thing_get")
    merchant.http.request("GET", "/a", operation="thing_get")

    with pytest.raises(MerchantRateLimited):
        other.request("GET", "/a", operation="thing_get")


def test_a_breaker_opened_by_another_process_fails_fast_here(scripted, configure_merchant):
    merchant_id = f"proc{uuid.uuid4().hex[:10]}"
    prefix = f"MERCHANT_{merchant_id.upper()}"
    scripted.then(Reply(500), Reply(500))
    # when: another process (configured only through MERCHANT_<ID>_* variables) sees two 5xx
    script = textwrap.dedent(
        f"""
        import django
        django.setup()
        from catalog_adapters.errors import MerchantServerError
        from catalog_adapters.registry import get_merchant
        merchant = get_merchant({merchant_id!r})
        for _ in range(2):
            try:
                merchant.http.request("GET", "/things", operation="thing_get")
            except MerchantServerError:
                pass
        print(merchant.http.breaker.state())
        """
    )
    env = child_env(
        **{
            f"{prefix}_BASE_URL": scripted.url,
            f"{prefix}_TOKEN": "child-token",
            f"{prefix}_BREAKER_THRESHOLD": "2",
            f"{prefix}_BREAKER_COOLDOWN": "30",
            f"{prefix}_MAX_ATTEMPTS": "1",
        }
    )
    child = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=60
    )
    assert child.returncode == 0, child.stderr
    assert child.stdout.strip().splitlines()[-1] == "open"

    # then: this process, same merchant, fails fast and sends nothing
    merchant = configure_merchant(scripted.url, merchant_id=merchant_id, breaker_threshold=2, breaker_cooldown=30)
    assert merchant.http.breaker.state() == "open"
    with pytest.raises(MerchantCircuitOpen):
        merchant.http.request("GET", "/things", operation="thing_get")
    assert len(scripted.received) == 2
