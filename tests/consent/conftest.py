from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.consent.factories import UserFactory

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
