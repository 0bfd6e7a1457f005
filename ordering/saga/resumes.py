"""How a flow that waits for someone goes on: a specialist approves a risk review, a payment's verification
(the customer's challenge, or two specialists) pays again, a specialist retries the undo steps that gave up.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from audit.models import ActorType
from ordering.errors import FlowNotConfirmable
from ordering.models import CompensationStatus, FlowStatus, OrderFlow, WaitingFor
from ordering.transitions import flow_advance_on_commit, flow_compensate_on_commit, flow_transition


def _staff_resume(flow: OrderFlow, *, staff_id: int, next_step: str, approved: str, fields: tuple[str, ...]) -> None:
    flow.next_step = next_step
    flow.failure_detail = ""
    flow_transition(
        flow,
        FlowStatus.PLACING,
        actor_type=ActorType.STAFF,
        actor_id=staff_id,
        data={"approved": approved},
        extra_fields=("next_step", "failure_detail", *fields),
    )
    flow_advance_on_commit(flow.pk)


def flow_staff_approve(*, flow_id: Any, staff_id: int) -> OrderFlow:
    """A specialist approved a risk review (or vouched for the customer instead of a step-up code)."""
    with transaction.atomic():
        flow = OrderFlow.objects.select_for_update().get(pk=flow_id)
        if flow.waiting_for not in (WaitingFor.RISK_REVIEW, WaitingFor.STEP_UP):
            raise FlowNotConfirmable("This order is not waiting for a risk decision.", flow_id=str(flow.pk))
        flow.risk_approved_by = str(staff_id)
        _staff_resume(flow, staff_id=staff_id, next_step="score_risk", approved="risk", fields=("risk_approved_by",))
    return flow


def payment_verification_link(flow: OrderFlow) -> dict[str, str]:
    """The chat's link to the issuer's challenge: our own URL, which opens a fresh challenge when followed."""
    from django.urls import reverse

    return {
        "url": reverse("flow-payment-verification", args=[flow.pk]),
        "label": "Verify the payment with your bank",
    }


def flow_waiting_for_payment_verification(flow: OrderFlow) -> bool:
    return flow.status == FlowStatus.REQUIRES_ACTION and flow.waiting_for == WaitingFor.PAYMENT_VERIFICATION


def flow_payment_verified(
    flow: OrderFlow,
    *,
    evidence: dict[str, Any],
    authentication_result: dict[str, Any],
    actor_type: ActorType,
    actor_id: Any,
    verified_by: str,
) -> None:
    """Pay again with the evidence's authentication result (the flow is locked and waiting for it).

    The only way out of a payment verification: a new payment attempt (a fresh token, new keys) that
    completes with `authentication_result`, with the evidence recorded on the flow and in the audit event.
    """
    if not flow_waiting_for_payment_verification(flow):
        raise FlowNotConfirmable("This order is not waiting for a payment verification.", flow_id=str(flow.pk))
    flow.payment_verified_by = verified_by[:64]
    flow.payment_verification_evidence = evidence
    flow.payment_authentication_result = authentication_result
    flow.payment_attempt += 1
    flow.next_step = "mint_token"
    flow.failure_detail = ""
    flow_transition(
        flow,
        FlowStatus.PLACING,
        actor_type=actor_type,
        actor_id=actor_id,
        data={"approved": "payment_verification", "evidence": evidence},
        extra_fields=(
            "next_step",
            "failure_detail",
            "payment_verified_by",
            "payment_verification_evidence",
            "payment_authentication_result",
            "payment_attempt",
        ),
    )
    flow_advance_on_commit(flow.pk)


def flow_staff_verify_payment(*, flow_id: Any, staff_id: int, recorded_by: int, note: str) -> OrderFlow:
    """A second specialist confirms the first one's verification of the payment: pay again, authenticated.

    Called only by `escalations.services.escalation_payment_verification_confirm`, which holds the
    recorded verification; the two people must differ (checked there and here).
    """
    if staff_id == recorded_by:
        raise FlowNotConfirmable(
            "A payment verification needs a second specialist: you recorded it yourself.", flow_id=str(flow_id)
        )
    with transaction.atomic():
        flow = OrderFlow.objects.select_for_update().get(pk=flow_id)
        flow_payment_verified(
            flow,
            evidence={
                "kind": "staff_two_person",
                "recorded_by": recorded_by,
                "confirmed_by": staff_id,
                "note": note[:500],
                "at": timezone.now().isoformat(),
            },
            # Specialists have no issuer result to hand on. ACP's `authenticated` needs the issuer's
            # outcome_details (cryptogram, ECI, transaction id, version), which only a real challenge
            # yields; `not_supported` says "no 3-D Secure result exists", and the merchant decides: it may
            # take it for a challenge it only prefers, never for one the card's issuer mandates.
            authentication_result={"outcome": "not_supported"},
            actor_type=ActorType.STAFF,
            actor_id=staff_id,
            verified_by=f"{recorded_by}+{staff_id}",
        )
    return flow


def flow_staff_retry_compensations(*, flow_id: Any, staff_id: int) -> OrderFlow:
    """After the merchant recovered, run the undo steps that had given up, once more."""
    with transaction.atomic():
        flow = OrderFlow.objects.select_for_update().get(pk=flow_id)
        failed = flow.compensations.filter(status=CompensationStatus.FAILED)
        if not failed.exists():
            raise FlowNotConfirmable("Nothing of this order is waiting to be undone.", flow_id=str(flow.pk))
        # A fresh start: its own attempts, its own deadline, and no longer a person's to hold.
        failed.update(status=CompensationStatus.PENDING, attempts=0, retry_at=None, failing_since=None, gave_up_at=None)
        if flow.status == FlowStatus.ESCALATED:
            flow_transition(flow, FlowStatus.COMPENSATING, actor_type=ActorType.STAFF, actor_id=staff_id)
        flow_compensate_on_commit(flow.pk)
    return flow
