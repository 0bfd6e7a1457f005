"""The merchant integration's reads, as querysets and plain values for views, tasks and other apps."""

from __future__ import annotations

from django.db.models import QuerySet

from catalog_adapters.models import MerchantWebhookEvent
from catalog_adapters.registry import get_merchant


def webhook_events_for_order(*, merchant_id: str, order_id: str) -> QuerySet[MerchantWebhookEvent]:
    return MerchantWebhookEvent.objects.filter(merchant_id=merchant_id, order_id=order_id).order_by("received_at")


def webhook_events_unprocessed(*, merchant_id: str | None = None) -> QuerySet[MerchantWebhookEvent]:
    events = MerchantWebhookEvent.objects.filter(processed_at__isnull=True)
    if merchant_id is not None:
        events = events.filter(merchant_id=merchant_id)
    return events.order_by("received_at")


def merchant_circuit_state(*, merchant_id: str) -> str:
    """closed, open or half_open, as every process sees it."""
    return get_merchant(merchant_id).http.breaker.state()
