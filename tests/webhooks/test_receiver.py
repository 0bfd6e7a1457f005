"""The receiver speaks the ACP 2026-04-17 webhook API: official events in, `{received}` or a flat Error out."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import yaml

from catalog_adapters.models import MerchantWebhookEvent, WebhookOutcome
from catalog_adapters.selectors import webhook_events_for_order, webhook_events_unprocessed
from catalog_adapters.services import MAX_EVENT_DEPTH
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
        # not the spec's 64 hex digits: a non-ASCII byte was a 500 (hmac.compare_digest refuses non-ASCII text)
        ("t=123,v1=\u00e9" + "a" * 63, "must be t=<timestamp>,v1=<64_hex>"),
        ("t=123,v1=" + "g" * 64, "must be t=<timestamp>,v1=<64_hex>"),
        ("t=123,v1=" + "a" * 63, "must be t=<timestamp>,v1=<64_hex>"),
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


# -- bodies that are signed but cannot be stored or are not an event: a 4xx, never a 500 ----------------------


def assert_refused_as_invalid_payload(response, *, message_has: str = "") -> None:
    assert response.status_code == 400, response.content
    error = response.json()
    assert_valid(error, "Error")
    assert (error["type"], error["code"]) == ("invalid_request", "invalid_payload")
    assert message_has in error["message"]
    assert not MerchantWebhookEvent.objects.exists()


def nested_event(levels: int, *, note: str = "") -> bytes:
    """An official event whose unknown `metadata` field nests `levels` arrays (the event itself is 2 levels)."""
    event = order_event("ord_deep")
    event["data"]["metadata"] = "NESTED"
    raw = json.dumps(event).replace('"NESTED"', "[" * levels + json.dumps(note) + "]" * levels)
    return raw.encode()


def test_a_body_as_deep_as_the_limit_is_accepted_and_brackets_inside_strings_do_not_count(client, merchant_id):
    body = nested_event(MAX_EVENT_DEPTH - 2, note="[{" * 500)

    response = deliver(client, merchant_id, body)

    assert response.status_code == 200, response.content
    assert MerchantWebhookEvent.objects.get().payload == json.loads(body)


@pytest.mark.parametrize("levels", [MAX_EVENT_DEPTH - 1, 900, 1000, 100_000])
def test_a_body_nested_deeper_than_the_limit_is_400_whatever_the_stack_left_to_the_parser(client, merchant_id, levels):
    response = deliver(client, merchant_id, nested_event(levels))

    assert_refused_as_invalid_payload(response, message_has=f"more than {MAX_EVENT_DEPTH} levels deep")


@pytest.mark.parametrize(
    ("field", "value", "message_has"),
    [
        ("id", '"ord_\\ud800"', "$.data.id is not text"),  # a lone surrogate: valid JSON, no UTF-8
        ("order_number", '"N-\\udfff1"', "$.data.order_number is not text"),
        ("id", '"ord_\\u0000"', "$.data.id is not text"),  # NUL: PostgreSQL text cannot hold it
        ("metadata", '{"note": ["ok", "a\\u0000b"]}', "$.data.metadata.note[1] is not text"),
        ("metadata", '{"k\\ud800": 1}', "A key in $.data.metadata is not text"),
        ("metadata", "1e999", "$.data.metadata is not a finite number"),
        ("metadata", "NaN", "not JSON"),
        ("metadata", "-Infinity", "not JSON"),
    ],
)
def test_a_signed_body_with_a_value_postgresql_cannot_store_is_400_and_names_where(
    client, merchant_id, field, value, message_has
):
    event = order_event("ord_1")
    event["data"][field] = "VALUE"
    body = json.dumps(event).replace('"VALUE"', value).encode()

    response = deliver(client, merchant_id, body)

    assert_refused_as_invalid_payload(response, message_has=message_has)


def test_a_body_that_is_not_utf_8_is_400(client, merchant_id):
    body = json.dumps(order_event("ord_1")).encode().replace(b"Blue Runner", b"Blue \xff Runner")

    assert_refused_as_invalid_payload(deliver(client, merchant_id, body), message_has="not UTF-8")


@pytest.mark.parametrize("signed", [True, False])
def test_a_body_over_the_size_limit_is_413_with_the_spec_s_flat_error_signed_or_not(
    client, merchant_id, settings, signed
):
    event = order_event("ord_big")
    event["data"]["metadata"] = {"padding": "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE}
    body = json.dumps(event).encode()

    response = deliver(client, merchant_id, body, signature="SIGN" if signed else None)

    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    error = response.json()
    assert_valid(error, "Error")
    assert (error["type"], error["code"]) == ("invalid_request", "request_too_large")
    assert f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes" in error["message"]
    assert not MerchantWebhookEvent.objects.exists()


def test_the_size_limit_is_the_configured_one(client, merchant_id, settings):
    small = json.dumps(order_event("ord_small")).encode()
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = len(small)
    event = order_event("ord_small_but_longer")

    assert deliver(client, merchant_id, small).status_code == 200
    assert deliver(client, merchant_id, event).status_code == 413
    assert list(MerchantWebhookEvent.objects.values_list("order_id", flat=True)) == ["ord_small"]


@pytest.mark.parametrize("event_type", ["order_update", "order_create"])
def test_an_order_event_whose_data_is_not_an_order_is_400_naming_every_missing_field(client, merchant_id, event_type):
    response = deliver(client, merchant_id, {"type": event_type, "data": {}})

    assert_refused_as_invalid_payload(
        response, message_has="$.data lacks type, checkout_session_id, permalink_url, status"
    )


@pytest.mark.parametrize(
    ("change", "message_has"),
    [
        (lambda data: data.pop("permalink_url"), "$.data lacks permalink_url"),
        (lambda data: data.pop("status"), "$.data lacks status"),
        (lambda data: data.update(type="invoice"), "$.data.type: 'order' was expected"),
        (lambda data: data.update(checkout_session_id=42), "$.data.checkout_session_id: 42 is not of type 'string'"),
        (lambda data: data["totals"][1].update(amount="5000"), "$.data.totals[1].amount: '5000' is not of type"),
        (lambda data: data["line_items"][0].pop("quantity"), "$.data.line_items[0] lacks quantity"),
        (lambda data: data.update(adjustments={"id": "adj_1"}), "$.data.adjustments: "),
    ],
)
def test_an_order_event_that_breaks_the_spec_s_order_is_400_naming_the_field(client, merchant_id, change, message_has):
    event = order_event("ord_1")
    change(event["data"])

    assert_refused_as_invalid_payload(deliver(client, merchant_id, event), message_has=message_has)


def test_an_order_event_keeps_the_spec_s_leniencies_unknown_fields_open_enums_and_no_id(client, merchant_id):
    event = order_event("ord_1")
    event["data"]["loyalty_points"] = {"earned": 12}  # a field of a later spec
    event["data"]["totals"].append({"type": "carbon_offset", "display_text": "Offset", "amount": 10})
    event["data"]["fulfillments"] = [{"id": "ful_1", "type": "drone", "status": "in_flight", "eta_minutes": 9}]
    del event["data"]["id"]  # the spec's own example events carry none: matched by checkout_session_id

    response = deliver(client, merchant_id, event)

    assert response.status_code == 200, response.content
    assert MerchantWebhookEvent.objects.get().payload == event


def test_an_unknown_event_type_is_accepted_whatever_its_data_object_holds(send):
    response = send({"type": "order_dispute_opened", "data": {"dispute": {"id": "dp_1"}}})

    assert response.status_code == 200
    stored = MerchantWebhookEvent.objects.get()
    assert stored.event_type == "order_dispute_opened" and stored.outcome == WebhookOutcome.IGNORED_TYPE


def test_a_refused_body_leaves_nothing_behind_so_the_corrected_retry_with_the_same_timestamp_is_stored(
    client, merchant_id
):
    signed_at = int(time.time())
    broken = {"type": "order_update", "data": {"type": "order", "id": "ord_9", "checkout_session_id": "cs_9"}}
    corrected = order_event("ord_9", checkout_session_id="cs_9")

    first = deliver(client, merchant_id, json.dumps(broken).encode(), signature=None)
    refused = deliver(client, merchant_id, broken, signature=sign(json.dumps(broken).encode(), timestamp=signed_at))
    refused_again = deliver(
        client, merchant_id, broken, signature=sign(json.dumps(broken).encode(), timestamp=signed_at)
    )
    accepted = deliver(
        client, merchant_id, corrected, signature=sign(json.dumps(corrected).encode(), timestamp=signed_at)
    )

    assert first.status_code == 401
    assert refused.status_code == refused_again.status_code == 400
    assert "$.data lacks permalink_url, status" in refused.json()["message"]
    assert accepted.status_code == 200 and accepted.json() == {"received": True}
    stored = MerchantWebhookEvent.objects.get()
    assert (stored.order_id, stored.deliveries, stored.payload) == ("ord_9", 1, corrected)
