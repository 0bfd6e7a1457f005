"""What escalations does when ordering asks for a person (registered from `EscalationsConfig.ready`)."""

from __future__ import annotations

from escalations.services import escalation_open, escalation_payment_refusal_record
from ordering.hooks import PersonNeeded
from ordering.models import EscalationReason


def open_escalation_for(event: PersonNeeded) -> int:
    """`ordering.hooks.person_needed`: open the escalation in the caller's transaction; its id."""
    escalation = escalation_open(
        reason=event.reason,
        customer_id=event.customer_id,
        flow_id=event.flow_id,
        conversation_id=event.conversation_id,
        detail=event.detail,
        actor_type=event.actor_type,
    )
    if event.reason == EscalationReason.PAYMENT_VERIFICATION and event.flow_id is not None:
        # Asked at each payment the merchant did not take (the first complete, and every verification it refused).
        escalation_payment_refusal_record(escalation_id=escalation.pk, flow_id=event.flow_id, detail=event.detail)
    return escalation.pk
