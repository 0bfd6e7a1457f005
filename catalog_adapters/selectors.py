"""The merchant integration's reads, as querysets and plain values for views, tasks and other apps."""

from __future__ import annotations

import dataclasses
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
    it holds. Raises KeyError/TypeError/ValueError when the data is not an Order.
    """
    data = webhook_event_order_data(event=event)
    order = order_from_wire({"currency": currency, "id": order_id, **data})
    # Until the client's parser reads adjustment ids and statuses itself (#14, acp/client), take them
    # from the wire here; a parser that already does wins.
    wire_adjustments = data.get("adjustments") if isinstance(data.get("adjustments"), list) else []
    if not getattr(order, "order_number", "") and data.get("order_number"):
        order = dataclasses.replace(order, order_number=str(data["order_number"]))
    if len(order.adjustments) == len(wire_adjustments):
        order = dataclasses.replace(
            order,
            adjustments=tuple(
                dataclasses.replace(
                    adjustment,
                    id=getattr(adjustment, "id", "") or str(wire.get("id") or ""),
                    status=getattr(adjustment, "status", "") or str(wire.get("status") or ""),
                    reason=getattr(adjustment, "reason", "") or str(wire.get("reason") or ""),
                )
                for adjustment, wire in zip(order.adjustments, wire_adjustments, strict=True)
            ),
        )
    return order


def merchant_circuit_state(*, merchant_id: str) -> str:
    """closed, open or half_open, as every process sees it."""
    return get_merchant(merchant_id).http.breaker.state()
