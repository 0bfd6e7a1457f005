"""Canceling a placed order at the customer's request: once at the shop, whatever is retried or raced."""

from __future__ import annotations

import threading

import pytest
from django.db import connections

from audit.models import AuditEvent
from catalog_adapters.errors import MerchantError
from ordering.errors import FlowNotConfirmable
from ordering.models import FlowStatus, OrderFlow
from ordering.saga import engine
from ordering.services import flow_confirm, flow_order_cancel
from tests.support.merchant_state import cancellations, merchant_order


def _placed(shop) -> OrderFlow:
    flow = shop.start_flow()
    flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)
    for _ in range(20):
        if engine.flow_run_next_step(flow_id=flow.pk) == "skipped":
            break
    flow = OrderFlow.objects.get(pk=flow.pk)
    assert flow.status == FlowStatus.PLACED
    return flow


def test_a_repeated_cancel_is_one_cancel_at_the_shop(shop):
    flow = _placed(shop)

    first = flow_order_cancel(flow_id=flow.pk, customer_id=shop.alice.pk)
    second = flow_order_cancel(flow_id=flow.pk, customer_id=shop.alice.pk)  # a retried request

    assert first == second == "canceled"
    order = merchant_order(flow.merchant_order_id)
    assert order.status == "canceled"
    assert len(cancellations(order)) == 1
    assert AuditEvent.objects.filter(action="flow.order_cancel_requested", target_id=str(flow.pk)).count() == 2


def test_only_the_customers_own_placed_order_can_be_canceled(shop, django_user_model):
    flow = _placed(shop)
    mallory = django_user_model.objects.create(username="mallory")

    with pytest.raises(FlowNotConfirmable):
        flow_order_cancel(flow_id=flow.pk, customer_id=mallory.pk)

    assert merchant_order(flow.merchant_order_id).status == "confirmed"


@pytest.mark.postgres
def test_concurrent_cancels_cancel_once(shop):
    flow = _placed(shop)
    barrier = threading.Barrier(5)
    outcomes: list[str] = []
    unexpected: list[BaseException] = []

    def cancel() -> None:
        try:
            barrier.wait()
            outcomes.append(flow_order_cancel(flow_id=flow.pk, customer_id=shop.alice.pk))
        except MerchantError:
            outcomes.append("refused")  # the shop answered "in progress" or "already canceled": nothing twice
        except BaseException as error:
            unexpected.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=cancel) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert unexpected == []
    assert "canceled" in outcomes
    assert len(cancellations(merchant_order(flow.merchant_order_id))) == 1
