"""The client sends with urllib3 directly: what reaches the merchant is what requests used to send (the query
string's encoding, the default headers), over pooled keep-alive connections, and a gzip answer is read."""

from __future__ import annotations

import gzip
import json

import requests

from tests.merchant_client.scripted import Reply


def test_the_query_string_is_encoded_as_requests_encoded_it(scripted, configure_merchant):
    merchant = configure_merchant(scripted.url)
    params = {"q": "blue shoes & more", "limit": 5, "colour": None, "since": "2026-01-01T00:00:00Z", "u": "é"}
    scripted.then(Reply(200, {"ok": True}), Reply(200, {"ok": True}))

    merchant.http.request("GET", "/products", operation="search_products", params=params)
    merchant.http.request("GET", "/products", operation="search_products", params={"colour": None})

    expected = requests.Request("GET", "http://h/products", params=params).prepare().url.split("?", 1)[1]
    assert scripted.received[0].query == expected
    assert scripted.received[1].query == ""


def test_requests_default_headers_are_still_sent(scripted, configure_merchant):
    merchant = configure_merchant(scripted.url)
    scripted.then(Reply(200, {"ok": True}))

    merchant.http.request("GET", "/things", operation="thing_get")

    headers = {name.lower(): value for name, value in scripted.received[0].headers.items()}
    assert headers["accept-encoding"] == requests.utils.DEFAULT_ACCEPT_ENCODING
    assert headers["accept"] == "application/json"
    assert headers["user-agent"].startswith("ordering-assistant/")


def test_a_gzip_answer_is_decoded(scripted, configure_merchant):
    merchant = configure_merchant(scripted.url)
    body = gzip.compress(json.dumps({"id": "prod_x"}).encode())
    scripted.then(Reply(200, raw=body, headers={"Content-Encoding": "gzip"}))

    response = merchant.http.request("GET", "/things", operation="thing_get")

    assert response.data == {"id": "prod_x"}
