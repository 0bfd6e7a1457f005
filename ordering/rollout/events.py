"""The funnel events of the experiment, written by both arms (the A/B report reads them).

Kinds (ExperimentEventKind): `session_started` (a conversation with the assistant, or a storefront cart
in the control arm), `checkout_started` (a flow holding a merchant checkout session, or the storefront's
checkout page), `order_placed` (with the order's amount and currency). Staff in phases 0-2 are not
recorded: they are not part of the experiment.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from ordering.models import ExperimentChannel, ExperimentEvent, OrderFlow, RolloutArm
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


def experiment_event_of(
    flow: OrderFlow, *, kind: str, order_ref: str = "", amount: int | None = None, currency: str = ""
) -> ExperimentEvent | None:
    """The assistant's funnel event for a flow, in the phase and arm stored on it when it started (never
    assigned again: a later change of phase or share does not move an order to another arm). None for a
    flow from before the rollout or of staff outside the experiment (`internal`)."""
    event = experiment_event_build(flow, kind=kind, order_ref=order_ref, amount=amount, currency=currency)
    if event is not None:
        event.save(force_insert=True)
    return event


def experiment_event_build(
    flow: OrderFlow, *, kind: str, order_ref: str = "", amount: int | None = None, currency: str = ""
) -> ExperimentEvent | None:
    """`experiment_event_of`'s event, not saved yet: for a caller that writes it in a statement of its own
    (`ordering.services.flow_start`)."""
    if flow.rollout_phase is None or flow.rollout_arm not in RolloutArm.values:
        return None
    return ExperimentEvent(
        experiment=settings.ORDERING_ROLLOUT_EXPERIMENT,
        arm=flow.rollout_arm,
        phase=flow.rollout_phase,
        customer_id=flow.customer_id,
        kind=kind,
        channel=ExperimentChannel.ASSISTANT,
        conversation_id=flow.conversation_id,
        flow_id=flow.pk,
        order_ref=order_ref,
        amount=amount,
        currency=currency,
    )
