"""Hooks of the merchant integration: what apps above it (ordering) react to, without being imported here.

    from catalog_adapters import hooks

    class OrderingConfig(AppConfig):
        def ready(self):
            hooks.merchant_order_event.register(ordering.handlers.apply_merchant_order_event)

Sent after the transaction that stored the event commits (config.hooks.Hook); handlers enqueue a task.
"""

from __future__ import annotations

from dataclasses import dataclass

from config.hooks import Hook


@dataclass(frozen=True)
class MerchantOrderEvent:
    """A verified, stored order webhook (MerchantWebhookEvent id) that nobody has handled yet."""

    event_id: int
    merchant_id: str
    event_type: str
    order_id: str
    trace_id: str


merchant_order_event: Hook[MerchantOrderEvent] = Hook("catalog_adapters.merchant_order_event")
