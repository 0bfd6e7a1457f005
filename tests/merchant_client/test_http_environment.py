"""The merchant client takes its proxy and CA bundle from the environment once, when it is built, for its
merchant's URL, the way requests reads them (requests would read the environment and ~/.netrc again at
every call): the same settings apply, without the per-call cost. The client sends with urllib3 directly."""

from __future__ import annotations

import certifi
import urllib3

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
    assert client.proxy_url == "http://proxy.internal:3128"
    assert isinstance(client.pool, urllib3.ProxyManager)
    assert client.pool.proxy.host == "proxy.internal" and client.pool.proxy.port == 3128


def test_proxy_credentials_go_as_proxy_authorization(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://user:secret@proxy.internal:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    client = _client("https://shop.example/acp")
    assert isinstance(client.pool, urllib3.ProxyManager)
    assert client.pool.proxy_headers["proxy-authorization"] == "Basic dXNlcjpzZWNyZXQ="


def test_a_merchant_named_in_no_proxy_is_reached_directly(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "shop.example")
    client = _client("https://shop.example/acp")
    assert client.proxy_url is None
    assert not isinstance(client.pool, urllib3.ProxyManager)


def test_an_http_proxy_is_not_used_for_an_https_merchant(monkeypatch):
    monkeypatch.delenv("HTTPS_PROXY", raising=False)
    monkeypatch.delenv("https_proxy", raising=False)
    monkeypatch.delenv("ALL_PROXY", raising=False)
    monkeypatch.delenv("all_proxy", raising=False)
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.internal:3128")
    assert _client("https://shop.example/acp").proxy_url is None


def test_a_ca_bundle_in_the_environment_verifies_the_merchant(monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/internal.pem")
    client = _client("https://shop.example/acp")
    assert client.ca_certs == "/etc/ssl/certs/internal.pem"
    assert client.pool.connection_pool_kw["ca_certs"] == "/etc/ssl/certs/internal.pem"
    assert client.pool.connection_pool_kw["cert_reqs"] == "CERT_REQUIRED"
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    # Without one, certifi's bundle, as requests verified with.
    client = _client("https://shop.example/acp")
    assert client.ca_certs == certifi.where()
    assert client.pool.connection_pool_kw["cert_reqs"] == "CERT_REQUIRED"
