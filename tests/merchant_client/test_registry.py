"""Merchants come from MERCHANT_<ID>_* variables: a second merchant is configuration, not code."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from catalog_adapters.errors import CapabilityNotSupported, UnknownMerchant
from catalog_adapters.registry import get_merchant
from config.settings.merchants import merchants_from_env
from tests.merchant_client.scripted import Reply


def _clear_merchant_env(monkeypatch):
    import os

    for name in list(os.environ):
        if name.startswith("MERCHANT_"):
            monkeypatch.delenv(name)


def test_merchants_are_discovered_from_the_environment_with_their_knobs(monkeypatch):
    _clear_merchant_env(monkeypatch)
    monkeypatch.setenv("MERCHANT_ACME_EU_BASE_URL", "https://acme.example/acp/")
    monkeypatch.setenv("MERCHANT_ACME_EU_TOKEN", "acme-token")
    monkeypatch.setenv("MERCHANT_ACME_EU_API_VERSION", "2025-09-29")
    monkeypatch.setenv("MERCHANT_ACME_EU_WEBHOOK_SECRET", "acme-secret")
    monkeypatch.setenv("MERCHANT_ACME_EU_READ_TIMEOUT", "4.5")
    monkeypatch.setenv("MERCHANT_ACME_EU_MAX_ATTEMPTS", "5")
    monkeypatch.setenv("MERCHANT_ACME_EU_CAPABILITIES", "checkout, vault")

    merchants = merchants_from_env()

    acme = merchants["acme_eu"]
    assert acme["BASE_URL"] == "https://acme.example/acp"
    assert (acme["TOKEN"], acme["API_VERSION"], acme["WEBHOOK_SECRET"]) == ("acme-token", "2025-09-29", "acme-secret")
    assert (acme["READ_TIMEOUT"], acme["MAX_ATTEMPTS"], acme["CONNECT_TIMEOUT"]) == (4.5, 5, 3.05)
    assert acme["CAPABILITIES"] == ["checkout", "vault"]
    assert "sandbox" in merchants


def test_the_sandbox_merchant_defaults_match_the_sandbox_servers_own_defaults(monkeypatch, settings):
    _clear_merchant_env(monkeypatch)
    monkeypatch.delenv("SANDBOX_MERCHANT_API_TOKENS", raising=False)
    monkeypatch.delenv("SANDBOX_MERCHANT_WEBHOOK_SECRET", raising=False)

    sandbox = merchants_from_env()["sandbox"]

    # Its own process on its own port (scripts/run starts it there).
    assert sandbox["BASE_URL"] == "http://127.0.0.1:8001"
    assert sandbox["TOKEN"] == "sandbox-dev-token" == settings.SANDBOX_MERCHANT_API_TOKENS[0]
    assert sandbox["WEBHOOK_SECRET"] == settings.SANDBOX_MERCHANT_WEBHOOK_SECRET
    assert settings.DEFAULT_MERCHANT_ID == "sandbox"


def test_the_sandbox_merchant_can_be_switched_off_or_repointed(monkeypatch):
    _clear_merchant_env(monkeypatch)
    monkeypatch.setenv("MERCHANT_SANDBOX_ENABLED", "0")
    assert "sandbox" not in merchants_from_env()

    monkeypatch.setenv("MERCHANT_SANDBOX_ENABLED", "1")
    monkeypatch.setenv("MERCHANT_SANDBOX_BASE_URL", "https://sandbox.internal/sm")
    assert merchants_from_env()["sandbox"]["BASE_URL"] == "https://sandbox.internal/sm"


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("MERCHANT_BAD_READ_TIMEOUT", "soon", "MERCHANT_BAD_READ_TIMEOUT"),
        ("MERCHANT_BAD_MAX_ATTEMPTS", "0", "MERCHANT_BAD_MAX_ATTEMPTS"),
        ("MERCHANT_BAD_BASE_URL", "ftp://x", "MERCHANT_BAD_BASE_URL"),
    ],
)
def test_a_bad_value_fails_at_start_up_naming_the_variable(monkeypatch, variable, value, named):
    _clear_merchant_env(monkeypatch)
    monkeypatch.setenv("MERCHANT_BAD_BASE_URL", "https://bad.example")
    monkeypatch.setenv(variable, value)

    with pytest.raises(ImproperlyConfigured, match=named):
        merchants_from_env()


def test_a_second_merchant_from_env_is_called_at_its_url_with_its_credentials(monkeypatch, settings, scripted):
    _clear_merchant_env(monkeypatch)
    monkeypatch.setenv("MERCHANT_ACME_BASE_URL", f"{scripted.url}/acp")
    monkeypatch.setenv("MERCHANT_ACME_TOKEN", "acme-token-123")
    monkeypatch.setenv("MERCHANT_ACME_API_VERSION", "2025-09-29")
    monkeypatch.setenv("MERCHANT_ACME_RATE_LIMIT", "0")
    settings.MERCHANTS = merchants_from_env()
    scripted.then(Reply(200, {"data": []}, path="/acp/products"))

    products = get_merchant("acme").catalog.search_products(query="blue running shoes", size="42")

    assert products == []
    (received,) = scripted.received
    assert received.path == "/acp/products" and "q=blue+running+shoes" in received.query and "size=42" in received.query
    assert received.headers["Authorization"] == "Bearer acme-token-123"
    assert received.headers["API-Version"] == "2025-09-29"
    get_merchant("acme").http.breaker.reset()


def test_unknown_merchants_and_missing_capabilities_are_named_errors(configure_merchant, scripted):
    with pytest.raises(UnknownMerchant):
        get_merchant("nobody")

    merchant = configure_merchant(scripted.url, capabilities=["checkout"])

    assert merchant.supports("checkout") and not merchant.supports("catalog")
    with pytest.raises(CapabilityNotSupported):
        merchant.catalog  # noqa: B018
