"""Orders (get, cancel, refund) and the signed order webhooks the sandbox sends to our app."""

import hashlib
import hmac
import json
import time

import pytest

from sandbox_merchant.models import WebhookDelivery, WebhookStatus
from tests.support.sandbox import payment_data
from tests.support.services import CeleryWorker, database_url_for

pytestmark = pytest.mark.django_db(transaction=True)


def _total(session: dict) -> int:
    return next(item["amount"] for item in session["totals"] if item["type"] == "total")


def _place_order(sandbox_merchant, **session_fields) -> dict:
    session = sandbox_merchant.ready_session(**session_fields)
    token = sandbox_merchant.delegate(session["id"], _total(session))
    completed = sandbox_merchant.post(
        f"/checkout_sessions/{session['id']}/complete", {"payment_data": payment_data(token)}
    ).json()
    assert completed["status"] == "completed", completed
    return completed


def _verify(headers: dict, raw_body: bytes, secret: str) -> int:
    signature = dict(part.split("=", 1) for part in headers["Merchant-Signature"].split(","))
    expected = hmac.new(secret.encode(), f"{signature['t']}.".encode() + raw_body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(signature["v1"], expected)
    return int(signature["t"])


def test_get_order_shows_what_was_sold(sandbox_merchant):
    completed = _place_order(sandbox_merchant, discounts={"codes": ["ALICE10"]})

    response = sandbox_merchant.get(f"/orders/{completed['order']['id']}")

    assert response.status_code == 200
    order = response.json()
    assert order["checkout_session_id"] == completed["id"]
    assert order["status"] == "confirmed"
    assert order["type"] == "order"
    assert order["totals"] == completed["totals"]
    line = order["line_items"][0]
    assert (line["id"], line["quantity"], line["unit_price"]) == (
        completed["line_items"][0]["id"],
        {"ordered": 1, "current": 1, "fulfilled": 0},
        7200,
    )
    assert order["adjustments"] == []
    assert order["permalink_url"].endswith(f"/sandbox-merchant/orders/{order['id']}")
    assert sandbox_merchant.get("/orders/ord_nope").status_code == 404


def _amount_refunded(order: dict) -> int:
    return next(total["amount"] for total in order["totals"] if total["type"] == "amount_refunded")


def test_partial_then_full_refund_then_no_more(sandbox_merchant):
    order_id = _place_order(sandbox_merchant)["order"]["id"]
    total = sandbox_merchant.get(f"/orders/{order_id}").json()["totals"][-1]["amount"]

    partial = sandbox_merchant.post(f"/orders/{order_id}/refund", {"amount": 1000})
    too_much = sandbox_merchant.post(f"/orders/{order_id}/refund", {"amount": total})
    rest = sandbox_merchant.post(f"/orders/{order_id}/refund", {})
    again = sandbox_merchant.post(f"/orders/{order_id}/refund", {"amount": 1})
    cancel = sandbox_merchant.post(f"/orders/{order_id}/cancel")

    # rfc.orders: a refund is an adjustment and the amount_refunded total, not an order status of its own
    assert partial.json()["status"] == "confirmed"
    assert _amount_refunded(partial.json()) == 1000
    assert too_much.status_code == 400 and too_much.json()["param"] == "$.amount"
    assert rest.json()["status"] == "confirmed" and _amount_refunded(rest.json()) == total
    assert {line["status"] for line in rest.json()["line_items"]} == {"processing"}  # nothing shipped or removed
    assert [(a["type"], a["amount"]) for a in rest.json()["adjustments"]] == [
        ("refund", 1000),
        ("refund", total - 1000),
    ]
    assert again.status_code == 409 and again.json()["code"] == "conflict"
    assert cancel.status_code == 409


def test_cancel_refunds_the_rest_and_keeps_the_stock_sold(sandbox_merchant):
    order_id = _place_order(sandbox_merchant)["order"]["id"]
    available = sandbox_merchant.available("var_blue_runner_42")
    sandbox_merchant.post(f"/orders/{order_id}/refund", {"amount": 500})

    canceled = sandbox_merchant.post(f"/orders/{order_id}/cancel").json()

    assert canceled["status"] == "canceled"
    # rfc.orders §4.2: a line's status follows its quantities; a canceled line has current 0, so it is removed
    assert [(line["quantity"]["current"], line["status"]) for line in canceled["line_items"]] == [(0, "removed")]
    total = next(t["amount"] for t in canceled["totals"] if t["type"] == "total")
    assert [(a["type"], a["amount"]) for a in canceled["adjustments"]] == [
        ("refund", 500),
        ("cancellation", total - 500),
    ]
    assert all(a["status"] == "completed" and a["currency"] == "usd" for a in canceled["adjustments"])
    assert next(t["amount"] for t in canceled["totals"] if t["type"] == "amount_refunded") == total
    assert sandbox_merchant.available("var_blue_runner_42") == available
    assert sandbox_merchant.post(f"/orders/{order_id}/cancel").status_code == 409


def test_order_events_are_written_with_the_change_and_sent_signed(sandbox_merchant, capturing_http_server, settings):
    # given our app's webhook receiver is a capturing server on a real socket
    settings.SANDBOX_MERCHANT_WEBHOOK_URL = f"{capturing_http_server.url}/webhooks/merchants/sandbox/"
    settings.SANDBOX_MERCHANT_WEBHOOK_SECRET = "whsec-test"
    order_id = _place_order(sandbox_merchant)["order"]["id"]
    sandbox_merchant.post(f"/orders/{order_id}/refund", {"amount": 700})
    assert list(WebhookDelivery.objects.order_by("created_at").values_list("event_type", "status")) == [
        ("order_create", "pending"),
        ("order_update", "pending"),
    ]

    # when the sender runs (as the Celery task would)
    sent = sandbox_merchant.deliver_pending_webhooks()

    # then both arrived, signed over "t.raw_body" with the shared secret, with the full order
    assert sent == 2
    first, second = capturing_http_server.wait_for(2)
    assert first.path == "/webhooks/merchants/sandbox/"
    assert abs(_verify(first.headers, first.body, "whsec-test") - time.time()) < 60
    _verify(second.headers, second.body, "whsec-test")
    create, update = json.loads(first.body), json.loads(second.body)
    assert (create["type"], create["data"]["id"], create["data"]["status"]) == ("order_create", order_id, "confirmed")
    assert update["type"] == "order_update"
    assert update["data"]["status"] == "confirmed"  # the refund is the adjustment, not a status
    assert update["data"]["adjustments"][0]["amount"] == 700
    assert set(create) == set(update) == {"type", "data"}  # the official WebhookEvent, nothing more
    assert first.headers["Request-Id"] != second.headers["Request-Id"]
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {WebhookStatus.DELIVERED}
    # and a second run sends nothing again
    assert sandbox_merchant.deliver_pending_webhooks() == 0


def test_a_refused_webhook_stays_pending_for_a_retry(sandbox_merchant, capturing_http_server, settings):
    settings.SANDBOX_MERCHANT_WEBHOOK_URL = f"{capturing_http_server.url}/hook"
    capturing_http_server.status = 503
    _place_order(sandbox_merchant)

    sandbox_merchant.deliver_pending_webhooks()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_error[:8]) == ("pending", 1, "HTTP 503")

    capturing_http_server.status = 200
    sandbox_merchant.deliver_pending_webhooks()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("delivered", 2, "")


@pytest.fixture
def webhook_worker(capturing_http_server, monkeypatch, django_db_blocker, tmp_path):
    """A real Celery worker whose settings send sandbox webhooks to the capturing server."""
    from django.db import connection

    monkeypatch.setenv("SANDBOX_MERCHANT_WEBHOOK_URL", f"{capturing_http_server.url}/webhooks/merchants/sandbox/")
    monkeypatch.setenv("SANDBOX_MERCHANT_WEBHOOK_SECRET", "whsec-worker")
    with django_db_blocker.unblock():
        database_url = database_url_for(connection.settings_dict)
    worker = CeleryWorker(database_url=database_url, log_path=tmp_path / "worker.log")
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()


@pytest.mark.redis
def test_a_real_worker_delivers_the_order_create_webhook_after_commit(
    sandbox_merchant, capturing_http_server, webhook_worker
):
    # when an order is placed over HTTP (the task is enqueued on commit)
    sandbox_merchant.trace_id = "trace-webhook-0001"
    order_id = _place_order(sandbox_merchant)["order"]["id"]

    # then the worker (another process) sends it, signed, carrying the trace of the request
    [received] = capturing_http_server.wait_for(1, timeout=60)
    _verify(received.headers, received.body, "whsec-worker")
    body = json.loads(received.body)
    assert (body["type"], body["data"]["id"]) == ("order_create", order_id)
    assert received.headers["X-Trace-ID"] == "trace-webhook-0001"
    deadline = time.monotonic() + 10
    while WebhookDelivery.objects.get().status != WebhookStatus.DELIVERED:
        assert time.monotonic() < deadline, webhook_worker.log()
        time.sleep(0.1)


def test_staff_cancel_an_order_as_the_merchant_from_the_admin(sandbox_merchant, otp_login, django_user_model):
    # given a placed order and a signed-in superuser
    order_id = _place_order(sandbox_merchant)["order"]["id"]
    staff = django_user_model.objects.create_superuser("shopkeeper", "shop@example.com", "pw-123-long-enough")
    client = otp_login(staff)

    # when they run the admin action
    response = client.post(
        "/admin/sandbox_merchant/order/", {"action": "cancel_as_merchant", "_selected_action": [order_id]}
    )

    # then the order is canceled with a cancellation adjustment, and an order_update event says so
    assert response.status_code == 302
    order = sandbox_merchant.get(f"/orders/{order_id}").json()
    assert order["status"] == "canceled"
    [adjustment] = order["adjustments"]
    assert (adjustment["type"], adjustment["status"], adjustment["reason"]) == (
        "cancellation",
        "completed",
        "by the shop (staff shopkeeper)",
    )
    event = WebhookDelivery.objects.get(order_id=order_id, event_type="order_update").payload
    assert event["data"]["adjustments"] == order["adjustments"]
