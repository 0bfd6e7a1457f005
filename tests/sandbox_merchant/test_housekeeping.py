"""The periodic tasks and the webhook task's retries, run in this process (Celery eager) or directly."""

from datetime import timedelta

import pytest
from django.utils import timezone

from config.celery import app
from sandbox_merchant import tasks
from sandbox_merchant.models import IdempotencyRecord, ReceivedRequest, WebhookDelivery, WebhookStatus
from tests.support.sandbox import payment_data

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def eager_celery(monkeypatch):
    monkeypatch.setitem(app.conf, "task_always_eager", True)
    monkeypatch.setitem(app.conf, "task_eager_propagates", True)


def _place_order(sandbox_merchant) -> str:
    session = sandbox_merchant.ready_session()
    total = next(t["amount"] for t in session["totals"] if t["type"] == "total")
    token = sandbox_merchant.delegate(session["id"], total)
    response = sandbox_merchant.post(
        f"/checkout_sessions/{session['id']}/complete", {"payment_data": payment_data(token)}
    )
    return response.json()["order"]["id"]


def test_the_sweeper_resends_an_event_whose_task_was_lost(
    sandbox_merchant, capturing_http_server, settings, eager_celery
):
    # given an order event left pending for 20 minutes (its task never ran)
    settings.SANDBOX_MERCHANT_WEBHOOK_URL = f"{capturing_http_server.url}/hook"
    order_id = _place_order(sandbox_merchant)
    capturing_http_server.wait_for(1)  # eager: the task ran on commit
    capturing_http_server.requests.clear()
    WebhookDelivery.objects.update(
        status=WebhookStatus.PENDING,
        created_at=timezone.now() - timedelta(minutes=20),
        attempts=0,
        last_attempt_at=None,
        delivered_at=None,
    )

    # when
    resent = tasks.resend_stuck_webhooks()

    # then
    assert resent == 1
    [received] = capturing_http_server.wait_for(1)
    assert order_id.encode() in received.body
    assert WebhookDelivery.objects.get().status == WebhookStatus.DELIVERED
    assert tasks.resend_stuck_webhooks() == 0


def test_the_webhook_task_retries_then_gives_up_after_the_last_attempt(
    sandbox_merchant, capturing_http_server, settings
):
    # given a receiver that keeps failing (the task enqueued on commit waits in the broker: no worker here)
    settings.SANDBOX_MERCHANT_WEBHOOK_URL = f"{capturing_http_server.url}/hook"
    settings.SANDBOX_MERCHANT_WEBHOOK_MAX_ATTEMPTS = 3
    capturing_http_server.status = 500
    _place_order(sandbox_merchant)
    delivery = WebhookDelivery.objects.get()

    # when the task runs (apply: here, with its retries run at once instead of after the backoff)
    result = tasks.deliver_webhook.apply(args=[delivery.id])

    # then it tried three times and gave the event up as failed
    assert result.get() is False
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error[:8]) == (WebhookStatus.FAILED, 3, "HTTP 500")
    assert len(capturing_http_server.requests) == 3
    # and a receiver that recovers gets it on the next run
    capturing_http_server.status = 200
    assert tasks.deliver_webhook.apply(args=[delivery.id]).get() is True


def test_old_idempotency_keys_and_request_records_are_forgotten_recent_ones_kept(sandbox_merchant, settings):
    sandbox_merchant.post("/checkout_sessions", {"line_items": [{"id": "var_blue_runner_42", "quantity": 1}]})
    sandbox_merchant.post("/checkout_sessions", {"line_items": [{"id": "var_blue_runner_43", "quantity": 1}]})
    old_key = IdempotencyRecord.objects.order_by("id").first()
    IdempotencyRecord.objects.filter(id=old_key.id).update(created_at=timezone.now() - timedelta(days=3))
    old_request = ReceivedRequest.objects.order_by("id").first()
    ReceivedRequest.objects.filter(id=old_request.id).update(received_at=timezone.now() - timedelta(days=8))

    assert tasks.forget_idempotency_keys() == 1
    assert tasks.forget_old_received_requests() == 1
    assert IdempotencyRecord.objects.count() == 1
    assert not ReceivedRequest.objects.filter(id=old_request.id).exists()
