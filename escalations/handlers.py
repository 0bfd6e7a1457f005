"""What escalations does when ordering asks for a person (registered from `EscalationsConfig.ready`)."""

from __future__ import annotations

from escalations.services import escalation_open
from ordering.hooks import PersonNeeded


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
    return escalation.pk
