"""The merchant webhook receiver: signature, timestamp tolerance, unknown merchants, duplicates."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest

from catalog_adapters.models import MerchantWebhookEvent
from catalog_adapters.selectors import webhook_events_for_order, webhook_events_unprocessed

SECRET = "whsec-test"


def sign(body: bytes, *, secret: str = SECRET, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def order_event(order_id: str = "ord_1", kind: str = "order_create", status: str = "confirmed") -> bytes:
    payload = {"type": kind, "data": {"id": order_id, "checkout_session_id": "cs_1", "status": status}}
    return json.dumps(payload).encode()


@pytest.fixture
def merchant_id(configure_merchant):
    return configure_merchant("http://127.0.0.1:9", webhook_secret=SECRET).id


def post(client, merchant_id: str, body: bytes, signature: str | None):
    headers = {"Merchant-Signature": signature} if signature is not None else {}
    return client.post(f"/webhooks/merchants/{merchant_id}/", body, content_type="application/json", headers=headers)


@pytest.mark.django_db
def test_a_validly_signed_event_is_stored(client, merchant_id):
    body = order_event("ord_42")

    response = post(client, merchant_id, body, sign(body))

    assert response.status_code == 200 and response.json()["duplicate"] is False
    event = MerchantWebhookEvent.objects.get()
    assert (event.merchant_id, event.event_type, event.order_id, event.order_status) == (
        merchant_id,
        "order_create",
        "ord_42",
        "confirmed",
    )
    assert event.payload == json.loads(body) and event.deliveries == 1
    assert list(webhook_events_for_order(merchant_id=merchant_id, order_id="ord_42")) == [event]
    assert list(webhook_events_unprocessed(merchant_id=merchant_id)) == [event]


@pytest.mark.django_db
def test_a_duplicate_delivery_is_accepted_and_recorded_once(client, merchant_id):
    body = order_event("ord_7")

    first = post(client, merchant_id, body, sign(body))
    second = post(client, merchant_id, body, sign(body, timestamp=int(time.time()) - 5))

    assert first.status_code == second.status_code == 200
    assert second.json()["duplicate"] is True
    event = MerchantWebhookEvent.objects.get()
    assert event.deliveries == 2


@pytest.mark.django_db
def test_a_later_event_for_the_same_order_is_a_new_event(client, merchant_id):
    created, updated = order_event("ord_8"), order_event("ord_8", "order_update", "refunded")

    post(client, merchant_id, created, sign(created))
    post(client, merchant_id, updated, sign(updated))

    assert [e.event_type for e in webhook_events_for_order(merchant_id=merchant_id, order_id="ord_8")] == [
        "order_create",
        "order_update",
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("signature", "code"),
    [
        (None, "signature_missing"),
        ("v1=abc", "signature_malformed"),
        ("t=notanumber,v1=abc", "signature_malformed"),
        ("WRONG_SECRET", "signature_invalid"),
        ("TAMPERED", "signature_invalid"),
        ("STALE", "signature_stale"),
        ("FUTURE", "signature_stale"),
    ],
)
def test_missing_bad_or_stale_signatures_are_refused_with_a_clear_error(client, merchant_id, signature, code):
    body = order_event()
    now = int(time.time())
    signature = {
        "WRONG_SECRET": sign(body, secret="not-the-secret"),
        "TAMPERED": sign(order_event("ord_other")),
        "STALE": sign(body, timestamp=now - 301),
        "FUTURE": sign(body, timestamp=now + 301),
    }.get(signature, signature)

    response = post(client, merchant_id, body, signature)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == code and response.json()["error"]["message"]
    assert not MerchantWebhookEvent.objects.exists()


@pytest.mark.django_db
def test_a_signature_just_inside_the_tolerance_is_accepted(client, merchant_id):
    body = order_event()

    response = post(client, merchant_id, body, sign(body, timestamp=int(time.time()) - 290))

    assert response.status_code == 200


@pytest.mark.django_db
def test_a_signed_body_that_is_not_an_event_is_refused(client, merchant_id):
    body = b'["not", "an", "event"]'

    response = post(client, merchant_id, body, sign(body))

    assert response.status_code == 400 and response.json()["error"]["code"] == "payload_invalid"


@pytest.mark.django_db
def test_an_unknown_merchant_is_404_and_get_is_not_allowed(client, merchant_id):
    body = order_event()

    assert post(client, "nobody", body, sign(body)).status_code == 404
    assert client.get(f"/webhooks/merchants/{merchant_id}/").status_code == 405
    assert not MerchantWebhookEvent.objects.exists()


@pytest.mark.django_db
def test_a_merchant_without_a_webhook_secret_accepts_nothing(client, configure_merchant):
    merchant_id = configure_merchant("http://127.0.0.1:9", webhook_secret="").id
    body = order_event()

    response = post(client, merchant_id, body, sign(body, secret=""))

    assert response.status_code == 400 and response.json()["error"]["code"] == "webhook_secret_missing"
