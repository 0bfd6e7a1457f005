"""The funnel events of the experiment, written by both arms (the A/B report reads them).

Kinds (ExperimentEventKind): `session_started` (a conversation with the assistant, or a storefront cart
in the control arm), `checkout_started` (a flow holding a merchant checkout session, or the storefront's
checkout page), `order_placed` (with the order's amount and currency). Staff in phases 0-2 are not
recorded: they are not part of the experiment.
"""

from __future__ import annotations

from typing import Any

from ordering.models import ExperimentEvent
from ordering.rollout.assignment import Assignment


def experiment_event_record(
    *,
    assignment: Assignment,
    customer_id: Any,
    kind: str,
    channel: str,
    conversation_id: Any = None,
    flow_id: Any = None,
    order_ref: str = "",
    amount: int | None = None,
    currency: str = "",
) -> ExperimentEvent | None:
    """Append one funnel event for the customer in their arm; None for staff outside the experiment."""
    if assignment.internal:
        return None
    return ExperimentEvent.objects.create(
        experiment=assignment.experiment,
        arm=assignment.arm,
        phase=assignment.phase,
        customer_id=customer_id,
        kind=kind,
        channel=channel,
        conversation_id=conversation_id,
        flow_id=flow_id,
        order_ref=order_ref,
        amount=amount,
        currency=currency,
    )
