"""Request signing: with MERCHANT_<ID>_SIGNING_KEY set, every request carries `Timestamp` (RFC 3339) and
`Signature` (base64url HMAC-SHA256 over f"{Timestamp}.{body}"); without it, neither. The key is never
logged. Checked on the wire, against a scripted server on a real socket.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import uuid
from datetime import UTC, datetime

import pytest

from catalog_adapters.contract import PaymentData
from catalog_adapters.http import request_signature
from config.settings.merchants import merchant_from_env
from tests.merchant_client.scripted import Reply
from tests.support.acp_schema import example

pytestmark = [pytest.mark.redis]
KEY = "sk_sign_" + "s3cr3t-signing-key-value"


def verify(received, key: str) -> bool:
    """What a merchant does: recompute over the exact bytes received and compare in constant time."""
    timestamp = received.headers["Timestamp"]
    expected = hmac.new(key.encode(), f"{timestamp}.".encode() + received.body, hashlib.sha256).digest()
    given = received.headers["Signature"]
    return hmac.compare_digest(base64.urlsafe_b64decode(given + "=" * (-len(given) % 4)), expected)


def test_every_request_of_a_merchant_with_a_key_is_signed_over_its_exact_body(scripted, configure_merchant):
    merchant = configure_merchant(scripted.url, signing_key=KEY)
    session = example("create_checkout_session_response")
    scripted.then(Reply(200, session), Reply(200, session))

    merchant.checkout.get(session_id=session["id"])
    merchant.checkout.cancel(session_id=session["id"], operation_id=f"op-{uuid.uuid4().hex}")

    get, post = scripted.received
    for received in (get, post):
        assert verify(received, KEY)
        stamped = datetime.strptime(received.headers["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        assert abs((datetime.now(UTC) - stamped).total_seconds()) < 60
        assert "=" not in received.headers["Signature"]  # base64url without padding
    assert not verify(post, "another-key")
    assert get.body == b""  # a GET signs the empty body


def test_a_changed_body_or_timestamp_no_longer_verifies(scripted, configure_merchant):
    merchant = configure_merchant(scripted.url, signing_key=KEY)
    scripted.then(Reply(200, example("create_checkout_session_response")))
    merchant.checkout.complete(
        session_id="checkout_session_123",
        payment=PaymentData(token="vt_1", handler_id="card_tokenized"),
        operation_id=f"op-{uuid.uuid4().hex}",
    )
    (received,) = scripted.received
    assert verify(received, KEY)
    received.body = received.body.replace(b"vt_1", b"vt_2")
    assert not verify(received, KEY)
    assert request_signature(key=KEY, timestamp="2026-04-17T10:30:00Z", body="{}") != request_signature(
        key=KEY, timestamp="2026-04-17T10:30:01Z", body="{}"
    )


def test_retries_are_signed_afresh_over_the_same_bytes(scripted, configure_merchant):
    merchant = configure_merchant(scripted.url, signing_key=KEY)
    scripted.then(Reply(503), Reply(200, example("cancel_checkout_session_response")))
    merchant.checkout.cancel(session_id="checkout_session_123", operation_id=f"op-{uuid.uuid4().hex}")
    first, second = scripted.received
    assert first.body == second.body
    assert verify(first, KEY) and verify(second, KEY)


def test_a_merchant_without_a_key_sends_no_signature(scripted, configure_merchant):
    merchant = configure_merchant(scripted.url)
    scripted.then(Reply(200, example("create_checkout_session_response")))
    merchant.checkout.get(session_id="checkout_session_123")
    (received,) = scripted.received
    assert "Signature" not in received.headers and "Timestamp" not in received.headers


def test_the_key_comes_from_the_environment_and_never_shows_in_logs_or_repr(
    scripted, configure_merchant, monkeypatch, caplog
):
    monkeypatch.setenv("MERCHANT_ACME_BASE_URL", "https://acme.example/acp")
    monkeypatch.setenv("MERCHANT_ACME_SIGNING_KEY", KEY)
    assert merchant_from_env("acme")["SIGNING_KEY"] == KEY

    merchant = configure_merchant(scripted.url, signing_key=KEY)
    scripted.then(Reply(500), Reply(200, example("create_checkout_session_response")))
    with caplog.at_level(logging.DEBUG):
        merchant.checkout.get(session_id="checkout_session_123")

    assert KEY not in repr(merchant.config)
    logged = " ".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
    assert caplog.records and KEY not in logged
