from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.consent.factories import UserFactory
from tests.ordering.conftest import QUICK_MERCHANT

CEILINGS = {"per_order": 50_000, "per_day": 100_000, "per_month": 300_000, "per_session": 50_000}


@pytest.fixture(autouse=True)
def consent_settings(settings):
    # The tests reason about these exact numbers, whatever the environment says.
    settings.CONSENT_CURRENCY = "USD"
    settings.CONSENT_CAP_CEILINGS = dict(CEILINGS)
    settings.CONSENT_AUTO_CHECKOUT_CEILING = 5_000
    settings.CONSENT_RESERVATION_TTL_SECONDS = 1800
    settings.CONSENT_STEPUP_WINDOW_MINUTES = 10
    return settings


@pytest.fixture
def alice(db):
    return UserFactory(username="alice")


@pytest.fixture
def bob(db):
    return UserFactory(username="bob")


@pytest.fixture
def alice_api(alice):
    client = APIClient(enforce_csrf_checks=False)
    client.force_login(alice)
    return client


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def vault(sandbox_merchant, settings):
    """The sandbox merchant on a live socket as the default merchant, and a way to link a user to one of
    its customers (cus_alice has pm_alice_visa, pm_alice_decline, pm_alice_3ds; cus_bob has pm_bob_visa)."""
    from catalog_adapters.registry import get_merchant, reset_merchants
    from consent.services.wallet import merchant_account_link

    settings.MERCHANTS = {
        **settings.MERCHANTS,
        "sandbox": {**settings.MERCHANTS["sandbox"], **QUICK_MERCHANT, "BASE_URL": sandbox_merchant.base_url},
    }
    settings.DEFAULT_MERCHANT_ID = "sandbox"
    reset_merchants()

    def link(user, customer_ref: str = "cus_alice"):
        return merchant_account_link(
            user_id=user.pk, merchant_id="sandbox", customer_ref=customer_ref, email=f"{customer_ref}@example.com"
        )

    sandbox_merchant.link = link
    yield sandbox_merchant
    merchant = get_merchant("sandbox")
    merchant.http.breaker.reset()
    merchant.http.rate_limiter.reset()
    reset_merchants()
