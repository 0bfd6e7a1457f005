"""Stock holds: what a cart or preview not confirmed yet keeps reserved at the merchant, and when we let go.

Every flow that is still a cart (draft or previewed) owns a merchant checkout session, and the session
reserves its items' stock (at the sandbox, `CheckoutLine.reserved_quantity`) until the merchant expires it
(the sandbox: SANDBOX_MERCHANT_SESSION_TTL_SECONDS, 30 minutes). Nothing of ours needs it that long, and
other shoppers cannot buy what a forgotten preview holds, so a hold is released:

- at once when the preview cannot be placed (a grant or a spend cap stands in the way:
  `ordering.agent.tools.preview_order`, reason `preview_blocked`, the flow canceled);
- when the customer starts one cart more than ORDERING_MAX_OPEN_PREVIEWS over all their conversations:
  the oldest go first (`holds_make_room`, called by `flow_start` in its transaction; reason `hold_limit`);
- when the conversation has been quiet for ORDERING_PREVIEW_IDLE_RELEASE_SECONDS (`holds_release_idle`,
  on beat; reason `hold_idle`).

A release is an ordinary end of the flow: its status changes (expired; canceled for a blocked preview)
with the audit event `flow.<status>` in the same transaction, and the `cancel_checkout` compensation that
`flow_start` registered cancels the session at the merchant once that commits (`ordering.flow_compensate`;
the saga's sweeper runs it again if that task is lost). The customer's cart lines stay in the
conversation: a later change or "yes" opens a fresh session and shows a fresh preview
(`ordering.agent.policy`), never an order from the released one.

A release and a confirmation both take the flow's row lock, and only a draft or previewed flow is
released: a confirmation that comes first makes the flow no hold any more (it is left alone), and one
that comes second finds it released and is refused (`flow_released_refusal`, PreviewExpired). An order
is never placed from a released session.

Lock order: the customer's user row, then their cart flows newest first (then, as everywhere, a flow
before the customer's consent rows).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from audit.models import ActorType
from config.statements import models_select, postgresql_or_orm
from consent.selectors import order_placement_check
from ordering import metrics
from ordering.errors import PreviewExpired
from ordering.models import (
    CompensationStatus,
    ConversationTurn,
    FlowStatus,
    Message,
    MessageRole,
    OrderFlow,
    TurnStatus,
)
from ordering.services import conversation_post
from ordering.transitions import flow_compensate_on_commit, flow_transition

logger = logging.getLogger(__name__)

# Flows whose checkout session is a cart holding stock for a customer who has not confirmed anything.
HOLD_STATUSES = (FlowStatus.DRAFT, FlowStatus.PREVIEWED)

# Why a hold was released (the flow's failure_code and the audit event's reason).
PREVIEW_BLOCKED = "preview_blocked"
HOLD_LIMIT = "hold_limit"
HOLD_IDLE = "hold_idle"
_RELEASED_TO = {
    PREVIEW_BLOCKED: FlowStatus.CANCELED,
    HOLD_LIMIT: FlowStatus.EXPIRED,
    HOLD_IDLE: FlowStatus.EXPIRED,
}

_KEPT = 'Your cart is still here: say "show my cart" for a fresh preview before anything is ordered.'
EXPIRED_CONFIRM_TEXT = (
    "That preview expired: the shop is no longer holding its items, so nothing was ordered. "
    'Say "yes" in the chat and I\'ll show you a fresh preview to confirm.'
)
BLOCKED_CONFIRM_TEXT = (
    "That preview could not be placed when I showed it, so the shop is no longer holding its items. "
    'Say "yes" in the chat and I\'ll show you a fresh preview to confirm.'
)


def _released_text(reason: str) -> str:
    if reason == HOLD_LIMIT:
        return (
            "Nothing was ordered: you started a newer order in another chat, and the shop holds items for at most "
            f"{settings.ORDERING_MAX_OPEN_PREVIEWS} of your unconfirmed orders at a time, so I released the items of "
            f"this one. {_KEPT}"
        )
    minutes = max(round(settings.ORDERING_PREVIEW_IDLE_RELEASE_SECONDS / 60), 1)
    quiet = "a minute" if minutes == 1 else f"{minutes} minutes"
    return (
        f"Nothing was ordered: we haven't talked for {quiet}, so I asked the shop to stop holding the items of "
        f"your order preview for you. {_KEPT}"
    )


# -- reads ---------------------------------------------------------------------------------------


def flow_hold_was_released(flow: OrderFlow) -> bool:
    """This flow ended because we released its stock hold (not because it was placed, declined or failed)."""
    reason = flow.failure_code
    return reason in _RELEASED_TO and flow.status == _RELEASED_TO[reason]


def flow_released_refusal(flow: OrderFlow, *, customer_id: int) -> None:
    """Raise why a released cart's preview cannot be confirmed (the confirm button of an old preview); nothing
    for any other flow. A blocked preview answers what still blocks it, as it did when shown."""
    if not flow_hold_was_released(flow):
        return
    if flow.failure_code == PREVIEW_BLOCKED:
        # ConsentDenied or SpendCapExceeded, naming the grant or cap, if it still stands in the way.
        order_placement_check(
            user_id=customer_id,
            amount=flow.total_amount or 0,
            currency=flow.currency or "usd",
            chat_session_reference=str(flow.conversation_id),
        )
        raise PreviewExpired(BLOCKED_CONFIRM_TEXT, flow_id=str(flow.pk), reason=flow.failure_code)
    raise PreviewExpired(EXPIRED_CONFIRM_TEXT, flow_id=str(flow.pk), reason=flow.failure_code)


def _conversation_active_since(conversation_id: object, since: datetime) -> bool:
    """A message since `since`, or a turn waiting or running: someone is in the conversation."""
    return (
        Message.objects.filter(conversation_id=conversation_id, created_at__gte=since).exists()
        or ConversationTurn.objects.filter(
            conversation_id=conversation_id, status__in=(TurnStatus.QUEUED, TurnStatus.RUNNING)
        ).exists()
    )


# -- writes --------------------------------------------------------------------------------------


def _release_locked(flow: OrderFlow, *, reason: str, actor_type: ActorType | str, tell_customer: bool) -> None:
    """End a locked cart flow because its hold is released; the merchant cancel follows the commit."""
    flow.failure_code = reason
    flow.next_step = ""
    flow_transition(
        flow,
        _RELEASED_TO[reason],
        actor_type=actor_type,
        data={"reason": reason, "hold_released": True, "checkout_session_id": flow.checkout_session_id},
        extra_fields=("failure_code", "next_step"),
    )
    # The session was registered for cancelling when the flow started (`flow_start`); a flow previewed
    # again after a price change also has its earlier round's undo pending. All of it runs now.
    if flow.compensations.filter(status__in=(CompensationStatus.PENDING, CompensationStatus.FAILED)).exists():
        flow_compensate_on_commit(flow.pk)
    if tell_customer:
        # After the commit, not inside it: the message's row takes a share lock on its conversation, which a
        # failing turn of that conversation may hold while it waits for this very flow (`_turn_fail`).
        transaction.on_commit(
            lambda: conversation_post(
                conversation_id=flow.conversation_id,
                role=MessageRole.ASSISTANT,
                text=_released_text(reason),
                data={"kind": "preview_released", "flow_id": str(flow.pk), "reason": reason},
            ),
            robust=True,
        )
    transaction.on_commit(lambda: metrics.holds_released.labels(reason=reason).inc())
    logger.info("hold released", extra={"flow_id": str(flow.pk), "reason": reason})


def flow_hold_release(
    *,
    flow_id: object,
    reason: str,
    customer_id: int | None = None,
    quiet_since: datetime | None = None,
    actor_type: ActorType | str = ActorType.SYSTEM,
    tell_customer: bool = True,
) -> OrderFlow | None:
    """Release the merchant's stock hold of one cart flow (draft or previewed) and end the flow.

    Returns the flow, or None when there is nothing to release: it was confirmed, placed or ended
    meanwhile, or (with `quiet_since`, the idle sweep) its conversation has moved since then. Checked
    under the flow's row lock, so a confirmation and a release never both succeed.
    """
    with transaction.atomic():
        flows = OrderFlow.objects.select_for_update()
        if customer_id is not None:
            flows = flows.filter(customer_id=customer_id)
        flow = flows.filter(pk=flow_id).first()
        if flow is None or flow.status not in HOLD_STATUSES:
            return None
        if quiet_since is not None and (
            flow.updated_at >= quiet_since or _conversation_active_since(flow.conversation_id, quiet_since)
        ):
            return None
        _release_locked(flow, reason=reason, actor_type=actor_type, tell_customer=tell_customer)
    return flow


def holds_make_room(*, customer_id: int) -> list[OrderFlow]:
    """Make room for one more cart of the customer's: release their oldest carts beyond
    ORDERING_MAX_OPEN_PREVIEWS - 1. Runs in the caller's transaction (`flow_start`), before the new flow is
    written; returns the flows released.

    The customer's row lock makes two new carts of one customer (two tabs, two conversations) take turns,
    and the carts are read after it is granted (a statement of their own, so they include what the other
    committed): together they never leave more than the limit. The carts are locked too, so one being
    confirmed at this moment is waited for, and then no longer counted.
    """
    limit = settings.ORDERING_MAX_OPEN_PREVIEWS
    # FOR NO KEY UPDATE: two of these wait for each other, but rows that merely refer to the customer (their
    # spend entries, escalations, conversations) can still be written meanwhile.
    holds = postgresql_or_orm(
        postgresql=lambda: _holds_locked_sql(customer_id), orm=lambda: _holds_locked_orm(customer_id)
    )
    released = holds[max(limit - 1, 0) :]
    for flow in released:
        _release_locked(flow, reason=HOLD_LIMIT, actor_type=ActorType.SYSTEM, tell_customer=True)
    return released


def _holds_locked_orm(customer_id: int) -> list[OrderFlow]:
    list(get_user_model().objects.select_for_update(no_key=True).filter(pk=customer_id).values_list("pk", flat=True))
    return list(
        OrderFlow.objects.select_for_update()
        .filter(customer_id=customer_id, status__in=HOLD_STATUSES)
        .order_by("-created_at", "-pk")
    )


def _holds_locked_sql(customer_id: int) -> list[OrderFlow]:
    """The ORM path's two statements, written by hand (a chat turn's hot path: no query to compile)."""
    user_table = connection.ops.quote_name(get_user_model()._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {user_table} WHERE id = %s FOR NO KEY UPDATE", [customer_id])  # noqa: S608
    return models_select(
        OrderFlow,
        where=f"t.customer_id = %s AND t.status IN ({', '.join(['%s'] * len(HOLD_STATUSES))})",
        params=[customer_id, *HOLD_STATUSES],
        tail="ORDER BY t.created_at DESC, t.id DESC FOR UPDATE",
    )


def holds_release_idle(*, now: datetime | None = None) -> dict[str, int]:
    """The beat's sweep: release the holds of carts whose conversation has been quiet for
    ORDERING_PREVIEW_IDLE_RELEASE_SECONDS (no message, no turn waiting or running, the flow unchanged).

    Safe to run twice and beside a customer coming back: each flow is checked again under its lock.
    """
    now = now or timezone.now()
    quiet_since = now - timedelta(seconds=settings.ORDERING_PREVIEW_IDLE_RELEASE_SECONDS)
    recent_message = Message.objects.filter(conversation_id=OuterRef("conversation_id"), created_at__gte=quiet_since)
    turn_open = ConversationTurn.objects.filter(
        conversation_id=OuterRef("conversation_id"), status__in=(TurnStatus.QUEUED, TurnStatus.RUNNING)
    )
    idle = list(
        OrderFlow.objects.filter(status__in=HOLD_STATUSES, updated_at__lt=quiet_since)
        .exclude(Exists(recent_message))
        .exclude(Exists(turn_open))
        .order_by("updated_at")
        .values_list("pk", flat=True)[:500]
    )
    released = 0
    for flow_id in idle:
        if flow_hold_release(flow_id=flow_id, reason=HOLD_IDLE, quiet_since=quiet_since) is not None:
            released += 1
    if released:
        logger.info("idle holds released", extra={"released": released})
    return {"released": released}
