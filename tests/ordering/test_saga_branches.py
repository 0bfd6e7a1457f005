"""Saga branches that a happy path never takes (issue #18's money-path list): a payment token that expired
before completion, a checkout session closed before the price check, a step finished after losing its
claim, a placed order whose recording failed, and a merchant that completes an order other than the one
confirmed (another total, another variant), whose order the undo really cancels.

Each runs the saga's units by hand (no eager tasks: the test decides when each runs) and checks the merchant,
the spend ledger and what the customer and staff see. Here at the in-memory fake merchant (the saga's own
bookkeeping is the subject; the test rolls back); the merchant that misbehaves at complete (the sandbox's
faults, over HTTP) is in test_saga_branches_wire.py."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db import connection

from catalog_adapters.registry import get_merchant
from config.celery import app as celery_app
from escalations.models import Escalation
from ordering.models import EscalationReason, FlowStatus, FlowStep, OrderFlow, StepStatus
from ordering.saga import base, engine, undo
from ordering.saga.outcomes import Advance
from tests.ordering.saga_reads import confirm, ledger
from tests.support.merchant_state import (
    available,
    merchant_order_count,
    merchant_token,
    session_status,
)
from tests.support.sandbox import BLUE_RUNNER_42

pytestmark = [pytest.mark.postgres]


@pytest.fixture
def shop(fake_shop):
    """The merchant is not the subject here: the in-memory fake merchant, and the test rolls back."""
    return fake_shop


@pytest.fixture(autouse=True)
def _no_leftover_tasks():
    # the units enqueue what comes next on this run's queue; no worker runs here, so drop it after
    yield
    celery_app.control.purge()


def confirmed_flow(shop) -> OrderFlow:
    return confirm(shop, shop.start_flow())


def undo_flow(flow) -> OrderFlow:
    undo.flow_compensate_run(flow_id=flow.pk)
    return OrderFlow.objects.get(pk=flow.pk)


def test_a_payment_token_that_expired_before_completion_charges_nothing_and_undoes_everything(
    shop, settings, wall_clock
):
    settings.ORDERING_PAYMENT_TOKEN_TTL_SECONDS = 2
    before = available(BLUE_RUNNER_42)
    flow = confirmed_flow(shop)
    for _unit in ("local", "verify_price", "mint_token"):
        engine.flow_run_next_step(flow_id=flow.pk)
    assert OrderFlow.objects.get(pk=flow.pk).next_step == "complete_checkout"

    wall_clock.advance(2.2)  # the token's allowance ends before the complete step runs
    engine.flow_run_next_step(flow_id=flow.pk)

    flow = OrderFlow.objects.get(pk=flow.pk)
    assert flow.status == FlowStatus.FAILED and flow.failure_code == "payment_token_expired"
    assert merchant_order_count(session_id=flow.checkout_session_id) == 0  # never sent to the merchant
    flow = undo_flow(flow)
    assert flow.status == FlowStatus.COMPENSATED
    assert session_status(flow.checkout_session_id) == "canceled"
    assert available(BLUE_RUNNER_42) == before
    assert merchant_token(flow.checkout_session_id).revoked
    assert ledger(flow) == {"reserve": flow.total_amount, "commit": 0, "release": flow.total_amount, "refund": 0}
    assert "nothing was charged" in flow.conversation.messages.order_by("-id").first().text.lower()


def test_a_checkout_session_closed_before_the_price_check_fails_the_flow_before_any_token(shop):
    flow = confirmed_flow(shop)
    # the shop closed the session meanwhile (its own expiry, or staff there)
    get_merchant("sandbox").checkout.cancel(session_id=flow.checkout_session_id, operation_id=f"t-{uuid.uuid4().hex}")
    engine.flow_run_next_step(flow_id=flow.pk)  # consent, spend, risk
    engine.flow_run_next_step(flow_id=flow.pk)  # verify_price

    flow = OrderFlow.objects.get(pk=flow.pk)
    assert flow.status == FlowStatus.FAILED and flow.failure_code == "session_canceled"
    step = FlowStep.objects.get(flow=flow, name="verify_price")
    assert step.status == StepStatus.FAILED
    assert not FlowStep.objects.filter(flow=flow, name="mint_token").exists()
    flow = undo_flow(flow)
    assert flow.status == FlowStatus.COMPENSATED
    assert ledger(flow)["release"] == ledger(flow)["reserve"] == flow.total_amount
    assert merchant_order_count(session_id=flow.checkout_session_id) == 0


def test_a_step_that_finishes_after_the_sweeper_took_its_claim_changes_nothing(shop):
    flow = confirmed_flow(shop)
    claim = engine._claim(flow.pk)  # local steps done; verify_price claimed by "us"
    assert claim is not None and claim.step == "verify_price"
    # meanwhile our lease ran out and the sweeper gave the step to another worker (a later lease)
    OrderFlow.objects.filter(pk=flow.pk).update(step_lease_until=claim.lease_until + timedelta(minutes=5))

    engine._finish_and_continue(claim, Advance({"total": flow.total_amount}), budget=0)

    flow = OrderFlow.objects.get(pk=flow.pk)
    assert flow.next_step == "verify_price"  # not moved on by the step that lost its claim
    assert flow.status == FlowStatus.CONFIRMED or flow.status in base.RUNNABLE_STATUSES
    ours = FlowStep.objects.get(pk=claim.step_id)
    assert ours.status == StepStatus.FAILED and ours.error_class == "superseded"
    assert "while the step ran" in ours.error_detail


def test_an_order_whose_recording_fails_goes_to_a_person_with_the_merchant_order_id(shop):
    flow = confirmed_flow(shop)
    for _unit in ("local", "verify_price", "mint_token"):
        engine.flow_run_next_step(flow_id=flow.pk)
    # our database refuses the spend commit that recording the placed order writes (a real failure, in
    # PostgreSQL, for this flow only; the test's transaction takes the trigger away again)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE FUNCTION test_refuse_commit() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF NEW.kind = 'commit' AND NEW.flow_reference LIKE %s THEN
                RAISE EXCEPTION 'ledger unavailable (test)';
              END IF;
              RETURN NEW;
            END $$;
            CREATE TRIGGER test_refuse_commit BEFORE INSERT ON consent_spendentry
              FOR EACH ROW EXECUTE FUNCTION test_refuse_commit();
            """,
            [f"flow:{flow.pk}:%"],
        )

    engine.flow_run_next_step(flow_id=flow.pk)  # complete_checkout: the merchant takes the order

    flow = OrderFlow.objects.get(pk=flow.pk)
    assert merchant_order_count(session_id=flow.checkout_session_id) == 1  # the shop did take it
    assert flow.status == FlowStatus.ESCALATED and flow.failure_code == "internal_error"
    assert "recording it failed" in flow.failure_detail and "Placed" in flow.failure_detail
    # the person sees the outcome verbatim, the merchant's order id included: nothing done twice or lost
    escalation = Escalation.objects.get(flow_id=flow.pk)
    assert escalation.reason == EscalationReason.AGENT_STUCK
    order_id = get_merchant("sandbox").checkout.get(session_id=flow.checkout_session_id).order.id
    assert order_id in escalation.detail
    assert ledger(flow)["commit"] == 0  # the refused commit left no half entry
