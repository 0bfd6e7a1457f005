"""A reservation cannot expire while its flow is placing; a charge that completes always counts, once.

Real PostgreSQL; the races run on threads with their own connections; the end-to-end case places an
order at the sandbox merchant over real HTTP while the expiry sweeper runs during the complete call.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connections, transaction
from django.utils import timezone

from audit.models import AuditEvent
from consent import hooks
from consent.exceptions import SpendCapExceeded
from consent.models import SpendEntry, SpendKind
from consent.selectors import spend_used
from consent.services.grants import spend_caps_set
from consent.services.ledger import spend_commit, spend_release, spend_release_expired, spend_reserve
from ordering.handlers import spend_reservations_of_placing_flows
from ordering.models import FlowStatus, FlowStep, OrderFlow
from ordering.saga.base import spend_reference
from ordering.saga.outcomes import Placed, _placed
from ordering.services import conversation_start, flow_confirm
from tests.consent.factories import UserFactory
from tests.consent.test_spend import run_concurrently
from tests.ordering.conftest import shop  # noqa: F401 - alice's shop on the live sandbox


def placing_flow(user, *, total: int = 5_000, confirmations: int = 1) -> OrderFlow:
    conversation = conversation_start(customer_id=user.pk)
    return OrderFlow.objects.create(
        customer=user,
        conversation=conversation,
        merchant_id="sandbox",
        checkout_session_id="cs_test",
        status=FlowStatus.PLACING,
        confirmations=confirmations,
        total_amount=total,
        currency="USD",
        next_step="complete_checkout",
    )


def reserve_for(flow: OrderFlow, *, ttl_seconds: int = 600):
    return spend_reserve(
        user_id=flow.customer_id,
        amount=flow.total_amount,
        currency="USD",
        flow_reference=spend_reference(flow),
        ttl_seconds=ttl_seconds,
    )


def expire(reference: str) -> None:
    # Time passing, for the test: the ledger itself never rewrites a row.
    SpendEntry.objects.filter(flow_reference=reference).update(expires_at=timezone.now() - timedelta(seconds=1))


def commits_of(reference: str):
    return SpendEntry.objects.filter(kind=SpendKind.COMMIT, flow_reference__startswith=reference)


def test_the_ordering_app_holds_the_reservations_of_flows_placing_that_round(db):
    user = UserFactory(username="holder")
    flow = placing_flow(user, confirmations=2)
    held = spend_reservations_of_placing_flows(
        frozenset({f"flow:{flow.pk}:r2", f"flow:{flow.pk}:r1", "flow:not-a-uuid:r2", "chat-ref", "flow-1"})
    )
    assert held == {f"flow:{flow.pk}:r2"}  # an earlier round's reservation is not held
    assert f"flow:{flow.pk}:r2" in hooks.spend_reservations_held.ask(frozenset({f"flow:{flow.pk}:r2"}))

    OrderFlow.objects.filter(pk=flow.pk).update(status=FlowStatus.REQUIRES_ACTION)
    assert spend_reservations_of_placing_flows(frozenset({f"flow:{flow.pk}:r2"})) == set()


def test_an_expired_reservation_of_a_placing_flow_keeps_counting_and_is_not_swept(db):
    user = UserFactory(username="placer")
    spend_caps_set(user_id=user.pk, caps={"per_day": 6_000})
    flow = placing_flow(user, total=5_000)
    reference = spend_reference(flow)
    reserve_for(flow)
    expire(reference)

    # the caps still count it: another order cannot take its room while the charge may land
    assert spend_used(user_id=user.pk)["per_day"] == 5_000
    with pytest.raises(SpendCapExceeded):
        spend_reserve(user_id=user.pk, amount=2_000, currency="USD", flow_reference="other-flow")
    # and the sweeper leaves it standing
    assert spend_release_expired() == 0
    assert not SpendEntry.objects.filter(kind=SpendKind.RELEASE).exists()

    # once the flow is no longer placing (it failed, say), expiry takes its course
    OrderFlow.objects.filter(pk=flow.pk).update(status=FlowStatus.FAILED)
    assert spend_used(user_id=user.pk)["per_day"] == 0
    assert spend_release_expired() == 1
    assert SpendEntry.objects.get(kind=SpendKind.RELEASE).flow_reference == reference


def test_a_charge_after_its_reservation_was_released_still_counts_once_and_says_so(db):
    user = UserFactory(username="late")
    spend_reserve(user_id=user.pk, amount=4_200, currency="USD", flow_reference="flow-late")
    spend_release(flow_reference="flow-late", reason="expired")
    assert spend_used(user_id=user.pk)["per_day"] == 0

    first = spend_commit(flow_reference="flow-late")
    again = spend_commit(flow_reference="flow-late")

    assert first.pk == again.pk
    assert first.kind == SpendKind.COMMIT and first.amount == 4_200
    assert commits_of("flow-late").count() == 1
    assert spend_used(user_id=user.pk)["per_day"] == 4_200
    late = AuditEvent.objects.filter(action="spend.committed_late")
    assert late.count() == 1
    assert late.get().data["flow_reference"] == "flow-late"
    assert late.get().data["released_because"] == "expired"
    # a compensation releasing it again changes nothing
    assert spend_release(flow_reference="flow-late").kind == SpendKind.RELEASE
    assert spend_used(user_id=user.pk)["per_day"] == 4_200


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_duplicate_commits_racing_after_a_release_count_once():
    user = UserFactory(username="dupe")
    spend_reserve(user_id=user.pk, amount=3_000, currency="USD", flow_reference="flow-dupe")
    spend_release(flow_reference="flow-dupe", reason="expired")

    results, errors = run_concurrently([lambda: spend_commit(flow_reference="flow-dupe") for _ in range(8)])

    assert errors == []
    assert len({entry.pk for entry in results}) == 1
    assert commits_of("flow-dupe").count() == 1
    assert spend_used(user_id=user.pk)["per_day"] == 3_000
    assert AuditEvent.objects.filter(action="spend.committed_late").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_sweeper_racing_completing_flows_never_loses_a_charge():
    user = UserFactory(username="racer")
    spend_caps_set(user_id=user.pk, caps={"per_day": 100_000})
    flows = [placing_flow(user, total=1_000 + index) for index in range(6)]
    for flow in flows:
        reserve_for(flow)
        expire(spend_reference(flow))
    stop = threading.Event()
    sweeps: list[int] = []

    def sweep() -> None:
        while not stop.is_set():
            sweeps.append(spend_release_expired())

    def complete(flow: OrderFlow):
        # what _finish does when the complete step reports the order: the flow locked, then the ledger
        def run():
            with transaction.atomic():
                locked = OrderFlow.objects.select_for_update().get(pk=flow.pk)
                _placed(locked, Placed(order_id=f"ord_{flow.pk.hex[:12]}"))
            return flow.pk

        return run

    sweeper = threading.Thread(target=lambda: (sweep(), connections.close_all()))
    sweeper.start()
    try:
        results, errors = run_concurrently([complete(flow) for flow in flows])
    finally:
        time.sleep(0.2)
        stop.set()
        sweeper.join(timeout=60)

    assert errors == []
    assert len(results) == len(flows)
    for flow in flows:
        reference = spend_reference(flow)
        assert OrderFlow.objects.get(pk=flow.pk).status == FlowStatus.PLACED
        assert commits_of(reference).count() == 1, reference
        # held while placing, so never released, and no late commit was needed
        assert not SpendEntry.objects.filter(kind=SpendKind.RELEASE, flow_reference=reference).exists()
    assert spend_used(user_id=user.pk)["per_day"] == sum(flow.total_amount for flow in flows)
    assert sum(sweeps) == 0
    assert not AuditEvent.objects.filter(action="spend.committed_late").exists()


@pytest.mark.postgres
def test_a_reservation_running_out_during_a_slow_complete_is_not_swept_and_the_order_counts(
    shop,  # noqa: F811
    eager_tasks,
    settings,
):
    # given: the merchant takes 3 s over the complete call
    shop.sandbox.add_fault("slow", operation="complete", times=1, delay_ms=3000)
    flow = shop.start_flow()
    seen: dict[str, object] = {}

    def sweeper_during_the_call() -> None:
        try:
            deadline = time.monotonic() + 60
            while not FlowStep.objects.filter(flow=flow, name="complete_checkout", status="running").exists():
                if time.monotonic() > deadline:
                    seen["error"] = "complete_checkout never ran"
                    return
                time.sleep(0.05)
            time.sleep(0.3)  # the complete request is in flight at the merchant
            reference = f"flow:{flow.pk}:r1"
            expire(reference)  # its reservation runs out while the merchant is charging
            seen["released"] = spend_release_expired()
            seen["used"] = spend_used(user_id=shop.alice.pk)["per_day"]
        except Exception as error:  # reported by the assert below
            seen["error"] = repr(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=sweeper_during_the_call)
    thread.start()
    # when: alice confirms; the eager saga runs every step in this thread
    flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)
    thread.join(timeout=90)

    # then: the sweeper left the placing flow's reservation alone and still counted it
    assert "error" not in seen, seen
    assert seen["released"] == 0
    assert seen["used"] == flow.total_amount
    flow = OrderFlow.objects.get(pk=flow.pk)
    assert flow.status == FlowStatus.PLACED
    reference = f"flow:{flow.pk}:r1"
    assert commits_of(reference).count() == 1
    assert commits_of(reference).get().amount == flow.total_amount
    assert not SpendEntry.objects.filter(kind=SpendKind.RELEASE, flow_reference=reference).exists()
    assert spend_used(user_id=shop.alice.pk)["per_day"] == flow.total_amount
