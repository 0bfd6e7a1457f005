"""Conversations, the agent, order flows: reads, as querysets and plain values for views, tasks and other apps.

Every read of a customer's data takes the customer's id and filters by it: another customer's
conversation or flow is simply not found (a 404 upstream, never a 403 that confirms it exists).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import QuerySet

from config.statements import models_select, postgresql_or_orm
from ordering.agent.errors import ConversationNotFound, TurnNotFound
from ordering.errors import FlowNotFound
from ordering.models import (
    Conversation,
    ConversationTurn,
    FlowStatus,
    Message,
    MessageRole,
    OrderFlow,
    TurnStatus,
)
from ordering.preview import preview_text


def uuid_or_none(value: object) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


def conversation_get(*, customer_id: int, conversation_id: object) -> Conversation:
    pk = uuid_or_none(conversation_id)
    conversation = Conversation.objects.filter(pk=pk, customer_id=customer_id).first() if pk else None
    if conversation is None:
        raise ConversationNotFound("No such conversation.", conversation_id=str(conversation_id))
    return conversation


def turn_get(*, customer_id: int, conversation_id: object, turn_id: object) -> ConversationTurn:
    """A turn of one of the customer's conversations (another customer's is simply not found).

    The widget polls this every half second while a turn runs: one indexed query (the turn by primary key,
    joined to its conversation for the owner), not a conversation read and then a turn read."""
    pk = uuid_or_none(conversation_id)
    turn = None
    if pk and str(turn_id).isdigit() and len(str(turn_id)) < 19:
        number = int(str(turn_id))

        def read() -> ConversationTurn | None:
            conversations = connection.ops.quote_name(Conversation._meta.db_table)
            rows = models_select(
                ConversationTurn,
                # Only our own table name is interpolated; values are parameters.
                where=f"t.id = %s AND t.conversation_id = %s AND EXISTS (SELECT 1 FROM {conversations} c "  # noqa: S608
                "WHERE c.id = t.conversation_id AND c.customer_id = %s)",
                params=[number, pk, customer_id],
            )
            return rows[0] if rows else None

        turn = postgresql_or_orm(
            postgresql=read,
            orm=lambda: ConversationTurn.objects.filter(
                pk=number, conversation_id=pk, conversation__customer_id=customer_id
            ).first(),
        )
    if turn is None:
        raise TurnNotFound("No such message in this conversation.", turn_id=str(turn_id)[:32])
    return turn


def turn_messages(*, turn: ConversationTurn) -> list[Message]:
    """The turn's messages as the API answers them: the customer's own, plus the answers once it finished
    (exactly those first answered, for replays)."""
    if turn.status in (TurnStatus.DONE, TurnStatus.FAILED) and "message_ids" in (turn.response or {}):
        ids = turn.response["message_ids"]
        read = getattr(turn, "_prefetched_objects_cache", {}).get("messages")
        if read is not None:
            # Read with the turn already, or kept as written by a turn run in this process
            # (`ordering.services._turn_reread`, `_turn_finished_here`).
            by_id = {message.pk: message for message in read}
            if all(pk in by_id for pk in ids):
                return [by_id[pk] for pk in ids]
        marks = ", ".join(["%s"] * len(ids)) or "NULL"
        found = postgresql_or_orm(
            postgresql=lambda: models_select(Message, where=f"t.id IN ({marks})", params=ids),
            orm=lambda: list(Message.objects.filter(pk__in=ids)),
        )
        return sorted(found, key=lambda message: ids.index(message.pk))
    read = getattr(turn, "_prefetched_objects_cache", {}).get("messages")
    if read is not None:  # written with the turn in this request (`ordering.services._turn_insert`)
        return sorted(read, key=lambda message: message.pk)
    return postgresql_or_orm(
        postgresql=lambda: models_select(Message, where="t.turn_id = %s", params=[turn.pk], tail="ORDER BY t.id"),
        orm=lambda: list(turn.messages.order_by("id")),
    )


def flow_get(*, customer_id: int, flow_id: object) -> OrderFlow:
    pk = uuid_or_none(flow_id)
    flow = OrderFlow.objects.filter(pk=pk, customer_id=customer_id).first() if pk else None
    if flow is None:
        raise FlowNotFound("No such order.", flow_id=str(flow_id))
    return flow


def messages_for(*, conversation: Conversation, after_id: int = 0) -> QuerySet[Message]:
    return conversation.messages.filter(pk__gt=after_id).order_by("created_at", "id")


def staff_reply_sent(*, conversation_id: object, reply_key: str) -> Message | None:
    """The specialist's message already posted from the reply form sending `reply_key`, if any."""
    return Message.objects.filter(
        conversation_id=conversation_id, role=MessageRole.STAFF, data__reply_key=reply_key
    ).first()


def conversation_current_flow(*, conversation: Conversation) -> OrderFlow | None:
    """The flow the conversation is about: the cart's flow, else its latest."""
    flow_id = (conversation.agent_state or {}).get("flow_id")
    if flow_id:
        flow = conversation.flows.filter(pk=flow_id).first()
        if flow is not None:
            return flow
    return conversation.flows.order_by("-created_at").first()


def orders_for_customer(*, customer_id: int, limit: int = 20) -> QuerySet[OrderFlow]:
    """The customer's orders across every conversation, newest first: flows the customer confirmed
    (placed, placing, failed, canceled after confirmation…), not carts that were never confirmed."""
    return OrderFlow.objects.filter(customer_id=customer_id, confirmed_at__isnull=False).order_by(
        "-confirmed_at", "-created_at"
    )[:limit]


def order_latest_for_customer(*, customer_id: int) -> OrderFlow | None:
    """The order "my last order" means: the newest confirmed flow of any conversation."""
    return orders_for_customer(customer_id=customer_id, limit=1).first()


def flows_changed_since(*, conversation: Conversation, since: datetime | None) -> QuerySet[OrderFlow]:
    flows = conversation.flows.order_by("updated_at")
    return flows.filter(updated_at__gt=since) if since else flows


def preview_public(flow: OrderFlow) -> dict[str, Any] | None:
    """The preview as the customer sees it: the merchant's amounts, a masked address, brand and last 4."""
    return preview_public_from(flow.preview, flow.preview_hash)


def preview_public_from(preview: dict[str, Any] | None, preview_hash: str) -> dict[str, Any] | None:
    if not preview:
        return None
    ship_to = preview.get("ship_to")
    if "preview_hash" in preview and isinstance(ship_to, str):
        return preview  # already the public shape
    return {
        "lines": [
            {key: line.get(key) for key in ("product_id", "title", "variant", "quantity", "unit_amount", "total")}
            for line in preview.get("lines", [])[:50]
        ],
        "subtotal": preview["subtotal"],
        "discount": preview["discount"],
        "promo_codes": list(preview["promo_codes"]),
        "tax": preview["tax"],
        "shipping": preview["shipping"],
        "charges": list(preview.get("charges") or []),
        "total": preview["total"],
        "currency": preview["currency"],
        "ship_to": ship_to["masked"] if isinstance(ship_to, dict) else ship_to,
        "payment": {"brand": preview["payment"]["brand"], "last4": preview["payment"]["last4"]},
        "expires_at": preview.get("expires_at"),
        "preview_hash": preview_hash,
    }


def preview_shown_hash(*, conversation: Conversation, flow: OrderFlow) -> str:
    """The hash of the latest preview of this flow the customer was shown in the chat (by us or by the saga)."""
    message = conversation.messages.filter(data__kind="preview", data__flow_id=str(flow.pk)).order_by("-id").first()
    if message is None:
        return ""
    return message.data.get("preview_hash") or (message.data.get("preview") or {}).get("preview_hash") or ""


def pending_confirmation(
    *, conversation: Conversation, flow: OrderFlow | None = None, said: list[Message] | None = None
) -> dict[str, Any] | None:
    """The preview waiting for the customer's decision, if any (what the Confirm button confirms).

    A turn that has just read the cart's `flow` and posted the messages `said` passes them, which spares
    the reads they answer; without them (or with no cart flow) everything is read here."""
    if flow is None:
        flow = conversation_current_flow(conversation=conversation)
    if flow is None or flow.status != FlowStatus.PREVIEWED or not flow.preview:
        return None
    kinds = ("preview", "preview_blocked")
    shown = next(
        (
            message.data
            for message in reversed(said or [])
            if (message.data or {}).get("flow_id") == str(flow.pk) and message.data.get("kind") in kinds
        ),
        None,
    )
    if shown is None:
        shown = (
            conversation.messages.filter(data__flow_id=str(flow.pk), data__kind__in=kinds)
            .order_by("-id")
            .values_list("data", flat=True)
            .first()
        )
    if (
        shown
        and shown.get("kind") == "preview_blocked"
        and (shown.get("preview") or {}).get("preview_hash") == (flow.preview_hash)
    ):
        return None  # shown as one that cannot be placed (a cap or a grant stands in the way): nothing to confirm
    return {
        "flow_id": str(flow.pk),
        "preview_hash": flow.preview_hash,
        "text": preview_text(flow.preview),
        "preview": preview_public(flow),
    }
