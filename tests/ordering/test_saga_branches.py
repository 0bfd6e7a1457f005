"""Saga branches that a happy path never takes (issue #18's money-path list): a payment token that expired
before completion, a checkout session closed before the price check, a step finished after losing its
claim, and a placed order whose recording failed.

Each runs the saga's units by hand (no eager tasks: the test decides when each runs), against the sandbox
merchant over HTTP, and checks the merchant, the spend ledger and what the customer and staff see."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest
from django.db import connection

from catalog_adapters.registry import get_merchant
from config.celery import app as celery_app
from consent.models import SpendEntry, SpendKind
from escalations.models import Escalation, EscalationReason
from ordering import saga
from ordering.models import FlowStatus, FlowStep, OrderFlow, StepStatus
from ordering.saga import Advance
from ordering.services import flow_confirm
from tests.support.merchant_state import available, merchant_order_count, merchant_token, session_status
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
    saga.flow_compensate_run(flow_id=flow.pk)
    return OrderFlow.objects.get(pk=flow.pk)


def test_a_payment_token_that_expired_before_completion_charges_nothing_and_undoes_everything(shop, settings):
    settings.ORDERING_PAYMENT_TOKEN_TTL_SECONDS = 2
    before = available(BLUE_RUNNER_42)
    flow = _confirmed(shop)
    for _unit in ("local", "verify_price", "mint_token"):
        saga.flow_run_next_step(flow_id=flow.pk)
    assert OrderFlow.objects.get(pk=flow.pk).next_step == "complete_checkout"

    time.sleep(2.2)  # the token's allowance ends before the complete step runs
    saga.flow_run_next_step(flow_id=flow.pk)

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
    saga.flow_run_next_step(flow_id=flow.pk)  # consent, spend, risk
    saga.flow_run_next_step(flow_id=flow.pk)  # verify_price

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
    claim = saga._claim(flow.pk)  # local steps done; verify_price claimed by "us"
    assert claim is not None and claim.step == "verify_price"
    # meanwhile our lease ran out and the sweeper gave the step to another worker (a later lease)
    OrderFlow.objects.filter(pk=flow.pk).update(step_lease_until=claim.lease_until + timedelta(minutes=5))

    saga._finish_and_continue(claim, Advance({"total": flow.total_amount}), budget=0)

    flow = OrderFlow.objects.get(pk=flow.pk)
    assert flow.next_step == "verify_price"  # not moved on by the step that lost its claim
    assert flow.status == FlowStatus.CONFIRMED or flow.status in saga.RUNNABLE_STATUSES
    ours = FlowStep.objects.get(pk=claim.step_id)
    assert ours.status == StepStatus.FAILED and ours.error_class == "superseded"
    assert "while the step ran" in ours.error_detail


def test_an_order_whose_recording_fails_goes_to_a_person_with_the_merchant_order_id(shop):
    flow = _confirmed(shop)
    for _unit in ("local", "verify_price", "mint_token"):
        saga.flow_run_next_step(flow_id=flow.pk)
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

    saga.flow_run_next_step(flow_id=flow.pk)  # complete_checkout: the merchant takes the order

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
