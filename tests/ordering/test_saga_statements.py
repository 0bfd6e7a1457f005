"""The saga's hand-written PostgreSQL statement (a claim's rows in one data-modifying WITH, `engine._steps_write`)
and its ORM path write the same rows: one placed order each way, compared row by row (#15)."""

from __future__ import annotations

import pytest

from ordering.models import FlowStatus, FlowStep, OrderFlow
from ordering.saga import engine
from ordering.services import flow_confirm

pytestmark = [pytest.mark.postgres]

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
