"""Fixtures of the merchant client tests: a scripted merchant and merchants configured per test."""

from __future__ import annotations

import uuid

import pytest

from catalog_adapters.registry import get_merchant
from tests.merchant_client.scripted import ScriptedServer

# Backoff and cool-downs tiny, so retry tests take milliseconds; timeouts short but explicit.
FAST = {
    "TOKEN": "test-secret-token-value",
    "API_VERSION": "2026-04-17",
    "WEBHOOK_SECRET": "whsec-test",
    "CONNECT_TIMEOUT": 1.0,
    "READ_TIMEOUT": 2.0,
    "MAX_ATTEMPTS": 3,
    "BACKOFF_BASE": 0.01,
    "BACKOFF_CAP": 0.02,
    "RETRY_AFTER_CAP": 2.0,
    "BREAKER_THRESHOLD": 5,
    "BREAKER_COOLDOWN": 30.0,
    "RATE_LIMIT": 0.0,
    "RATE_LIMIT_MAX_WAIT": 1.0,
    "CAPABILITIES": ["catalog", "checkout", "vault", "orders"],
}


@pytest.fixture
def scripted():
    server = ScriptedServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def configure_merchant(settings):
    """`configure_merchant(base_url, merchant_id=None, **knobs)` adds a merchant to settings.MERCHANTS.

    Each gets a fresh id unless one is given, so breaker and rate-limit state (in the shared cache)
    never leaks between tests or concurrent runs.
    """
    made = []

    def configure(base_url: str, merchant_id: str | None = None, **knobs):
        merchant_id = merchant_id or f"test{uuid.uuid4().hex[:12]}"
        values = {**FAST, **{key.upper(): value for key, value in knobs.items()}, "ID": merchant_id}
        values["BASE_URL"] = base_url.rstrip("/")
        settings.MERCHANTS = {**settings.MERCHANTS, merchant_id: values}
        merchant = get_merchant(merchant_id)
        made.append(merchant_id)
        return merchant

    yield configure
    for merchant_id in made:
        merchant = get_merchant(merchant_id)
        merchant.http.breaker.reset()
        merchant.http.rate_limiter.reset()
