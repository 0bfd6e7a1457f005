"""The hand-over tool: a person takes the conversation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction

from ordering.agent import metrics as agent_metrics
from ordering.agent.tools.base import ToolResult
from ordering.hooks import PersonNeeded, person_needed
from ordering.models import NOT_YET_PLACED_STATUSES, EscalationReason, OrderFlow
from ordering.services import conversation_mark_escalated

if TYPE_CHECKING:
    from ordering.agent.turn import Turn


HANDOVER_TEXT = "A specialist has this conversation now and will answer you here."


def _order_for_a_person(turn: Turn) -> OrderFlow | None:
    """The order a person could act on: the cart's, else the conversation's newest order not placed yet (confirmed
    and waiting for a step-up code, the bank's check or a review). The escalation carries it, so staff see it, and
    the money it holds against the customer's caps, and can cancel it."""
    flow = turn.cart_flow()
    if flow is not None:
        return flow
    return turn.conversation.flows.filter(status__in=NOT_YET_PLACED_STATUSES).order_by("-created_at").first()


def hand_over(turn: Turn, args: dict) -> ToolResult:
    reason = EscalationReason(args["reason"])
    flow = _order_for_a_person(turn)
    with transaction.atomic():
        escalation_id = person_needed.ask(
            PersonNeeded(
                reason=reason,
                customer_id=turn.customer_id,
                flow_id=flow.pk if flow else None,
                conversation_id=turn.conversation.pk,
                detail=(args.get("detail") or "")[:500],
                actor_type="agent",
            )
        )
        conversation_mark_escalated(conversation_id=turn.conversation.pk)
    turn.conversation.refresh_from_db(fields=["status"])
    agent_metrics.handovers.labels(reason=reason.value).inc()
    return ToolResult(
        ok=True,
        data={"escalation_id": escalation_id, "reason": reason.value, "flow_id": str(flow.pk) if flow else None},
        say=HANDOVER_TEXT,
        message_data={"kind": "handed_over", "reason": reason.value},
    )
