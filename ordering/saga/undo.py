"""The undo steps (compensations): run a flow's due undo steps newest first, then finish the flow, wait, or
escalate (`flow_compensate_run`, Celery task `ordering.flow_compensate`).

Each undo step is claimed before it runs (a lease in `retry_at`), tolerates "it never happened", and is
retried with backoff until ORDERING_UNDO_GIVE_UP_SECONDS after its first failure; then a person owns it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from audit.models import ActorType, Outcome
from audit.services import audit_record
from catalog_adapters.errors import MerchantClientError, MerchantError
from catalog_adapters.registry import TOKEN_REVOKE, get_merchant, merchant_offers
from consent.exceptions import SpendReservationSettled
from consent.services.ledger import spend_release
from ordering import metrics
from ordering.models import (
    CompensationStatus,
    EscalationReason,
    FlowCompensation,
    FlowStatus,
    FlowStep,
    OrderFlow,
    StepStatus,
    WaitingFor,
)
from ordering.saga.base import (
    REFUSED_CLASSES,
    ROUND_COMPENSATIONS,
    UNDO_OPEN,
    TokenRequest,
    ask_for_a_person,
    refusal_wait,
    retry_delay,
)
from ordering.saga.steps import mint_token, recorded_token_request
from ordering.transitions import flow_transition

logger = logging.getLogger(__name__)


def _compensate_one(flow: OrderFlow, compensation: FlowCompensation) -> tuple[str, str]:
    """Undo one thing; returns (status, note). Raises MerchantError on transient trouble."""
    merchant = get_merchant(flow.merchant_id)
    operation_id = f"flow:{flow.pk}:undo:{compensation.action}:{compensation.target_ref}"
    if compensation.action == "cancel_checkout":
        try:
            merchant.checkout.cancel(session_id=compensation.target_ref, operation_id=operation_id)
        except MerchantClientError as error:
            if error.status in (404, 405):
                return CompensationStatus.NOT_NEEDED, f"session already {error.code or 'closed'}"
            raise
        return CompensationStatus.DONE, "checkout session canceled, stock released"
    if compensation.action == "release_spend":
        try:
            entry = spend_release(flow_reference=compensation.target_ref, reason=flow.failure_code or "flow_ended")
        except SpendReservationSettled:
            return CompensationStatus.NOT_NEEDED, "the spend was committed by a placed order"
        return (CompensationStatus.DONE, "reservation released") if entry else (CompensationStatus.NOT_NEEDED, "none")
    if compensation.action == "revoke_token":
        return _revoke_token(flow, compensation, operation_id)
    if compensation.action == "cancel_order":
        if flow.merchant_order_id or flow.status == FlowStatus.PLACED:
            return CompensationStatus.NOT_NEEDED, "the flow's order stands"
        session_id = compensation.target_ref.rsplit(":r", 1)[0]
        session = merchant.checkout.get(session_id=session_id)
        if session.order is None:
            return CompensationStatus.NOT_NEEDED, "no order was created"
        merchant.orders.cancel(order_id=session.order.id, operation_id=operation_id)
        return CompensationStatus.DONE, f"order {session.order.id} canceled and refunded"
    raise ValueError(f"unknown compensation {compensation.action!r}")


def _token_may_exist(flow: OrderFlow, operation_id: str) -> bool:
    """Whether the round's delegate call may have minted a token: one attempt succeeded, or one may have reached
    the vault without an answer we could read (a timeout, a 5xx, a worker that died). Attempts the vault refused
    (a 4xx) or that our own breaker never sent mint nothing, so there is nothing to revoke and nothing to re-mint."""
    attempts = FlowStep.objects.filter(flow=flow, name="mint_token", idempotency_key=operation_id).exclude(
        error_class__in=(*REFUSED_CLASSES, "client_error", "consent", "business")
    )
    return attempts.filter(status__in=(StepStatus.SUCCEEDED, StepStatus.FAILED, StepStatus.RUNNING)).exists()


def _allowance_note(request: TokenRequest) -> str:
    return (
        f"the merchant offers no token revoke: the token is bounded by its allowance (at most {request.amount} "
        f"{request.currency} minor units, this checkout session, until {request.expires_at.isoformat()})"
    )


def _revoke_token(flow: OrderFlow, compensation: FlowCompensation, operation_id: str) -> tuple[str, str]:
    """Revoke the round's token where the merchant offers revoke (a sandbox extension, not ACP); elsewhere the
    undo is done without a call: the token cannot pay more, elsewhere or later than its allowance."""
    request = recorded_token_request(flow, compensation.target_ref)
    if request is None or not _token_may_exist(flow, compensation.target_ref):
        return CompensationStatus.NOT_NEEDED, "no token was minted"
    if not merchant_offers(flow.merchant_id, TOKEN_REVOKE):
        return CompensationStatus.NOT_NEEDED, _allowance_note(request)
    # The same delegate call again (same key, same body) gives back the token it minted, never a new one.
    token = mint_token(flow, request)
    try:
        revocation = get_merchant(flow.merchant_id).vault.revoke(token_id=token.id, operation_id=operation_id)
    except MerchantClientError as error:
        if error.status in (404, 405, 501):
            # No revoke endpoint after all (or not for this token): "not offered", not a reason to escalate.
            return CompensationStatus.NOT_NEEDED, f"revoke not offered ({error.status}); " + _allowance_note(request)
        raise
    if revocation.revoked:
        return CompensationStatus.DONE, "token revoked"
    return CompensationStatus.NOT_NEEDED, revocation.reason or "token not revocable"


def _flow_is_ending(flow: OrderFlow) -> bool:
    """A flow that will not place anything: all of its effects are to be undone."""
    if flow.merchant_order_id:
        return False
    if flow.status in (FlowStatus.FAILED, FlowStatus.COMPENSATING, FlowStatus.CANCELED, FlowStatus.EXPIRED):
        return True
    # Escalated because undoing failed (not a risk review waiting for a person).
    return flow.status == FlowStatus.ESCALATED and flow.waiting_for != WaitingFor.RISK_REVIEW


def _runnable_compensations(flow: OrderFlow) -> QuerySet[FlowCompensation]:
    pending = flow.compensations.filter(status__in=(CompensationStatus.PENDING, CompensationStatus.FAILED))
    if _flow_is_ending(flow):
        return pending
    # A flow still alive (a new preview, a later round placing or placed) undoes only rounds that are
    # over: never its checkout session, never the effects of the round in progress.
    finished_rounds = flow.confirmations if flow.status == FlowStatus.PREVIEWED else flow.confirmations - 1
    return pending.filter(action__in=ROUND_COMPENSATIONS, placement_round__gte=1, placement_round__lte=finished_rounds)


def flow_compensate_run(*, flow_id: Any) -> str:
    """Run the flow's undo steps that are due, newest first; then finish the flow, wait, or escalate.

    Each undo step is claimed before it runs (`retry_at` becomes this run's lease), so a scheduled retry
    and the sweeper never run one at the same time, and no lock is held across a merchant call. Its
    outcome is written with its audit event. The flow's own move is decided last, from the rows, so a
    run that finds nothing due still finishes a flow whose undo steps all settled (the run that settled
    the last one died before its final transaction).

    Returns "compensated" (nothing left to undo), "retrying" (undo steps left, their retry scheduled or
    left to the sweeper), "waiting" (nothing was due now) or "escalated" (an undo step gave up).
    """
    with transaction.atomic():
        flow = OrderFlow.objects.select_for_update().get(pk=flow_id)
        if flow.status == FlowStatus.FAILED:
            flow_transition(flow, FlowStatus.COMPENSATING, actor_type=ActorType.AGENT)
    flow = OrderFlow.objects.select_related("payment_method").get(pk=flow_id)
    ran, gave_up = 0, False
    for candidate in _runnable_compensations(flow).order_by("-registered_at", "-id"):
        claimed = _undo_claim(candidate.pk)
        if claimed is None:
            continue  # not due yet, or another worker runs it right now
        compensation, lease = claimed
        ran += 1
        gave_up |= _undo_attempt(flow, compensation, lease=lease)
    return _undo_settle(flow_id, ran=ran, gave_up=gave_up)


def _undo_claim(compensation_id: int) -> tuple[FlowCompensation, datetime] | None:
    """Take a due undo step for this run: (its row as claimed, the lease that proves it ours), or None."""
    now = timezone.now()
    with transaction.atomic():
        compensation = (
            FlowCompensation.objects.select_for_update(skip_locked=True)
            .filter(pk=compensation_id, status__in=UNDO_OPEN, gave_up_at__isnull=True)
            .filter(Q(retry_at__isnull=True) | Q(retry_at__lte=now))
            .first()
        )
        if compensation is None:
            return None
        # A worker that dies while undoing leaves this lease to run out; the sweeper then finds it due.
        compensation.retry_at = now + timedelta(seconds=settings.ORDERING_STEP_LEASE_SECONDS)
        compensation.save(update_fields=["retry_at"])
    return compensation, compensation.retry_at


def _undo_attempt(flow: OrderFlow, compensation: FlowCompensation, *, lease: datetime) -> bool:
    """Try one claimed undo step; record its outcome with its audit event. True when it gives up.

    A refusal by our own breaker or rate limit (nothing sent) is not an attempt: the undo comes back when
    the breaker half-opens. A real failure is retried with backoff up to ORDERING_STEP_MAX_ATTEMPTS, then
    on every sweeper pass. It gives up only ORDERING_UNDO_GIVE_UP_SECONDS after its first failure, or,
    for a merchant answer that retrying cannot change (a 4xx other than 429 / in flight), once its
    attempts are spent.
    """
    merchant_error: MerchantError | None = None
    try:
        status, note = _compensate_one(flow, compensation)
    except MerchantError as failure:
        merchant_error, status, note = failure, CompensationStatus.FAILED, str(failure)
    except DatabaseError:
        raise  # our own database: nothing can be recorded; the lease runs out and the sweeper retries
    except Exception as failure:
        # A bug must not keep the other undo steps from running: recorded, retried, escalated in time.
        logger.exception("undo step %s crashed", compensation.action, extra={"flow_id": str(flow.pk)})
        status, note = CompensationStatus.FAILED, repr(failure)[:500]
    now = timezone.now()
    refused = merchant_error is not None and merchant_error.refused_locally
    attempts = compensation.attempts + (0 if refused else 1)
    fields: dict[str, Any] = {"status": status, "attempts": attempts}
    gives_up = False
    if status == CompensationStatus.FAILED:
        failing_since = compensation.failing_since or now
        deadline = failing_since + timedelta(seconds=settings.ORDERING_UNDO_GIVE_UP_SECONDS)
        retry_after = merchant_error.retry_after if merchant_error is not None else None
        budget_spent = attempts >= settings.ORDERING_STEP_MAX_ATTEMPTS
        hopeless = merchant_error is not None and not refused and not merchant_error.retry_later
        gives_up = now >= deadline or (budget_spent and hopeless)
        if refused and not gives_up:
            retry_at = now + timedelta(seconds=refusal_wait(retry_after, deadline=deadline))
        elif gives_up or budget_spent:
            # Due at once: past its quick retries the sweeper tries it on every pass until the deadline; one
            # that gives up but whose escalation is never committed (the task died) is tried and judged again.
            retry_at = now
        else:
            delay = max(retry_delay(attempts), retry_after or 0.0)
            retry_at = min(now + timedelta(seconds=delay), deadline)
        fields.update(last_error=note, failing_since=failing_since, retry_at=retry_at, finished_at=None)
    else:
        fields.update(last_error="", failing_since=None, retry_at=None, finished_at=now)
    facts: dict[str, Any] = {
        "status": status,
        "note": note[:300],
        "target": compensation.target_ref,
        "attempt": attempts,
    }
    if refused:
        facts.update(refused=True, retry_at=fields["retry_at"].isoformat())
    with transaction.atomic():
        # Recorded only while the claim is ours: a lease that ran out went to another run, which records.
        held = FlowCompensation.objects.filter(pk=compensation.pk, retry_at=lease).update(**fields)
        if not held:
            logger.warning("undo step finished after losing its claim", extra={"flow_id": str(flow.pk)})
            return False
        audit_record(
            action=f"compensation.{compensation.action}",
            actor_type=ActorType.AGENT,
            customer_id=flow.customer_id,
            target_type="flow",
            target_id=flow.pk,
            outcome=Outcome.FAILED if status == CompensationStatus.FAILED else Outcome.OK,
            data=facts,
        )
    metrics.compensations.labels(action=compensation.action, outcome="refused" if refused else status).inc()
    return gives_up


def _undo_settle(flow_id: Any, *, ran: int, gave_up: bool) -> str:
    """The flow's move after a run, decided under its lock from its undo rows (see flow_compensate_run)."""
    now = timezone.now()
    with transaction.atomic():
        flow = OrderFlow.objects.select_for_update().get(pk=flow_id)
        left = list(_runnable_compensations(flow))
        open_undo = [c for c in left if c.gave_up_at is None]
        given_up = [c for c in left if c.gave_up_at is not None]
        if gave_up or (given_up and flow.status == FlowStatus.COMPENSATING):
            failing = [c for c in open_undo if c.status == CompensationStatus.FAILED]
            # A person owns the flow's failing undo from now on: the sweeper leaves it to them.
            FlowCompensation.objects.filter(pk__in=[c.pk for c in failing]).update(gave_up_at=now, retry_at=None)
            ask_for_a_person(
                flow,
                EscalationReason.COMPENSATION_FAILED,
                "; ".join(f"{c.action}: {c.last_error[:200]}" for c in (*failing, *given_up)),
            )
            if flow.status == FlowStatus.COMPENSATING:
                flow_transition(
                    flow,
                    FlowStatus.ESCALATED,
                    actor_type=ActorType.AGENT,
                    data={"code": "compensation_failed"},
                    waiting_for=WaitingFor.SPECIALIST,
                )
            return "escalated"
        if open_undo:
            if not ran:
                return "waiting"  # whoever holds or scheduled them settles the flow
            # Undo steps within their quick retries come back on their own; the others on the sweeper.
            scheduled = [
                c.retry_at
                for c in open_undo
                if c.status == CompensationStatus.FAILED
                and c.retry_at is not None
                and c.attempts < settings.ORDERING_STEP_MAX_ATTEMPTS
            ]
            if scheduled:
                countdown = max(0.0, (min(scheduled) - now).total_seconds())
                from ordering import tasks

                transaction.on_commit(
                    lambda: tasks.flow_compensate.apply_async(args=[str(flow_id)], countdown=countdown)
                )
            return "retrying"
        if flow.status == FlowStatus.COMPENSATING:
            flow_transition(flow, FlowStatus.COMPENSATED, actor_type=ActorType.AGENT)
    return "compensated"
