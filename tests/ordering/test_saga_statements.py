"""The saga's hand-written PostgreSQL statements (a step's outcome with the next claim's rows and undo, behind the
lease check, in one data-modifying WITH: `engine._finish_write`, `engine._steps_write`) and their ORM path write
the same rows: one placed order each way, compared row by row; and a step that lost its claim writes nothing
either way (#15). The merchant is not the subject: the in-memory fake merchant, and the test rolls back."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ordering.models import FlowStatus, FlowStep, OrderFlow, StepStatus
from ordering.saga import engine
from ordering.saga.outcomes import Advance
from ordering.services import flow_confirm

pytestmark = [pytest.mark.postgres]


@pytest.fixture
def shop(fake_shop):
    return fake_shop


# Values that differ between two orders whatever path wrote them (times, the merchant's and the ledger's ids).
_PER_ORDER = {"token_expires_at", "merchant_order_id", "reservation_id"}


def _placed_rows(shop, flow: OrderFlow) -> tuple[list[tuple], list[tuple]]:
    OrderFlow.objects.filter(customer=shop.alice, status=FlowStatus.PLACED).delete()  # both are first orders
    flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)
    assert engine.flow_run(flow_id=flow.pk) == "placed"
    key = str(flow.pk)
    steps = [
        (
            name,
            status,
            attempt,
            idempotency_key.replace(key, "<flow>"),
            {k: ("*" if k in _PER_ORDER else v) for k, v in result.items()},
            error_class,
            finished is not None,
        )
        for name, status, attempt, idempotency_key, result, error_class, finished in FlowStep.objects.filter(flow=flow)
        .order_by("id")
        .values_list("name", "status", "attempt", "idempotency_key", "result", "error_class", "finished_at")
    ]
    undo = [
        (action, placement_round, target_ref.replace(key, "<flow>").replace(flow.checkout_session_id, "<session>"), s)
        for action, placement_round, target_ref, s in flow.compensations.order_by("id").values_list(
            "action", "placement_round", "target_ref", "status"
        )
    ]
    return steps, undo


def test_a_placed_order_writes_the_same_step_and_undo_rows_with_the_statement_and_with_the_orm(shop, settings):
    settings.DATABASE_HAND_WRITTEN_SQL = True
    statement = _placed_rows(shop, shop.start_flow())
    settings.DATABASE_HAND_WRITTEN_SQL = False
    orm = _placed_rows(shop, shop.start_flow())

    assert statement == orm
    steps, undo = statement
    assert [(name, status, finished) for name, status, *_, finished in steps] == [
        (name, "succeeded", True)
        for name in ("check_consent", "reserve_spend", "score_risk", "verify_price", "mint_token", "complete_checkout")
    ]
    assert [(action, status) for action, _, _, status in undo] == [
        ("cancel_checkout", "not_needed"),
        ("release_spend", "not_needed"),
        ("revoke_token", "not_needed"),
        ("cancel_order", "not_needed"),
    ]


@pytest.mark.parametrize("hand_written", [True, False], ids=["statement", "orm"])
@pytest.mark.parametrize("budget", [0, 1], ids=["last-unit", "chained"])
def test_a_step_that_lost_its_claim_records_nothing_and_claims_nothing(shop, settings, hand_written, budget):
    # given verify_price claimed by "us", then our lease given to another worker (a later lease)
    settings.DATABASE_HAND_WRITTEN_SQL = hand_written
    flow = shop.start_flow()
    flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)
    claim = engine._claim(flow.pk)
    assert claim is not None and claim.step == "verify_price" and claim.lease_until is not None
    OrderFlow.objects.filter(pk=flow.pk).update(step_lease_until=claim.lease_until + timedelta(minutes=5))

    # when our step finishes (and, with budget, would claim mint_token in the same statement)
    claimed, used, _ = engine._finish_and_continue(
        claim, Advance({"total": flow.total_amount, "payment_handler": "card_tokenized"}), budget=budget
    )

    assert claimed is None and used == 0
    flow.refresh_from_db()
    assert flow.next_step == "verify_price" and flow.step_lease_until == claim.lease_until + timedelta(minutes=5)
    assert not FlowStep.objects.filter(flow=flow, name="mint_token").exists()
    assert not flow.compensations.filter(action="revoke_token").exists()
    ours = FlowStep.objects.get(pk=claim.step_id)
    assert ours.status == StepStatus.FAILED and ours.error_class == "superseded"
