"""The merchant client takes its proxy and CA bundle from the environment once, when it is built, for its
merchant's URL (requests would read the environment and ~/.netrc again at every call): the same settings
apply, without the per-call cost."""

from __future__ import annotations

from catalog_adapters.http import MerchantHttpClient
from catalog_adapters.registry import MerchantConfig


def _client(base_url: str) -> MerchantHttpClient:
    return MerchantHttpClient(
        MerchantConfig(id="envshop", base_url=base_url, token="t", api_version="2026-04-17", webhook_secret="w")
    )


def test_a_proxy_in_the_environment_is_used_for_the_merchant(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    client = _client("https://shop.example/acp")
    assert client.session.trust_env is False
    assert client.session.proxies.get("https") == "http://proxy.internal:3128"


def test_a_merchant_named_in_no_proxy_is_reached_directly(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "shop.example")
    client = _client("https://shop.example/acp")
    assert "https" not in client.session.proxies


def test_a_ca_bundle_in_the_environment_verifies_the_merchant(monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/internal.pem")
    assert _client("https://shop.example/acp").session.verify == "/etc/ssl/certs/internal.pem"
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    assert _client("https://shop.example/acp").session.verify is True
