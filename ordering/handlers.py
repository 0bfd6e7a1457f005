"""What ordering does when consent changes or a merchant reports on an order (hooks, registered in
OrderingConfig.ready)."""

from __future__ import annotations

import uuid

from catalog_adapters.hooks import MerchantOrderEvent
from consent.hooks import CustomerNotice, GrantRevoked
from ordering.models import Conversation, ConversationStatus, FlowStatus, MessageRole, OrderFlow


def stop_flows_on_revocation(event: GrantRevoked) -> None:
    from ordering import tasks

    tasks.flows_halt_for_customer.apply_async(args=[event.customer_id, f"consent_revoked:{event.scope}"])


def apply_merchant_order_event(event: MerchantOrderEvent) -> None:
    from ordering import tasks

    tasks.merchant_order_event_apply.apply_async(args=[event.event_id])


def tell_customer_in_chat(event: CustomerNotice) -> None:
    from ordering.services import conversation_post

    conversation = (
        Conversation.objects.filter(customer_id=event.customer_id)
        .exclude(status=ConversationStatus.CLOSED)
        .order_by("-updated_at")
        .first()
    )
    if conversation is not None:
        conversation_post(
            conversation_id=conversation.pk,
            role=MessageRole.SYSTEM,
            text=event.text,
            data={"kind": f"notice_{event.kind}", **event.data},
        )


def spend_reservations_of_placing_flows(flow_references: frozenset[str]) -> set[str]:
    """The reservations (`flow:<id>:r<round>`, ordering.saga.base.spend_reference) of flows placing that round.

    Their charge may complete any moment, so consent must neither expire nor stop counting them.
    """
    rounds: dict[str, set[int]] = {}
    for reference in flow_references:
        prefix, _, rest = reference.partition(":")
        flow_id, _, round_text = rest.rpartition(":r")
        if prefix == "flow" and flow_id and round_text.isdigit():
            rounds.setdefault(flow_id, set()).add(int(round_text))
    held = set()
    placing = OrderFlow.objects.filter(pk__in=_valid_flow_ids(rounds), status=FlowStatus.PLACING)
    for flow_id, confirmations in placing.values_list("pk", "confirmations"):
        if confirmations in rounds.get(str(flow_id), ()):
            held.add(f"flow:{flow_id}:r{confirmations}")
    return held


def _valid_flow_ids(rounds: dict[str, set[int]]) -> list[str]:
    valid = []
    for flow_id in rounds:
        try:
            valid.append(str(uuid.UUID(flow_id)))
        except ValueError:
            continue
    return valid
