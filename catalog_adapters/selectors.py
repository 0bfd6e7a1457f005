"""The merchant integration's reads, as querysets and plain values for views, tasks and other apps."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from catalog_adapters.acp import order_from_wire
from catalog_adapters.contract import Order
from catalog_adapters.models import MerchantWebhookEvent
from catalog_adapters.registry import get_merchant


def webhook_events_for_order(*, merchant_id: str, order_id: str) -> QuerySet[MerchantWebhookEvent]:
    return MerchantWebhookEvent.objects.filter(merchant_id=merchant_id, order_id=order_id).order_by("received_at")


def webhook_events_unprocessed(*, merchant_id: str | None = None) -> QuerySet[MerchantWebhookEvent]:
    events = MerchantWebhookEvent.objects.filter(processed_at__isnull=True)
    if merchant_id is not None:
        events = events.filter(merchant_id=merchant_id)
    return events.order_by("received_at")


def webhook_event_order_data(*, event: MerchantWebhookEvent) -> dict[str, Any]:
    """The event's `data` (the Order object as the merchant sent it); empty when it has none."""
    data = (event.payload or {}).get("data")
    return data if isinstance(data, dict) else {}


def webhook_event_order(*, event: MerchantWebhookEvent, currency: str, order_id: str = "") -> Order:
    """The event's Order through the client's parser (catalog_adapters.acp.order_from_wire).

    The official Order has no `currency` (only adjustments carry one) and the spec's own example events
    have no `id`, so the caller passes what it knows: the currency it was charged in and the order id
    it holds (used only when the event names none). Raises KeyError/TypeError/ValueError when the data
    is not an Order.
    """
    data = webhook_event_order_data(event=event)
    return order_from_wire({"id": order_id, **data}, currency=currency)


def merchant_circuit_state(*, merchant_id: str) -> str:
    """closed, open or half_open, as every process sees it."""
    return get_merchant(merchant_id).http.breaker.state()
