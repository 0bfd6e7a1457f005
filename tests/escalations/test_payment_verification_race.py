"""Races on a 3-D Secure payment, with threads on real PostgreSQL: whatever arrives together, one order."""

from __future__ import annotations

import threading

import pytest
import requests
from django.db import connections

from audit.models import AuditEvent
from escalations.models import PaymentVerification
from escalations.services import (
    EscalationActionRefused,
    escalation_payment_verification_confirm,
    escalation_payment_verification_record,
)
from ordering.models import FlowStatus, OrderFlow
from tests.escalations.conftest import fresh
from tests.ordering.test_payment_verification import answer_the_bank, signed_in
from tests.support.merchant_state import merchant_order_count

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("eager_tasks")]


def together(*calls) -> list[object]:
    """Run the calls in threads released at the same moment; returns each one's result or exception."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index: int, call) -> None:
        try:
            barrier.wait()
            results[index] = call()
        except BaseException as error:  # the test inspects what each thread got
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_concurrent_second_approvals_place_exactly_once(payment_verification_preferred, sam, make_staff):
    # (a challenge the merchant prefers: two specialists' verification can pay it, unlike an issuer's mandate)
    escalation = payment_verification_preferred
    escalation_payment_verification_record(escalation_id=escalation.pk, staff_id=sam.pk, note="Called alice back.")
    colleagues = [make_staff(name) for name in ("kim", "lee", "max", "ned")]

    results = together(
        *(
            lambda staff=staff: escalation_payment_verification_confirm(escalation_id=escalation.pk, staff_id=staff.pk)
            for staff in colleagues
        )
    )

    placed = [result for result in results if isinstance(result, OrderFlow)]
    refused = [result for result in results if isinstance(result, EscalationActionRefused)]
    assert (len(placed), len(refused)) == (1, 3), results
    flow = fresh(escalation.flow)
    assert flow.status == FlowStatus.PLACED
    assert merchant_order_count(session_id=flow.checkout_session_id) == 1
    verification = PaymentVerification.objects.get(flow=flow)
    assert verification.confirmed_by_id in {staff.pk for staff in colleagues}
    assert AuditEvent.objects.filter(action="escalation.payment_verified", target_id=str(escalation.pk)).count() == 1
    assert flow.payment_attempt == 1  # one new payment attempt, not four


def test_the_customers_result_and_a_second_approval_together_place_once(
    payment_verification_preferred, sam, make_staff, shop, live_server
):
    escalation = payment_verification_preferred
    flow = escalation.flow
    escalation_payment_verification_record(escalation_id=escalation.pk, staff_id=sam.pk, note="Called alice back.")
    kim = make_staff("kim")
    alice = signed_in(live_server, "alice")
    back = answer_the_bank(alice, live_server, flow)

    customer, staff = together(
        lambda: alice.get(back, timeout=60),
        lambda: escalation_payment_verification_confirm(escalation_id=escalation.pk, staff_id=kim.pk),
    )

    assert isinstance(customer, requests.Response)
    # exactly one of them paid; the other was told the order no longer waits
    assert (customer.status_code == 200) != isinstance(staff, OrderFlow), (customer.status_code, staff)
    assert customer.status_code in (200, 409)
    flow = fresh(flow)
    assert flow.status == FlowStatus.PLACED and flow.payment_attempt == 1
    assert merchant_order_count(session_id=flow.checkout_session_id) == 1


def test_the_same_result_arriving_twice_at_once_places_once(shop, live_server):
    from tests.ordering.test_payment_verification import waiting_3ds_flow

    flow = waiting_3ds_flow(shop)
    alice = signed_in(live_server, "alice")
    back = answer_the_bank(alice, live_server, flow)
    second_tab = requests.Session()
    second_tab.cookies.update(alice.cookies)

    first, second = together(lambda: alice.get(back, timeout=60), lambda: second_tab.get(back, timeout=60))

    assert sorted([first.status_code, second.status_code]) == [200, 409]
    flow = fresh(flow)
    assert flow.status == FlowStatus.PLACED and flow.payment_attempt == 1
    assert merchant_order_count(session_id=flow.checkout_session_id) == 1
