"""What ordering does when consent changes (registered on consent's hooks in OrderingConfig.ready)."""

from __future__ import annotations

from consent.hooks import CustomerNotice, GrantRevoked
from ordering.models import Conversation, ConversationStatus, MessageRole


def stop_flows_on_revocation(event: GrantRevoked) -> None:
    from ordering import tasks

    tasks.flows_halt_for_customer.apply_async(args=[event.customer_id, f"consent_revoked:{event.scope}"])


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
