"""What the saga tests read back of a flow after confirming it, on either merchant (test_saga.py, test_saga_wire.py)."""

from __future__ import annotations

from consent.models import SpendEntry, SpendKind
from ordering.models import OrderFlow
from ordering.services import flow_confirm


def confirm(shop, flow) -> OrderFlow:
    """Confirm `flow` as its customer (alice) would with its preview, and read it back."""
    flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)
    return OrderFlow.objects.get(pk=flow.pk)


def ledger(flow) -> dict[str, int]:
    """The flow's spend entries summed by kind (every kind present, 0 when it has none)."""
    totals = {kind: 0 for kind in SpendKind.values}
    for entry in SpendEntry.objects.filter(flow_reference__startswith=f"flow:{flow.pk}:"):
        totals[entry.kind] += entry.amount
    return totals


def messages(flow) -> list[dict]:
    """The flow's conversation as (role, text, data) rows, oldest first."""
    return list(flow.conversation.messages.values("role", "text", "data"))
