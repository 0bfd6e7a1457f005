"""`OrderFlow.waiting_for`: what a stopped flow waits for, apart from `failure_code`, which names failures (#18)."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.db import IntegrityError, transaction

from audit.models import AuditEvent
from ordering.models import FlowStatus, OrderFlow, WaitingFor
from ordering.saga import undo
from ordering.services import conversation_start
from ordering.staff_actions import flow_staff_refusal
from ordering.transitions import flow_transition
from tests.consent.factories import UserFactory

pytestmark = [pytest.mark.django_db]

migration = importlib.import_module("ordering.migrations.0015_flow_waiting_for")


def flow_in(status: str, *, failure_code: str = "", waiting_for: str = "", user=None) -> OrderFlow:
    user = user or UserFactory()
    return OrderFlow.objects.create(
        customer=user,
        conversation=conversation_start(customer_id=user.pk),
        merchant_id="sandbox",
        checkout_session_id=f"cs_{status}",
        status=status,
        confirmations=1,
        total_amount=5_000,
        currency="USD",
        failure_code=failure_code,
        waiting_for=waiting_for,
    )


def test_a_move_into_a_wait_says_what_for_and_the_move_out_clears_it():
    flow = flow_in(FlowStatus.PLACING)

    with transaction.atomic():
        flow_transition(flow, FlowStatus.REQUIRES_ACTION, actor_type="agent", waiting_for=WaitingFor.STEP_UP)
    assert OrderFlow.objects.get(pk=flow.pk).waiting_for == "step_up"
    event = AuditEvent.objects.filter(target_id=str(flow.pk), action="flow.requires_action").get()
    assert event.data["waiting_for"] == "step_up"

    with transaction.atomic():
        flow_transition(flow, FlowStatus.PLACING, actor_type="customer")
    assert (OrderFlow.objects.get(pk=flow.pk).waiting_for, flow.failure_code) == ("", "")


def test_a_wait_without_its_reason_or_a_reason_without_a_wait_is_a_bug():
    flow = flow_in(FlowStatus.PLACING)

    with pytest.raises(ValueError, match="must say what it waits for"):
        flow_transition(flow, FlowStatus.ESCALATED, actor_type="agent")
    with pytest.raises(ValueError, match="waits for nothing"):
        flow_transition(flow, FlowStatus.FAILED, actor_type="agent", waiting_for=WaitingFor.SPECIALIST)
    assert OrderFlow.objects.get(pk=flow.pk).status == FlowStatus.PLACING


def test_the_database_refuses_a_wait_on_a_flow_that_is_not_stopped():
    flow = flow_in(FlowStatus.PLACING)

    with pytest.raises(IntegrityError), transaction.atomic():
        OrderFlow.objects.filter(pk=flow.pk).update(waiting_for=WaitingFor.RISK_REVIEW)


def test_only_a_flow_waiting_for_a_risk_decision_keeps_its_undo_for_later():
    # a risk review may still be approved and placed: its effects are not undone meanwhile
    waiting = flow_in(FlowStatus.ESCALATED, waiting_for=WaitingFor.RISK_REVIEW)
    # a flow whose undo failed (its failure kept in failure_code) is ending: its undo goes on
    repairing = flow_in(FlowStatus.ESCALATED, failure_code="payment_declined", waiting_for=WaitingFor.SPECIALIST)

    assert undo._flow_is_ending(waiting) is False
    assert undo._flow_is_ending(repairing) is True


def test_the_data_migration_moves_the_waits_out_of_failure_code():
    user = UserFactory()
    step_up = flow_in(FlowStatus.REQUIRES_ACTION, failure_code="step_up_required", user=user)
    three_ds = flow_in(FlowStatus.REQUIRES_ACTION, failure_code="payment_verification", user=user)
    review = flow_in(FlowStatus.ESCALATED, failure_code="risk_review", user=user)
    undo_failed = flow_in(FlowStatus.ESCALATED, failure_code="merchant_unavailable", user=user)
    stuck = flow_in(FlowStatus.ESCALATED, failure_code="internal_error", user=user)
    failed = flow_in(FlowStatus.COMPENSATED, failure_code="payment_declined", user=user)

    migration.forwards(apps, None)

    def state(flow: OrderFlow) -> tuple[str, str]:
        flow.refresh_from_db()
        return flow.waiting_for, flow.failure_code

    assert state(step_up) == ("step_up", "")
    assert state(three_ds) == ("payment_verification", "")
    assert state(review) == ("risk_review", "")
    assert state(undo_failed) == ("specialist", "merchant_unavailable")
    assert state(stuck) == ("specialist", "internal_error")
    assert state(failed) == ("", "payment_declined")

    migration.backwards(apps, None)

    assert state(step_up) == ("", "step_up_required")
    assert state(review) == ("", "risk_review")
    assert state(undo_failed) == ("", "merchant_unavailable")


def test_which_staff_actions_fit_a_flow_follows_what_it_waits_for():
    review = flow_in(FlowStatus.ESCALATED, waiting_for=WaitingFor.RISK_REVIEW)
    three_ds = flow_in(FlowStatus.REQUIRES_ACTION, waiting_for=WaitingFor.PAYMENT_VERIFICATION)

    assert flow_staff_refusal(review, "approve") is None
    assert flow_staff_refusal(three_ds, "approve") == (
        "The order is not waiting for a risk decision (it is requires action)."
    )
    assert flow_staff_refusal(three_ds, "verify_payment") is None
    assert flow_staff_refusal(review, "confirm_payment") == (
        "The order is not waiting for a payment verification (it is escalated)."
    )
    # neither may be closed while it still waits for the specialist
    assert flow_staff_refusal(review, "close").startswith("The order is still waiting for a specialist")
    assert flow_staff_refusal(three_ds, "close").startswith("The order is still waiting for a specialist")
