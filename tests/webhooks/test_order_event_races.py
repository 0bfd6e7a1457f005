"""Order webhooks delivered at the same time, on real PostgreSQL with threads: money moves once."""

from __future__ import annotations

import json
import threading

import pytest
from django.db import connections
from django.test import Client

from audit.models import AuditEvent
from catalog_adapters.models import MerchantWebhookEvent
from consent.models import SpendEntry, SpendKind
from consent.selectors import spend_used
from ordering.models import FlowOrderAdjustment, Message
from tests.webhooks.conftest import adjustment, deliver, order_event

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_tasks")]


def in_threads(count: int, work) -> list[int]:
    """Run `work(index)` in `count` threads released together; the HTTP status codes, and no stray errors."""
    barrier = threading.Barrier(count)
    statuses: list[int] = []
    unexpected: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            statuses.append(work(index))
        except BaseException as error:
            unexpected.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert unexpected == []
    return statuses


def test_the_same_cancel_delivered_five_times_at_once_is_stored_once_and_applied_once(merchant_id, place):
    flow = place(total=5000)
    body = json.dumps(
        order_event(
            flow.merchant_order_id, status="canceled", adjustments=(adjustment("adj_c", 5000, type_="cancellation"),)
        )
    ).encode()

    statuses = in_threads(5, lambda _: deliver(Client(), merchant_id, body).status_code)

    assert statuses == [200] * 5
    event = MerchantWebhookEvent.objects.get()
    assert event.deliveries == 5 and event.processed_at is not None
    assert list(SpendEntry.objects.filter(kind=SpendKind.REFUND).values_list("amount", flat=True)) == [5000]
    told = Message.objects.filter(conversation_id=flow.conversation_id, data__kind="order_canceled_by_shop")
    assert told.count() == 1
    assert AuditEvent.objects.filter(action="flow.order_canceled_by_merchant").count() == 1
    assert spend_used(user_id=flow.customer_id, currency="USD")["per_day"] == 0


def test_different_events_racing_with_the_same_and_new_refunds_credit_each_refund_once_and_never_past_the_charge(
    merchant_id, place
):
    # five events of one order, each the full Order as the merchant saw it at some moment: all carry adj_1,
    # and each adds refunds of its own, more in total than the order cost
    flow = place(total=5000)
    bodies = [
        json.dumps(
            order_event(
                flow.merchant_order_id,
                status="completed" if index % 2 else "confirmed",
                adjustments=(adjustment("adj_1", 1000), adjustment(f"adj_own_{index}", 1500)),
            )
        ).encode()
        for index in range(5)
    ]

    statuses = in_threads(5, lambda index: deliver(Client(), merchant_id, bodies[index]).status_code)

    assert statuses == [200] * 5
    assert MerchantWebhookEvent.objects.filter(processed_at__isnull=False).count() == 5
    credited = list(SpendEntry.objects.filter(kind=SpendKind.REFUND).values_list("amount", flat=True))
    assert sum(credited) == 5000  # adj_1 once, then own refunds until the charge is used up
    assert FlowOrderAdjustment.objects.filter(flow=flow, adjustment_id="adj_1").count() == 1
    assert sorted(FlowOrderAdjustment.objects.filter(flow=flow).values_list("adjustment_id", flat=True)) == sorted(
        ["adj_1", *(f"adj_own_{index}" for index in range(5))]
    )
    flow.refresh_from_db()
    assert flow.refunded_amount == 5000
    assert spend_used(user_id=flow.customer_id, currency="USD")["per_day"] == 0
    refund_refs = list(SpendEntry.objects.filter(kind=SpendKind.REFUND).values_list("refund_key", flat=True))
    assert len(refund_refs) == len(set(refund_refs))
