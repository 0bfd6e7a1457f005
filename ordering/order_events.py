"""A merchant's order webhooks applied to the customer's placed order: a cancel or a refund by the shop.

The receiver (catalog_adapters) verifies and stores each event and announces it after commit; a
task (`ordering.tasks.merchant_order_event_apply`, by event id) calls `merchant_order_event_apply`, and
`merchant_order_events_sweep` picks up events whose enqueue was lost. For the flow of the order:

- the shop's order status is recorded (`OrderFlow.merchant_order_status`; the flow stays PLACED,
  see `OrderFlow`'s docstring) when it moves the order forward (`merchant_status_advances`): events
  arrive late and out of order (the shop's queued `order_create` after its cancel), so a status of an
  earlier stage, or anything after canceled, is logged and audited, not applied;
- what came back is derived, not added up: `refunded_amount` becomes the most of what is known, capped
  at the charged total: the completed `refund` and `cancellation` adjustments recorded so far (once per
  adjustment id, in `FlowOrderAdjustment`), the `amount_refunded` total (rfc.orders §4.6: the sum of the
  completed refunds), and on a cancel the whole charge (a canceled order is no spend). It never goes
  down, and the same events in any order, or again, end at the same amount. An adjustment that explains
  money already applied (growth of `amount_refunded` reported before the adjustment itself) is recorded
  and gives nothing back again;
- each increase gives the same amount back to the spend caps (`consent.services.ledger.spend_refund`,
  once per increase's key, never past what was committed), so the caps move in step with `refunded_amount`;
- the customer reads what happened in their conversation, and an audit event records it.

A flow still waiting for the merchant to finish a complete it took (complete_in_progress, pending_approval,
requires_escalation: `ordering.saga.base.flow_awaiting_merchant`) is placed by an event naming its order at the
confirmed total (`_placed_by_event`), then the event applies as to any placed order. Events for other flows not placed
yet stay pending for the sweeper, as before.

Exactly once, whatever is delivered twice or races: the event row is locked (an event is applied once),
then the flow row (events of one order apply one after the other), and `FlowOrderAdjustment` and the
refund ledger row are unique per adjustment. Lock order: webhook event, flow, spend reservation (inside
spend_refund), audit chain last: the flow -> ledger -> audit order the saga keeps. No foreign call is
made while the locks are held.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from audit.models import ActorType
from audit.services import audit_record
from catalog_adapters.errors import MerchantError
from catalog_adapters.models import MerchantWebhookEvent, WebhookOutcome
from catalog_adapters.selectors import webhook_event_order, webhook_event_order_data
from catalog_adapters.services import webhook_event_mark_processed
from consent.formatting import format_money
from consent.services.ledger import spend_refund
from ordering.models import FlowOrderAdjustment, FlowStatus, MessageRole, OrderFlow
from ordering.saga.base import spend_reference
from ordering.services import conversation_post

logger = logging.getLogger(__name__)

ORDER_EVENT_TYPES = frozenset({"order_create", "order_update"})
CANCELED_STATUSES = frozenset({"canceled", "cancelled"})
# Adjustments that give the customer money back. Credits, disputes, exchanges and price adjustments are
# recorded by the merchant but are not money back on the card this order was charged to.
MONEY_BACK_TYPES = frozenset({"refund", "cancellation"})
# A flow that may still become PLACED: an event for its order waits (unprocessed) for the sweeper.
NOT_PLACED_YET = frozenset({FlowStatus.CONFIRMED, FlowStatus.PLACING, FlowStatus.REQUIRES_ACTION, FlowStatus.ESCALATED})
PENDING = "pending"
# The order's stages (rfc.orders §4.1, §7.1): received, placed (or held for review beside it), being prepared,
# handed to the carrier, delivered; canceled (every line removed) may follow any of them and ends the order.
MERCHANT_STATUS_STAGES: dict[str, int] = {
    "created": 0,
    "confirmed": 1,
    "manual_review": 1,
    "processing": 2,
    "shipped": 3,
    "completed": 4,
    "canceled": 5,
    "cancelled": 5,
}


@dataclass
class _Applied:
    refunded: int = 0  # what the shop gave back in this event (capped at the order's total)
    credited: int = 0  # of it, what went back to the spend caps
    recorded: int = 0  # adjustments recorded, whether or not they gave anything back
    # Of `refunded`, what no adjustment or `amount_refunded` of the shop's reports: a cancel's rest, taken off the
    # caps, which the shop has not said it paid back (the spec records refunds as adjustments).
    unreported: int = 0
    adjustment_ids: list[str] = field(default_factory=list)  # those that gave something back


def merchant_status_advances(*, current: str, new: str) -> bool:
    """Whether the shop's order status `new` moves the order on from `current` (the one recorded): a later stage,
    or another word for the same stage (confirmed, manual_review). Nothing leaves canceled and nothing goes back a
    stage: a late `order_create` saying confirmed is older news than the cancel or the shipping before it. The
    spec's statuses are an open list: a status it does not name has no stage, so it is taken as news, except
    after a cancel."""
    if not new or new == current or current in CANCELED_STATUSES:
        return False
    if current not in MERCHANT_STATUS_STAGES or new not in MERCHANT_STATUS_STAGES:
        return True
    return MERCHANT_STATUS_STAGES[new] >= MERCHANT_STATUS_STAGES[current]


def merchant_order_event_apply(*, event_id: int) -> str:
    """Apply one stored order webhook; returns its outcome (a WebhookOutcome, or `pending`). Safe to run twice."""
    with transaction.atomic():
        event = MerchantWebhookEvent.objects.select_for_update().filter(pk=event_id).first()
        if event is None:
            return WebhookOutcome.UNKNOWN_ORDER
        if event.processed_at is not None:
            return event.outcome
        outcome = _apply(event)
        if outcome != PENDING:
            webhook_event_mark_processed(event=event, outcome=outcome)
    logger.info(
        "merchant.webhook.applied",
        extra={"merchant": event.merchant_id, "event_id": event.pk, "order_id": event.order_id, "outcome": outcome},
    )
    return outcome


def merchant_order_events_sweep(
    *, older_than_seconds: int = 60, give_up_after_seconds: int = 86400, now: datetime | None = None, limit: int = 200
) -> dict[str, int]:
    """Apply events nobody handled: a lost enqueue, or an order the saga had not recorded yet when it came.

    An event still waiting for its flow after `give_up_after_seconds` is closed as not_placed.
    """
    now = now or timezone.now()
    waiting = MerchantWebhookEvent.objects.filter(
        processed_at__isnull=True, received_at__lt=now - timedelta(seconds=older_than_seconds)
    ).order_by("received_at")
    counts: dict[str, int] = {}
    for event_id, received_at in waiting.values_list("pk", "received_at")[:limit]:
        outcome = merchant_order_event_apply(event_id=event_id)
        if outcome == PENDING and received_at < now - timedelta(seconds=give_up_after_seconds):
            with transaction.atomic():
                event = MerchantWebhookEvent.objects.select_for_update().get(pk=event_id)
                if event.processed_at is None:
                    webhook_event_mark_processed(event=event, outcome=WebhookOutcome.NOT_PLACED)
            outcome = WebhookOutcome.NOT_PLACED
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def _flow_for(event: MerchantWebhookEvent, data: dict) -> OrderFlow | None:
    """The flow of the event's order, locked: by the merchant's order id, else (the spec's examples carry
    no id) by the checkout session the order came from."""
    flows = OrderFlow.objects.select_for_update().filter(merchant_id=event.merchant_id)
    order_id = str(data.get("id") or "")
    if order_id:
        flow = flows.filter(merchant_order_id=order_id).first()
        if flow is not None:
            return flow
    session_id = str(data.get("checkout_session_id") or "")
    if session_id:
        return flows.filter(checkout_session_id=session_id).order_by("-created_at").first()
    return None


def _apply(event: MerchantWebhookEvent) -> str:
    if event.event_type not in ORDER_EVENT_TYPES:
        logger.info("merchant.webhook.type_ignored", extra={"merchant": event.merchant_id, "type": event.event_type})
        return WebhookOutcome.IGNORED_TYPE
    data = webhook_event_order_data(event=event)
    flow = _flow_for(event, data)
    if flow is None:
        logger.warning(
            "merchant.webhook.unknown_order", extra={"merchant": event.merchant_id, "order_id": event.order_id}
        )
        return WebhookOutcome.UNKNOWN_ORDER
    if flow.status != FlowStatus.PLACED and not _placed_by_event(flow, event, data):
        return PENDING if flow.status in NOT_PLACED_YET else WebhookOutcome.NOT_PLACED
    if data.get("id") and str(data["id"]) != flow.merchant_order_id:
        # Same checkout session, another order id: not the order we placed.
        return WebhookOutcome.UNKNOWN_ORDER
    try:
        order = webhook_event_order(event=event, currency=flow.currency, order_id=flow.merchant_order_id)
    except (KeyError, TypeError, ValueError, AttributeError, MerchantError):
        logger.warning(
            "merchant.webhook.unreadable_order",
            extra={"merchant": event.merchant_id, "event_id": event.pk, "order_id": flow.merchant_order_id},
        )
        return WebhookOutcome.UNREADABLE

    status = (order.status or "").strip().lower()[:32]
    status = "canceled" if status in CANCELED_STATUSES else status
    status_moves = merchant_status_advances(current=flow.merchant_order_status, new=status)
    if status and not status_moves and status != flow.merchant_order_status:
        _status_regression_record(flow, event, status=status)
    canceled_now = status_moves and status in CANCELED_STATUSES
    applied = _Applied()
    currency = flow.currency.lower()
    total = flow.total_amount or 0
    recorded = dict(FlowOrderAdjustment.objects.filter(flow=flow).values_list("adjustment_id", "amount"))
    # Money already applied that no adjustment we know of accounts for (growth of `amount_refunded` reported
    # before its adjustment): an adjustment that arrives now is taken out of it first, not given back twice.
    unaccounted = max(flow.refunded_amount - _adjustments_sum(recorded), 0)
    for adjustment in order.adjustments:
        if adjustment.type not in MONEY_BACK_TYPES or adjustment.status != "completed" or not adjustment.id:
            continue
        if adjustment.amount.currency != currency:
            logger.warning(
                "merchant.webhook.adjustment_currency",
                extra={"merchant": event.merchant_id, "order_id": flow.merchant_order_id, "adjustment": adjustment.id},
            )
            continue
        adjustment_id = adjustment.id[:128]
        if adjustment_id in recorded:
            continue
        accounted = min(adjustment.amount.amount, unaccounted)
        unaccounted -= accounted
        _give_back(
            flow,
            event,
            applied,
            adjustment_id=adjustment_id,
            kind=adjustment.type,
            reported=adjustment.amount.amount,
            amount=adjustment.amount.amount - accounted,
        )
        recorded[adjustment_id] = adjustment.amount.amount
    refunded_total = order.total("amount_refunded")
    if refunded_total is not None and refunded_total.currency == currency:
        # A merchant's cumulative figure past the charge is its own business; we count up to the charge.
        unexplained = min(refunded_total.amount, total) - flow.refunded_amount
        if unexplained > 0:
            _give_back(
                flow,
                event,
                applied,
                adjustment_id=f"amount_refunded:{flow.refunded_amount + unexplained}",
                kind="refund",
                reported=unexplained,
                amount=unexplained,
            )
    if status in CANCELED_STATUSES and total > flow.refunded_amount:
        rest = total - flow.refunded_amount
        _give_back(
            flow,
            event,
            applied,
            # (a merchant's own adjustment called `canceled` must not make this row collide with it)
            adjustment_id="canceled" if "canceled" not in recorded else f"canceled:{total}",
            kind="cancellation",
            reported=rest,
            amount=rest,
            unreported=True,
        )
    if not (status_moves or applied.recorded):
        return WebhookOutcome.NO_CHANGE
    if status_moves:
        flow.merchant_order_status = status
    flow.merchant_order_updated_at = timezone.now()
    flow.save(update_fields=["merchant_order_status", "merchant_order_updated_at", "refunded_amount", "updated_at"])
    if canceled_now or applied.refunded:
        _tell(flow, event, applied, canceled=canceled_now, order_number=order.order_number)
    return WebhookOutcome.APPLIED


def _placed_by_event(flow: OrderFlow, event: MerchantWebhookEvent, data: dict) -> bool:
    """Place a flow waiting for the merchant to finish a complete it took (complete_in_progress, pending_approval,
    requires_escalation) when the merchant's event names the order it created: the order id, not canceled, at the
    confirmed total. The flow is locked; a poll of its session running meanwhile finds its claim gone. Anything
    else (a canceled order, another total, no id) places nothing here: the poll reads the session and decides."""
    from ordering.saga.base import flow_awaiting_merchant
    from ordering.saga.outcomes import flow_placed_by_merchant

    order_id = str(data.get("id") or "")[:128]
    if not order_id or not flow_awaiting_merchant(flow):
        return False
    try:
        order = webhook_event_order(event=event, currency=flow.currency, order_id=order_id)
    except (KeyError, TypeError, ValueError, AttributeError, MerchantError):
        return False
    status = (order.status or "").strip().lower()
    total = order.total("total")
    if status in CANCELED_STATUSES or total is None or total.amount != flow.total_amount:
        return False
    flow_placed_by_merchant(flow, order_id=order_id, via=f"order_webhook:{event.pk}")
    return True


def _adjustments_sum(recorded: dict[str, int]) -> int:
    """What the merchant's own money-back adjustments recorded for the order add up to: not the rows we derive
    (`amount_refunded:<cumulative>` for growth of that total, `canceled` for a cancel without an adjustment)."""
    derived = ("amount_refunded:", "canceled:")
    return sum(amount for key, amount in recorded.items() if key != "canceled" and not key.startswith(derived))


def _status_regression_record(flow: OrderFlow, event: MerchantWebhookEvent, *, status: str) -> None:
    """A status that would move the order back (a late or replayed event): kept on the event, logged and
    audited for whoever reads the order's story, not applied."""
    logger.warning(
        "merchant.webhook.status_regression",
        extra={
            "merchant": event.merchant_id,
            "event_id": event.pk,
            "order_id": flow.merchant_order_id,
            "recorded": flow.merchant_order_status,
            "reported": status,
        },
    )
    _merchant_event_audit(
        flow, event, "flow.order_status_regression_ignored", reported_status=status, event_type=event.event_type
    )


def _merchant_event_audit(flow: OrderFlow, event: MerchantWebhookEvent, action: str, **data: Any) -> None:
    """An audit event of what the merchant's event did to the order (the shop as the actor)."""
    audit_record(
        action=action,
        actor_type=ActorType.SYSTEM,
        actor_id=f"merchant:{flow.merchant_id}",
        customer_id=flow.customer_id,
        target_type="flow",
        target_id=flow.pk,
        data={
            "merchant_order_id": flow.merchant_order_id,
            "merchant_status": flow.merchant_order_status,
            **data,
            "webhook_event_id": event.pk,
        },
    )


def _give_back(
    flow: OrderFlow,
    event: MerchantWebhookEvent,
    applied: _Applied,
    *,
    adjustment_id: str,
    kind: str,
    reported: int,
    amount: int,
    unreported: bool = False,
) -> None:
    """Record one adjustment (`reported`: the merchant's amount) and give back `amount` of it, the part not
    given back already: on the order (up to its total) and in the caps, under a key of this adjustment.
    `unreported`: ours (a cancel's rest), not one the shop reported."""
    refunded = min(max(amount, 0), max((flow.total_amount or 0) - flow.refunded_amount, 0))
    credited = 0
    if refunded:
        entry, _ = spend_refund(
            flow_reference=spend_reference(flow),
            amount=refunded,
            refund_key=f"{flow.merchant_id}:{flow.merchant_order_id}:{adjustment_id}",
            reason=f"merchant_{kind}"[:100],
            actor_type=ActorType.SYSTEM,
            actor_id=f"merchant:{flow.merchant_id}",
        )
        credited = entry.amount if entry is not None else 0
    FlowOrderAdjustment.objects.create(
        flow=flow,
        adjustment_id=adjustment_id,
        type=kind[:32],
        amount=reported,
        credited=credited,
        currency=flow.currency,
        webhook_event_id=event.pk,
        applied_at=timezone.now(),
    )
    flow.refunded_amount += refunded
    applied.recorded += 1
    if refunded:
        applied.refunded += refunded
        applied.credited += credited
        applied.adjustment_ids.append(adjustment_id)
        if unreported:
            applied.unreported += refunded


def _tell(
    flow: OrderFlow, event: MerchantWebhookEvent, applied: _Applied, *, canceled: bool, order_number: str
) -> None:
    reference = order_number or flow.merchant_order_id
    money = format_money(applied.refunded, flow.currency)
    total = flow.total_amount or 0
    if canceled:
        text = f"The shop canceled your order {reference}."
        reported = applied.refunded - applied.unreported
        if reported:
            text += f" You get a refund of {format_money(reported, flow.currency)} to the card you paid with."
        if applied.unreported:
            # Only what the shop reports as refunded is told as a refund: a cancel alone says nothing of the money.
            text += (
                f" It has not said yet that it gave back the {format_money(applied.unreported, flow.currency)} "
                "you paid: if that does not come back to your card, ask the shop about it."
            )
        action, kind = "flow.order_canceled_by_merchant", "order_canceled_by_shop"
    else:
        text = f"The shop refunded {money} for your order {reference}."
        if flow.refunded_amount < total:
            text += (
                f" So far {format_money(flow.refunded_amount, flow.currency)} of "
                f"{format_money(total, flow.currency)} has come back."
            )
        action, kind = "flow.order_refunded", "order_refunded_by_shop"
    if applied.credited:
        text += " Your spending limits have that amount back."
    conversation_post(
        conversation_id=flow.conversation_id,
        role=MessageRole.SYSTEM,
        text=text,
        data={
            "kind": kind,
            "flow_id": str(flow.pk),
            "merchant_order_id": flow.merchant_order_id,
            "refunded": applied.refunded,
            "refunded_total": flow.refunded_amount,
            # of `refunded`, what the shop has not reported paying back (a cancel without its refund adjustment)
            "refund_unreported": applied.unreported,
            "currency": flow.currency,
        },
    )
    _merchant_event_audit(
        flow,
        event,
        action,
        refunded=applied.refunded,
        refunded_total=flow.refunded_amount,
        credited=applied.credited,
        total=total,
        currency=flow.currency,
        adjustment_ids=applied.adjustment_ids,
    )
