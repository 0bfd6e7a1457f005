"""The saga's hand-written PostgreSQL statements (a step's outcome with the next claim's rows and undo, behind the
lease check, in one data-modifying WITH: `engine._finish_write`, `engine._steps_write`; the placement's undo
retired, its message and its A/B event in one: `outcomes._placed_records`; the flow's status moves without the
ORM's save: `config.statements.fields_update`; risk's aggregate: `risk._placed_history`) and their ORM path write
the same rows: one placed order each way, compared row by row; and a step that lost its claim writes nothing
either way (#15). The merchant is not the subject: the in-memory fake merchant, and the test rolls back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.statements import fields_update
from consent.models import Address
from ordering.models import ExperimentEvent, FlowStatus, FlowStep, Message, OrderFlow, StepStatus
from ordering.risk import _placed_history, risk_assess
from ordering.saga import engine
from ordering.saga.outcomes import Advance
from ordering.services import flow_confirm

pytestmark = [pytest.mark.postgres]


@pytest.fixture
def shop(fake_shop):
    return fake_shop


# Values that differ between two orders whatever path wrote them (times, the merchant's and the ledger's ids).
_PER_ORDER = {"token_expires_at", "merchant_order_id", "reservation_id"}


def _placed_rows(shop, flow: OrderFlow) -> tuple[list[tuple], list[tuple], list[tuple]]:
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
    flow.refresh_from_db()
    order = flow.merchant_order_id

    def masked(value: str) -> str:
        return value.replace(key, "<flow>").replace(order, "<order>")

    messages = Message.objects.filter(conversation_id=flow.conversation_id, data__kind="flow_placed").order_by("id")
    told = [
        (role, masked(text), {name: masked(value) for name, value in data.items()})
        for role, text, data in messages.values_list("role", "text", "data")
    ]
    columns = ("kind", "arm", "phase", "channel", "customer_id", "conversation_id", "order_ref", "amount", "currency")
    events = [
        (*row[:5], row[5] == flow.conversation_id, row[6] == order, *row[7:])
        for row in ExperimentEvent.objects.filter(flow_id=flow.pk, kind="order_placed")
        .order_by("id")
        .values_list(*columns)
    ]
    state = (flow.status, flow.next_step, flow.step_lease_until, flow.placed_at is not None, flow.waiting_for)
    return steps, undo, [*told, *events, state]


def test_a_placed_order_writes_the_same_step_and_undo_rows_with_the_statement_and_with_the_orm(shop, settings):
    settings.DATABASE_HAND_WRITTEN_SQL = True
    statement = _placed_rows(shop, shop.start_flow())
    settings.DATABASE_HAND_WRITTEN_SQL = False
    orm = _placed_rows(shop, shop.start_flow())

    assert statement == orm
    steps, undo, placed = statement
    assert [row[0] for row in placed] == ["assistant", "order_placed", "placed"]
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


def test_the_risk_aggregate_counts_the_same_orders_either_way(shop, settings):
    # given alice's earlier placed orders: one to her home, one to no address, one in another currency, one old
    home = shop.home()
    earlier = shop.start_flow()
    now = timezone.now()
    rows = [
        (home.pk, "usd", 4_000, now),
        (None, "usd", 6_000, now - timedelta(days=3)),
        (home.pk, "eur", 9_000, now - timedelta(minutes=2)),
    ]
    for address_id, currency, total, placed_at in rows:
        OrderFlow.objects.create(
            customer=shop.alice, conversation_id=earlier.conversation_id, merchant_id="sandbox",
            checkout_session_id=f"cs_{total}", status=FlowStatus.PLACED, shipping_address_id=address_id,
            currency=currency, total_amount=total, placed_at=placed_at, merchant_order_id=f"ord_{total}",
        )  # fmt: skip
    elsewhere = Address.objects.filter(user=shop.alice).exclude(pk=home.pk).first()
    window = now - timedelta(hours=1)

    for address in (home, elsewhere, None):
        flow = shop.start_flow()
        flow.shipping_address = address
        settings.DATABASE_HAND_WRITTEN_SQL = True
        statement = _placed_history(flow, window_start=window)
        settings.DATABASE_HAND_WRITTEN_SQL = False
        orm = _placed_history(flow, window_start=window)
        assert statement == orm
    assert statement == {"orders": 3, "average": 5_000.0, "to_address": 1, "recent": 2}
    settings.DATABASE_HAND_WRITTEN_SQL = True
    assessed = risk_assess(flow=flow)
    settings.DATABASE_HAND_WRITTEN_SQL = False
    assert risk_assess(flow=flow) == assessed


def test_a_first_order_has_no_history_either_way(shop, settings):
    flow = shop.start_flow()
    OrderFlow.objects.filter(customer=shop.alice, status=FlowStatus.PLACED).delete()
    answers = []
    for hand_written in (True, False):
        settings.DATABASE_HAND_WRITTEN_SQL = hand_written
        answers.append(_placed_history(flow, window_start=timezone.now()))
    assert answers[0] == answers[1] == {"orders": 0, "average": None, "to_address": 0, "recent": 0}


def test_fields_update_writes_what_save_writes_and_refuses_a_row_that_is_gone(shop, settings):
    settings.DATABASE_HAND_WRITTEN_SQL = True
    flow = shop.start_flow()
    before = flow.updated_at
    flow.failure_detail, flow.next_step = "written by fields_update", "verify_price"

    with CaptureQueriesContext(connection) as queries:
        fields_update(flow, ["failure_detail", "next_step", "updated_at"])

    assert len(queries) == 1 and queries[0]["sql"].startswith("UPDATE")
    stored = OrderFlow.objects.get(pk=flow.pk)
    assert (stored.failure_detail, stored.next_step) == ("written by fields_update", "verify_price")
    assert stored.updated_at == flow.updated_at > before  # auto_now set, as save() sets it
    assert stored.status == flow.status  # a field not named is not written
    flow.status = "placed"
    fields_update(flow, ["failure_detail"])
    assert OrderFlow.objects.get(pk=flow.pk).status != "placed"

    gone = OrderFlow.objects.get(pk=flow.pk)
    OrderFlow.objects.filter(pk=flow.pk).delete()
    for hand_written in (True, False):
        settings.DATABASE_HAND_WRITTEN_SQL = hand_written
        with pytest.raises(DatabaseError, match="did not affect any rows"):
            fields_update(gone, ["failure_detail"])


def test_fields_update_leaves_a_model_with_save_receivers_to_its_save(shop, settings):
    from django.contrib.auth import get_user_model

    settings.DATABASE_HAND_WRITTEN_SQL = True
    user = get_user_model().objects.get(pk=shop.alice.pk)
    user.first_name = "Alicia"
    calls = []
    real = type(user).save

    def counting(self, *args, **kwargs):
        calls.append(kwargs.get("update_fields"))
        return real(self, *args, **kwargs)

    type(user).save = counting
    try:
        fields_update(user, ["first_name"])
    finally:
        type(user).save = real
    assert calls == [["first_name"]]
    assert get_user_model().objects.get(pk=user.pk).first_name == "Alicia"


@pytest.mark.parametrize("lost", [False, True], ids=["held", "lost"])
def test_a_chained_finish_is_one_statement_with_no_transaction_of_its_own(shop, settings, lost):
    # given verify_price claimed by "us" (and, when lost, our lease given to another worker since)
    settings.DATABASE_HAND_WRITTEN_SQL = True
    flow = shop.start_flow()
    flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)
    claim = engine._claim(flow.pk)
    assert claim is not None and claim.step == "verify_price"
    if lost:
        OrderFlow.objects.filter(pk=flow.pk).update(step_lease_until=claim.lease_until + timedelta(minutes=5))
    outcome = Advance({"total": flow.total_amount, "payment_handler": "card_tokenized"})
    assert engine._finishes_in_one_statement(claim, outcome, budget=1)

    # when its outcome is recorded and mint_token claimed in the same go
    with CaptureQueriesContext(connection) as queries:
        claimed, used, name = engine._step_transaction(flow.pk, finished=(claim, outcome), budget=1)

    statements = [query["sql"] for query in queries]
    assert not any(sql.startswith(("SAVEPOINT", "BEGIN")) for sql in statements), statements
    flow.refresh_from_db()
    ours = FlowStep.objects.get(pk=claim.step_id)
    if lost:
        # nothing recorded or claimed by the statement; the step marked superseded after it
        assert claimed is None and used == 0
        assert len(statements) == 3 and statements[0].startswith("WITH h AS (UPDATE")
        assert flow.next_step == "verify_price" and ours.error_class == "superseded"
        assert not FlowStep.objects.filter(flow=flow, name="mint_token").exists()
    else:
        assert len(statements) == 1 and statements[0].startswith("WITH h AS (UPDATE")
        assert claimed is not None and claimed.step == "mint_token" and used == 1 and name == "advance"
        assert flow.next_step == "mint_token" and flow.step_lease_until == claimed.lease_until
        assert ours.status == StepStatus.SUCCEEDED
        assert FlowStep.objects.filter(flow=flow, name="mint_token", status=StepStatus.RUNNING).count() == 1
        assert flow.compensations.filter(action="revoke_token").count() == 1


def test_a_finish_that_is_not_chained_keeps_its_transaction(shop, settings):
    settings.DATABASE_HAND_WRITTEN_SQL = True
    flow = shop.start_flow()
    flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)
    claim = engine._claim(flow.pk)
    advance = Advance({"total": flow.total_amount, "payment_handler": "card_tokenized"})

    assert not engine._finishes_in_one_statement(claim, advance, budget=0)  # the task had its share
    assert not engine._finishes_in_one_statement(claim, engine.Retry(error_class="x", detail="y"), budget=1)
    settings.DATABASE_HAND_WRITTEN_SQL = False
    assert not engine._finishes_in_one_statement(claim, advance, budget=1)  # the ORM path takes four statements
