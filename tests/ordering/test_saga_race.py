"""Two workers on one flow (real PostgreSQL, threads): one claim, one spend reservation, one order."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from consent.models import SpendEntry
from ordering.models import FlowStatus, FlowStep, OrderFlow
from ordering.saga import base, engine, outcomes
from ordering.services import flow_confirm
from tests.support.merchant_state import merchant_order_count
from tests.support.together import together

pytestmark = pytest.mark.postgres


def _confirmed(shop) -> OrderFlow:
    flow = shop.start_flow()
    flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)
    return flow


def test_two_workers_claiming_one_flow_at_once_get_one_claim(shop):
    flow = _confirmed(shop)

    claims, errors = together(2, lambda: engine._claim(flow.pk))

    assert errors == []
    won = [claim for claim in claims if claim is not None]
    assert len(won) == 1 and won[0].step == "verify_price"
    # the local steps ran once: one row each, one reservation
    assert list(FlowStep.objects.filter(flow=flow).values_list("name", "status")) == [
        ("check_consent", "succeeded"),
        ("reserve_spend", "succeeded"),
        ("score_risk", "succeeded"),
        ("verify_price", "running"),
    ]
    assert SpendEntry.objects.filter(flow_reference=f"flow:{flow.pk}:r1", kind="reserve").count() == 1


def test_two_deliveries_of_the_same_task_at_once_place_one_order(shop):
    flow = _confirmed(shop)

    outcomes, errors = together(2, lambda: engine.flow_run(flow_id=flow.pk))

    assert errors == []
    assert sorted(outcomes) == ["placed", "skipped"]
    flow = OrderFlow.objects.get(pk=flow.pk)
    assert flow.status == FlowStatus.PLACED
    assert merchant_order_count(session_id=flow.checkout_session_id) == 1
    names = list(FlowStep.objects.filter(flow=flow).values_list("name", flat=True))
    assert names == list(base.STEPS)  # each step exactly once


def test_a_worker_that_lost_its_lease_cannot_record_over_the_one_that_took_over(shop):
    flow = _confirmed(shop)
    slow = engine._claim(flow.pk)  # the local steps, then verify_price is claimed by a slow worker
    # its lease runs out; another worker takes the step over
    OrderFlow.objects.filter(pk=flow.pk).update(step_lease_until=timezone.now() - timedelta(seconds=1))
    fresh = engine._claim(flow.pk)
    assert fresh is not None and fresh.step == slow.step == "verify_price"

    # the slow worker comes back with its outcome: refused, its row says why
    late, _, _ = engine._step_transaction(flow.pk, finished=(slow, outcomes.Advance()), budget=0)
    assert late is None
    assert FlowStep.objects.get(pk=slow.step_id).error_class == "abandoned"
    assert OrderFlow.objects.get(pk=flow.pk).next_step == "verify_price"

    # the worker holding the step now finishes it and the flow moves on once
    _, _, name = engine._step_transaction(flow.pk, finished=(fresh, outcomes.Advance()), budget=0)
    assert name == "advance"
    flow = OrderFlow.objects.get(pk=flow.pk)
    assert (flow.next_step, flow.step_lease_until) == ("mint_token", None)
    assert FlowStep.objects.filter(flow=flow, name="verify_price", status="succeeded").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_confirmation_that_waits_on_a_new_preview_confirms_nothing(shop):
    """The customer confirms the preview they saw while a turn is writing a new one (another card, another
    total) on the same flow: the confirmation waits for the flow's row lock and must then refuse, never
    confirm the new preview under the old hash."""
    from django.db import connection, transaction

    from ordering.errors import StalePreview

    flow = shop.start_flow()
    seen = flow.preview_hash
    new_hash = "f" * 64
    locked, release = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def re_preview() -> None:
        try:
            with transaction.atomic():
                row = OrderFlow.objects.select_for_update().get(pk=flow.pk)
                row.preview = {**row.preview, "total": row.total_amount + 1500}
                row.preview_hash, row.total_amount = new_hash, row.total_amount + 1500
                row.save(update_fields=["preview", "preview_hash", "total_amount"])
                locked.set()
                release.wait(10)
        finally:
            connections.close_all()

    def confirm() -> None:
        outcome["backend"] = connection.cursor().connection.info.backend_pid
        try:
            flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=seen)
            outcome["result"] = "confirmed"
        except StalePreview:
            outcome["result"] = "stale"
        except BaseException as error:  # anything else is a failure of this test, shown as it is
            outcome["result"] = repr(error)
        finally:
            connections.close_all()

    writer = threading.Thread(target=re_preview)
    writer.start()
    assert locked.wait(10)
    confirmer = threading.Thread(target=confirm)
    confirmer.start()
    # release the new preview only once the confirmation really waits for the row lock
    deadline = timezone.now() + timedelta(seconds=10)
    waiting = False
    while not waiting and timezone.now() < deadline:
        backend = outcome.get("backend")
        if backend is not None:
            with connection.cursor() as cursor:
                cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [backend])
                row = cursor.fetchone()
            waiting = row is not None and row[0] == "Lock"
    release.set()
    writer.join(15)
    confirmer.join(15)

    assert waiting, "the confirmation never waited for the flow's lock"
    assert outcome["result"] == "stale"
    flow.refresh_from_db()
    assert flow.status == FlowStatus.PREVIEWED
    assert flow.preview_hash == new_hash and flow.confirmed_hash in ("", None)
