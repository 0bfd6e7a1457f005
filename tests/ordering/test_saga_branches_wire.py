"""Saga branches against a merchant that completes an order other than the one confirmed (another total, another
variant), whose order the undo really cancels: the sandbox merchant over HTTP misbehaves once at complete (its
fault switchboard). The other branches are in test_saga_branches.py, on the fake merchant.
"""

from __future__ import annotations

import pytest

from config.celery import app as celery_app
from ordering.models import FlowStatus, OrderFlow
from ordering.saga import engine
from tests.ordering.saga_reads import ledger
from tests.ordering.test_saga_branches import confirmed_flow, undo_flow
from tests.support.merchant_state import (
    available,
    cancellations,
    checkout_session,
    merchant_order_count,
    merchant_token,
    session_order,
)
from tests.support.sandbox import BLUE_RUNNER_42

pytestmark = [pytest.mark.postgres]


@pytest.fixture(autouse=True)
def _no_leftover_tasks():
    # the units enqueue what comes next on this run's queue; no worker runs here, so drop it after
    yield
    celery_app.control.purge()


def _complete_against(shop, fault: str) -> OrderFlow:
    """A confirmed flow run to its complete step against a merchant that misbehaves once there."""
    flow = confirmed_flow(shop)
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

    flow = undo_flow(flow)

    assert flow.status == FlowStatus.COMPENSATED
    order = session_order(flow.checkout_session_id)  # the same order, now canceled and refunded by the merchant
    [canceled] = cancellations(order)
    assert order.status == "canceled" and canceled.amount.amount == charged  # refunded in full
    assert merchant_order_count(session_id=flow.checkout_session_id) == 1  # undone, not placed again
    assert merchant_token(flow.checkout_session_id).revoked or merchant_token(flow.checkout_session_id).used
    assert ledger(flow) == {"reserve": flow.total_amount, "commit": 0, "release": flow.total_amount, "refund": 0}
    # what the merchant sold stays sold (the sandbox does not restock a canceled order); the size the customer
    # confirmed was never sold when another one was shipped instead
    assert available(BLUE_RUNNER_42) == (before - 1 if code == "total_mismatch" else before)
    undone = {c.action: c.status for c in flow.compensations.all()}
    assert undone.get("cancel_order") == "done"
    told = flow.conversation.messages.order_by("-id").first().text.lower()
    assert "cancel" in told
