"""The sandbox merchant's Celery tasks: thin, id-based, safe to run twice."""

from __future__ import annotations

import random

from celery import shared_task
from django.conf import settings

from sandbox_merchant import services


def _backoff_seconds(retries: int) -> float:
    # 5 s, 10 s, 20 s … capped at 10 min, with jitter so a receiver coming back is not stampeded.
    return min(5 * 2**retries, 600) * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not security


# ignore_result: the delivery's outcome is its WebhookDelivery row; nobody reads a result, so none is sent to the result
# backend (a publish no longer subscribes to it, a delivery no longer stores one).
@shared_task(name="sandbox_merchant.deliver_webhook", bind=True, max_retries=None, ignore_result=True)
def deliver_webhook(self, delivery_id: str) -> bool:
    if services.webhook_delivery_send(delivery_id=delivery_id):
        return True
    if self.request.retries + 1 >= settings.SANDBOX_MERCHANT_WEBHOOK_MAX_ATTEMPTS:
        services.webhook_delivery_give_up(delivery_id=delivery_id)
        return False
    raise self.retry(countdown=_backoff_seconds(self.request.retries))


@shared_task(name="sandbox_merchant.expire_sessions")
def expire_sessions() -> int:
    return services.checkout_sessions_expire()


@shared_task(name="sandbox_merchant.resend_stuck_webhooks")
def resend_stuck_webhooks() -> int:
    return services.webhook_deliveries_resend_stuck()


@shared_task(name="sandbox_merchant.forget_idempotency_keys")
def forget_idempotency_keys() -> int:
    return services.idempotency_records_forget_expired()


@shared_task(name="sandbox_merchant.forget_old_received_requests")
def forget_old_received_requests() -> int:
    return services.received_requests_forget_old()
