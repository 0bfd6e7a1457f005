"""Saga branches that a happy path never takes (issue #18's money-path list): a payment token that expired
before completion, a checkout session closed before the price check, a step finished after losing its
claim, a placed order whose recording failed, and a merchant that completes an order other than the one
confirmed (another total, another variant), whose order the undo really cancels.

Each runs the saga's units by hand (no eager tasks: the test decides when each runs), against the sandbox
merchant over HTTP, and checks the merchant, the spend ledger and what the customer and staff see."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db import connection

from catalog_adapters.registry import get_merchant
from config.celery import app as celery_app
from consent.models import SpendEntry, SpendKind
from escalations.models import Escalation
from ordering.models import EscalationReason, FlowStatus, FlowStep, OrderFlow, StepStatus
from ordering.saga import base, engine, undo
from ordering.saga.outcomes import Advance
from ordering.services import flow_confirm
from tests.support.merchant_state import (
    available,
    cancellations,
    checkout_session,
    merchant_order_count,
    merchant_token,
    session_order,
    session_status,
)
from tests.support.sandbox import BLUE_RUNNER_42

pytestmark = [pytest.mark.postgres]


@pytest.fixture(autouse=True)
def _no_leftover_tasks():
    # the units enqueue what comes next on this run's queue; no worker runs here, so drop it after
    yield
    celery_app.control.purge()


def _confirmed(shop) -> OrderFlow:
    flow = shop.start_flow()
    flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)
    return OrderFlow.objects.get(pk=flow.pk)


def _ledger(flow) -> dict[str, int]:
    totals = {kind: 0 for kind in SpendKind.values}
    for entry in SpendEntry.objects.filter(flow_reference__startswith=f"flow:{flow.pk}:"):
        totals[entry.kind] += entry.amount
    return totals


def _undo(flow) -> OrderFlow:
    undo.flow_compensate_run(flow_id=flow.pk)
    return OrderFlow.objects.get(pk=flow.pk)


def test_a_payment_token_that_expired_before_completion_charges_nothing_and_undoes_everything(
    shop, settings, wall_clock
):
    settings.ORDERING_PAYMENT_TOKEN_TTL_SECONDS = 2
    before = available(BLUE_RUNNER_42)
    flow = _confirmed(shop)
    for _unit in ("local", "verify_price", "mint_token"):
        engine.flow_run_next_step(flow_id=flow.pk)
    assert OrderFlow.objects.get(pk=flow.pk).next_step == "complete_checkout"

    wall_clock.advance(2.2)  # the token's allowance ends before the complete step runs
    engine.flow_run_next_step(flow_id=flow.pk)

    flow = OrderFlow.objects.get(pk=flow.pk)
    assert flow.status == FlowStatus.FAILED and flow.failure_code == "payment_token_expired"
    assert merchant_order_count(session_id=flow.checkout_session_id) == 0  # never sent to the merchant
    flow = _undo(flow)
    assert flow.status == FlowStatus.COMPENSATED
    assert session_status(flow.checkout_session_id) == "canceled"
    assert available(BLUE_RUNNER_42) == before
    assert merchant_token(flow.checkout_session_id).revoked
    assert _ledger(flow) == {"reserve": flow.total_amount, "commit": 0, "release": flow.total_amount, "refund": 0}
    assert "nothing was charged" in flow.conversation.messages.order_by("-id").first().text.lower()


def test_a_checkout_session_closed_before_the_price_check_fails_the_flow_before_any_token(shop):
    flow = _confirmed(shop)
    # the shop closed the session meanwhile (its own expiry, or staff there)
    get_merchant("sandbox").checkout.cancel(session_id=flow.checkout_session_id, operation_id=f"t-{uuid.uuid4().hex}")
    engine.flow_run_next_step(flow_id=flow.pk)  # consent, spend, risk
    engine.flow_run_next_step(flow_id=flow.pk)  # verify_price

    flow = OrderFlow.objects.get(pk=flow.pk)
    assert flow.status == FlowStatus.FAILED and flow.failure_code == "session_canceled"
    step = FlowStep.objects.get(flow=flow, name="verify_price")
    assert step.status == StepStatus.FAILED
    assert not FlowStep.objects.filter(flow=flow, name="mint_token").exists()
    flow = _undo(flow)
    assert flow.status == FlowStatus.COMPENSATED
    assert _ledger(flow)["release"] == _ledger(flow)["reserve"] == flow.total_amount
    assert merchant_order_count(session_id=flow.checkout_session_id) == 0


def test_a_step_that_finishes_after_the_sweeper_took_its_claim_changes_nothing(shop):
    flow = _confirmed(shop)
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
    flow = _confirmed(shop)
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
    assert _ledger(flow)["commit"] == 0  # the refused commit left no half entry


def _complete_against(shop, fault: str) -> OrderFlow:
    """A confirmed flow run to its complete step against a merchant that misbehaves once there."""
    flow = _confirmed(shop)
    for _unit in ("local", "verify_price", "mint_token"):
        engine.flow_run_next_step(flow_id=flow.pk)
    shop.sandbox.add_fault(fault, operation="complete", times=1)
    engine.flow_run_next_step(flow_id=flow.pk)  # complete_checkout
    return OrderFlow.objects.get(pk=flow.pk)


@pytest.mark.parametrize(
    ("fault", "code"),
    [
        # the merchant charged 5 % less than it quoted (within the token's allowance, so the vault let it)
        ("undercharge_at_complete", "total_mismatch"),
        # the merchant shipped another size of the same shoe at the same price: same total, other content
        ("substitute_at_complete", "content_mismatch"),
    ],
)
def test_an_order_the_merchant_completed_other_than_confirmed_is_canceled_and_nothing_stays_charged(shop, fault, code):
    before = available(BLUE_RUNNER_42)
    flow = _complete_against(shop, fault)

    assert flow.status == FlowStatus.FAILED and flow.failure_code == code
    assert not flow.merchant_order_id  # never recorded as the customer's order
    order = session_order(flow.checkout_session_id)  # but the merchant did take one, and charged for it
    assert order.status != "canceled" and not cancellations(order)
    charged = order.total("total").amount
    if code == "total_mismatch":
        assert charged < flow.total_amount
    else:
        assert charged == flow.total_amount
        [sold] = checkout_session(flow.checkout_session_id).line_items
        assert sold.size != "42" and flow.preview["lines"][0]["variant"].endswith("42")

    flow = _undo(flow)

    assert flow.status == FlowStatus.COMPENSATED
    order = session_order(flow.checkout_session_id)  # the same order, now canceled and refunded by the merchant
    [canceled] = cancellations(order)
    assert order.status == "canceled" and canceled.amount.amount == charged  # refunded in full
    assert merchant_order_count(session_id=flow.checkout_session_id) == 1  # undone, not placed again
    assert merchant_token(flow.checkout_session_id).revoked or merchant_token(flow.checkout_session_id).used
    assert _ledger(flow) == {"reserve": flow.total_amount, "commit": 0, "release": flow.total_amount, "refund": 0}
    # what the merchant sold stays sold (the sandbox does not restock a canceled order); the size the customer
    # confirmed was never sold when another one was shipped instead
    assert available(BLUE_RUNNER_42) == (before - 1 if code == "total_mismatch" else before)
    undone = {c.action: c.status for c in flow.compensations.all()}
    assert undone.get("cancel_order") == "done"
    told = flow.conversation.messages.order_by("-id").first().text.lower()
    assert "cancel" in told
