"""The receiver speaks the ACP 2026-04-17 webhook API: official events in, `{received}` or a flat Error out."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import yaml

from catalog_adapters.models import MerchantWebhookEvent, WebhookOutcome
from catalog_adapters.selectors import webhook_events_for_order, webhook_events_unprocessed
from tests.support.acp_schema import OPENAPI_DIR, assert_valid, example, order_examples
from tests.webhooks.conftest import deliver, order_event, sign

pytestmark = pytest.mark.django_db


def openapi_examples() -> dict[str, dict]:
    spec = yaml.safe_load(Path(OPENAPI_DIR / "openapi.agentic_checkout_webhook.yaml").read_text())
    content = spec["paths"]["/agentic_checkout/webhooks/order_events"]["post"]["requestBody"]["content"]
    return {name: entry["value"] for name, entry in content["application/json"]["examples"].items()}


def test_a_signed_official_event_is_stored_and_answered_with_received_and_the_request_id(client, merchant_id):
    event = order_event("ord_42")

    response = deliver(client, merchant_id, event, request_id="req_abc")

    assert response.status_code == 200
    assert response.json() == {"received": True, "request_id": "req_abc"}
    stored = MerchantWebhookEvent.objects.get()
    assert (stored.event_type, stored.order_id, stored.order_status, stored.request_id) == (
        "order_update",
        "ord_42",
        "confirmed",
        "req_abc",
    )
    assert stored.payload == event and stored.deliveries == 1
    assert list(webhook_events_for_order(merchant_id=merchant_id, order_id="ord_42")) == [stored]


def test_without_a_request_id_the_answer_is_just_received(client, merchant_id):
    response = deliver(client, merchant_id, order_event("ord_1"))

    assert response.status_code == 200 and response.json() == {"received": True}


@pytest.mark.parametrize(
    ("signature", "message_has"),
    [
        (None, "Missing Merchant-Signature"),
        ("v1=" + "a" * 64, "must be t=<timestamp>,v1=<64_hex>"),
        ("t=notanumber,v1=" + "a" * 64, "must be t=<timestamp>,v1=<64_hex>"),
        ("t=123", "must be t=<timestamp>,v1=<64_hex>"),
        ("garbage", "must be t=<timestamp>,v1=<64_hex>"),
        ("WRONG_SECRET", "verification failed"),
        ("TAMPERED", "verification failed"),
        ("STALE", "outside allowed window"),
        ("FUTURE", "outside allowed window"),
    ],
)
def test_a_missing_malformed_wrong_or_stale_signature_is_401_with_the_spec_s_flat_error(
    client, merchant_id, signature, message_has
):
    event = order_event("ord_1")
    body = json.dumps(event).encode()
    now = int(time.time())
    signature = {
        "WRONG_SECRET": sign(body, secret="not-the-secret"),
        "TAMPERED": sign(json.dumps(order_event("ord_other")).encode()),
        "STALE": sign(body, timestamp=now - 301),
        "FUTURE": sign(body, timestamp=now + 305),  # `now` is truncated: +301 could be 300.x s ahead of the server
    }.get(signature, signature)

    response = deliver(client, merchant_id, body, signature=signature)

    assert response.status_code == 401
    error = response.json()
    assert_valid(error, "Error")
    assert (error["type"], error["code"]) == ("invalid_request", "invalid_signature")
    assert message_has in error["message"]
    assert not MerchantWebhookEvent.objects.exists()


def test_a_signature_just_inside_the_300s_window_and_an_upper_case_digest_are_accepted(client, merchant_id):
    body = json.dumps(order_event("ord_1")).encode()
    signature = sign(body, timestamp=int(time.time()) - 290)
    timestamp, digest = signature.split(",")

    response = deliver(client, merchant_id, body, signature=f"{timestamp},{digest.upper().replace('V1=', 'v1=')}")

    assert response.status_code == 200


def test_a_merchant_without_a_webhook_secret_accepts_nothing(client, configure_merchant):
    merchant_id = configure_merchant("http://127.0.0.1:9", webhook_secret="").id
    body = json.dumps(order_event("ord_1")).encode()

    response = deliver(client, merchant_id, body, signature=sign(body, secret=""))

    assert response.status_code == 401
    assert_valid(response.json(), "Error")
    assert response.json()["code"] == "invalid_signature"


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b'["not", "an", "event"]',
        b'{"data": {"type": "order", "id": "ord_1"}}',
        b'{"type": "", "data": {}}',
        b'{"type": "order_update", "data": "ord_1"}',
        b'{"type": "order_update"}',
    ],
)
def test_a_signed_body_that_is_not_an_event_is_400_with_a_flat_error(client, merchant_id, body):
    response = deliver(client, merchant_id, body)

    assert response.status_code == 400
    assert_valid(response.json(), "Error")
    assert response.json()["type"] == "invalid_request" and response.json()["code"] == "invalid_payload"
    assert not MerchantWebhookEvent.objects.exists()


def test_an_unknown_merchant_is_404_with_a_flat_error_and_get_is_not_allowed(client, merchant_id):
    response = deliver(client, "nobody", order_event("ord_1"))

    assert response.status_code == 404
    assert_valid(response.json(), "Error")
    assert response.json()["code"] == "unknown_merchant"
    assert client.get(f"/webhooks/merchants/{merchant_id}/").status_code == 405
    assert not MerchantWebhookEvent.objects.exists()


def test_a_duplicate_delivery_is_accepted_and_stored_once(client, merchant_id):
    body = json.dumps(order_event("ord_7")).encode()

    first = deliver(client, merchant_id, body)
    second = deliver(client, merchant_id, body, signature=sign(body, timestamp=int(time.time()) - 5))

    assert first.status_code == second.status_code == 200
    assert second.json() == {"received": True}
    assert MerchantWebhookEvent.objects.get().deliveries == 2


def test_a_later_event_for_the_same_order_is_a_new_event(client, merchant_id):
    deliver(client, merchant_id, order_event("ord_8", event_type="order_create"))
    deliver(client, merchant_id, order_event("ord_8", status="shipped"))

    events = webhook_events_for_order(merchant_id=merchant_id, order_id="ord_8")
    assert [(e.event_type, e.order_status) for e in events] == [
        ("order_create", "confirmed"),
        ("order_update", "shipped"),
    ]


def test_every_official_example_event_and_order_is_accepted_and_one_for_no_order_of_ours_is_logged(send, merchant_id):
    # the spec's example events (two in examples.agentic_checkout.json, which predate the Order schema and
    # carry no id; three in the webhook OpenAPI file) and every example Order sent as an order_update
    events = {
        "webhook_order_create_event": example("webhook_order_create_event"),
        "webhook_order_update_event": example("webhook_order_update_event"),
        **openapi_examples(),
    }
    for name, order in order_examples().items():
        events[f"order:{name}"] = {"type": "order_update", "data": {"type": "order", "status": "confirmed", **order}}
    for name in ("order_created", "order_shipped", "order_with_refund"):
        assert_valid(events[name], "WebhookEvent")

    for name, event in events.items():
        response = send(event, request_id=f"req-{name}")
        assert response.status_code == 200, (name, response.content)
        assert response.json() == {"received": True, "request_id": f"req-{name}"}

    stored = MerchantWebhookEvent.objects.filter(merchant_id=merchant_id)
    assert stored.count() == len(events)
    # none of these orders is ours: stored, marked handled as such, nothing applied
    assert set(stored.values_list("outcome", flat=True)) == {WebhookOutcome.UNKNOWN_ORDER}
    assert not webhook_events_unprocessed(merchant_id=merchant_id).exists()


def test_an_unrecognised_event_type_is_accepted_stored_and_not_applied(send, place):
    flow = place(total=5000)
    event = order_event(flow.merchant_order_id, status="canceled")
    event["type"] = "order_dispute_opened"

    response = send(event)

    assert response.status_code == 200
    stored = MerchantWebhookEvent.objects.get()
    assert stored.event_type == "order_dispute_opened" and stored.outcome == WebhookOutcome.IGNORED_TYPE
    flow.refresh_from_db()
    assert flow.merchant_order_status == "" and flow.refunded_amount == 0
