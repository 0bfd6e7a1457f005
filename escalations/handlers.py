"""What escalations does when ordering asks for a person (registered from `EscalationsConfig.ready`)."""

from __future__ import annotations

from escalations.selectors import handover_detail
from escalations.services import escalation_open, escalation_payment_refusal_record
from ordering.hooks import PersonNeeded
from ordering.models import EscalationReason

# The assistant's hand-over (ordering/agent/tools/handover.py) asks as the agent; the saga asks as the system.
HANDOVER_ACTOR = "agent"


def open_escalation_for(event: PersonNeeded) -> int:
    """`ordering.hooks.person_needed`: open the escalation in the caller's transaction; its id.

    A hand-over's detail says why the customer is with a person and what their chat held at that moment (their last
    words, their cart, preview or order), written now: the specialist who opens it later sees the order as it is then,
    and the e-mail to the support group says it too."""
    detail = event.detail
    if event.actor_type == HANDOVER_ACTOR and event.conversation_id is not None:
        detail = handover_detail(
            reason=event.reason, conversation_id=event.conversation_id, flow_id=event.flow_id, noted=event.detail
        )
    escalation = escalation_open(
        reason=event.reason,
        customer_id=event.customer_id,
        flow_id=event.flow_id,
        conversation_id=event.conversation_id,
        detail=detail,
        actor_type=event.actor_type,
    )
    if event.reason == EscalationReason.PAYMENT_VERIFICATION and event.flow_id is not None:
        # Asked at each payment the merchant did not take (the first complete, and every verification it refused).
        escalation_payment_refusal_record(escalation_id=escalation.pk, flow_id=event.flow_id, detail=event.detail)
    return escalation.pk
