"""Order webhooks applied: a shop's cancel or refund reaches the flow, the customer, the spend caps and the
audit log, once, however the events are repeated, reordered or raced."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from audit.models import AuditEvent
from catalog_adapters.models import MerchantWebhookEvent, WebhookOutcome
from consent.activity import activity_page
from consent.models import SpendEntry, SpendKind
from consent.selectors import spend_used
from ordering.models import FlowOrderAdjustment, FlowStatus, Message, OrderFlow
from tests.support.acp_schema import example
from tests.webhooks.conftest import adjustment, order_event

pytestmark = pytest.mark.django_db


def used(flow: OrderFlow) -> dict[str, int]:
    return spend_used(user_id=flow.customer_id, chat_session_reference=str(flow.conversation_id), currency="USD")


def shop_messages(flow: OrderFlow) -> list[str]:
    return list(
        Message.objects.filter(conversation_id=flow.conversation_id, data__flow_id=str(flow.pk))
        .order_by("id")
        .values_list("text", flat=True)
    )


def refunds(flow: OrderFlow) -> list[int]:
    return list(
        SpendEntry.objects.filter(kind=SpendKind.REFUND, user_id=flow.customer_id)
        .order_by("id")
        .values_list("amount", flat=True)
    )


def orders_status_on_settings_page(flow: OrderFlow) -> str:
    client = Client()
    client.force_login(flow.customer)
    page = client.get("/settings/").content.decode()
    section = re.search(r'<section class="card" id="orders".*?</section>', page, re.S).group(0)
    return " ".join(
        re.sub(r"<[^>]+>", " ", re.search(r'<span class="status[^"]*"[^>]*>.*?</span>', section).group(0)).split()
    )


def test_a_shop_cancel_of_a_placed_order_is_recorded_told_given_back_to_the_caps_and_audited(send, place):
    # given a placed $50.00 order that counts against today's, this month's and this chat's caps
    flow = place(total=5000)
    assert used(flow) == {"per_day": 5000, "per_month": 5000, "per_session": 5000}

    # when the shop cancels it and says so with its full refund
    event = order_event(
        flow.merchant_order_id, status="canceled", adjustments=(adjustment("adj_c1", 5000, type_="cancellation"),)
    )
    response = send(event, request_id="req-cancel")

    # then the flow records the shop's cancel (and stays placed: it was placed and charged)
    assert response.status_code == 200 and response.json() == {"received": True, "request_id": "req-cancel"}
    flow.refresh_from_db()
    assert (flow.status, flow.merchant_order_status, flow.refunded_amount) == (FlowStatus.PLACED, "canceled", 5000)
    # the customer reads it in their conversation, with the amount
    assert shop_messages(flow) == [
        f"The shop canceled your order N-{flow.merchant_order_id}. You get a refund of $50.00 to the card you "
        "paid with. Your spending limits have that amount back."
    ]
    # the caps have the money back, and the ledger says so once
    assert used(flow) == {"per_day": 0, "per_month": 0, "per_session": 0}
    assert refunds(flow) == [5000]
    audit = AuditEvent.objects.get(action="flow.order_canceled_by_merchant", target_id=str(flow.pk))
    assert audit.customer_id == flow.customer_id and audit.data["refunded"] == 5000
    assert audit.data["adjustment_ids"] == ["adj_c1"]
    assert AuditEvent.objects.filter(action="spend.refunded").count() == 1
    stored = MerchantWebhookEvent.objects.get()
    assert stored.processed_at is not None and stored.outcome == WebhookOutcome.APPLIED
    # and their orders page and activity log say what happened
    assert orders_status_on_settings_page(flow) == "Cancelled by the shop; $50.00 refunded"
    entries, _ = activity_page(user_id=flow.customer_id)
    assert entries[0].text == f"The shop cancelled your order {flow.merchant_order_id}; $50.00 refunded"


def test_a_cancel_without_a_money_adjustment_gives_the_whole_charge_back_once(send, place):
    flow = place(total=4200)

    send(order_event(flow.merchant_order_id, total=4200, status="canceled"))
    send(order_event(flow.merchant_order_id, total=4200, status="canceled", event_type="order_create"))

    flow.refresh_from_db()
    assert (flow.merchant_order_status, flow.refunded_amount) == ("canceled", 4200)
    assert refunds(flow) == [4200] and used(flow)["per_day"] == 0
    # the shop reported no refund (ACP records refunds as adjustments): the customer is not told of one
    assert len(shop_messages(flow)) == 1 and "has not said yet that it gave back the $42.00" in shop_messages(flow)[0]


def test_partial_refunds_add_up_are_told_each_time_and_never_pass_the_charge(send, place):
    flow = place(total=5000)

    # a first refund of $20.00
    send(order_event(flow.merchant_order_id, adjustments=(adjustment("adj_1", 2000),), refunded=2000))
    # the next event repeats it (the full Order every time) and adds $15.00
    send(
        order_event(
            flow.merchant_order_id,
            adjustments=(adjustment("adj_1", 2000), adjustment("adj_2", 1500)),
            refunded=3500,
        )
    )
    assert used(flow)["per_day"] == 1500

    # a refund larger than what is left is credited up to the charge only
    send(
        order_event(
            flow.merchant_order_id,
            status="completed",
            adjustments=(adjustment("adj_1", 2000), adjustment("adj_2", 1500), adjustment("adj_3", 4000)),
            refunded=7500,
        )
    )

    flow.refresh_from_db()
    assert flow.refunded_amount == 5000 and flow.merchant_order_status == "completed"
    assert refunds(flow) == [2000, 1500, 1500]
    assert used(flow) == {"per_day": 0, "per_month": 0, "per_session": 0}
    assert shop_messages(flow) == [
        f"The shop refunded $20.00 for your order N-{flow.merchant_order_id}. So far $20.00 of $50.00 has come "
        "back. Your spending limits have that amount back.",
        f"The shop refunded $15.00 for your order N-{flow.merchant_order_id}. So far $35.00 of $50.00 has come "
        "back. Your spending limits have that amount back.",
        f"The shop refunded $15.00 for your order N-{flow.merchant_order_id}. Your spending limits have that "
        "amount back.",
    ]
    assert AuditEvent.objects.filter(action="flow.order_refunded", target_id=str(flow.pk)).count() == 3
    entries, _ = activity_page(user_id=flow.customer_id)
    newest_first = ("$15.00", "$15.00", "$20.00")
    assert [entry.text for entry in entries[:3]] == [
        f"The shop refunded {amount} of your order {flow.merchant_order_id}" for amount in newest_first
    ]
    assert list(FlowOrderAdjustment.objects.filter(flow=flow).values_list("adjustment_id", "amount", "credited")) == [
        ("adj_1", 2000, 2000),
        ("adj_2", 1500, 1500),
        ("adj_3", 4000, 1500),
    ]
    assert orders_status_on_settings_page(flow) == "Refunded ($50.00)"


def test_a_growing_amount_refunded_without_adjustments_counts_as_a_refund_of_the_difference(send, place):
    flow = place(total=5000)

    send(order_event(flow.merchant_order_id, refunded=1000))
    send(order_event(flow.merchant_order_id, refunded=1000))  # the same total again: nothing new
    send(order_event(flow.merchant_order_id, refunded=2500))

    flow.refresh_from_db()
    assert flow.refunded_amount == 2500 and refunds(flow) == [1000, 1500]
    assert used(flow)["per_day"] == 2500
    assert len(shop_messages(flow)) == 2
    assert orders_status_on_settings_page(flow) == "Placed; $25.00 refunded"


def test_pending_and_failed_refunds_move_nothing(send, place):
    flow = place(total=5000)

    send(
        order_event(
            flow.merchant_order_id,
            adjustments=(adjustment("adj_p", 1000, status="pending"), adjustment("adj_f", 1000, status="failed")),
        )
    )

    flow.refresh_from_db()
    assert flow.refunded_amount == 0 and refunds(flow) == [] and shop_messages(flow) == []
    assert used(flow)["per_day"] == 5000


def test_a_duplicate_delivery_is_applied_once(send, place):
    flow = place(total=5000)
    event = order_event(flow.merchant_order_id, adjustments=(adjustment("adj_dup", 3000),), refunded=3000)

    first = send(event)
    second = send(event)

    assert first.status_code == second.status_code == 200
    assert MerchantWebhookEvent.objects.get().deliveries == 2
    assert refunds(flow) == [3000] and len(shop_messages(flow)) == 1
    assert AuditEvent.objects.filter(action="flow.order_refunded").count() == 1
    assert used(flow)["per_day"] == 2000


def test_a_refund_of_last_month_s_order_frees_last_month_s_room_not_today_s(send, place):
    # given an order charged 40 days ago, and one charged today
    old = place(total=5000)
    SpendEntry.objects.filter(user_id=old.customer_id).update(created_at=timezone.now() - timedelta(days=40))
    today = place(total=3000)
    assert spend_used(user_id=old.customer_id, currency="USD")["per_day"] == 3000

    # when the shop refunds the old one in full
    send(order_event(old.merchant_order_id, adjustments=(adjustment("adj_old", 5000),)))

    # then today's and this month's room is what today's order left, not more
    assert spend_used(user_id=old.customer_id, currency="USD")["per_day"] == 3000
    assert spend_used(user_id=old.customer_id, currency="USD")["per_month"] == 3000
    assert used(old)["per_session"] == 0
    assert today.refunded_amount == 0


def test_an_event_for_an_order_we_do_not_know_is_stored_logged_and_harmless(send, place, caplog):
    caplog.set_level(logging.WARNING, logger="ordering.order_events")
    flow = place(total=5000)

    response = send(order_event("ord_not_ours", status="canceled", adjustments=(adjustment("adj_x", 5000),)))

    assert response.status_code == 200
    assert MerchantWebhookEvent.objects.get().outcome == WebhookOutcome.UNKNOWN_ORDER
    assert refunds(flow) == [] and used(flow)["per_day"] == 5000
    assert any(record.message == "merchant.webhook.unknown_order" for record in caplog.records)


def test_the_spec_s_example_event_without_an_order_id_finds_the_order_by_its_checkout_session(send, place):
    # the spec's webhook_order_update_event: no order id, legacy `refunds[]` (not read), status shipped
    flow = place(total=5000, session_id="checkout_session_123")

    send(example("webhook_order_update_event"))

    flow.refresh_from_db()
    assert flow.merchant_order_status == "shipped" and flow.refunded_amount == 0
    assert MerchantWebhookEvent.objects.get().outcome == WebhookOutcome.APPLIED
    assert shop_messages(flow) == []


def test_an_event_for_another_customer_s_order_touches_only_that_order(send, place, django_user_model):
    mine = place(total=5000)
    theirs = place(total=5000, user=django_user_model.objects.create(username="someone-else"))

    send(order_event(theirs.merchant_order_id, status="canceled"))

    mine.refresh_from_db()
    assert mine.merchant_order_status == "" and refunds(mine) == [] and shop_messages(mine) == []
    assert shop_messages(theirs) and refunds(theirs) == [5000]


def test_an_event_that_arrives_before_the_saga_recorded_the_order_waits_for_the_sweeper(send, place):
    from ordering.order_events import PENDING, merchant_order_events_sweep

    flow = place(total=5000, session_id="cs_early")
    OrderFlow.objects.filter(pk=flow.pk).update(status=FlowStatus.PLACING, merchant_order_id="")
    event = order_event("ord_early", status="canceled", checkout_session_id="cs_early")

    send(event)
    stored = MerchantWebhookEvent.objects.get()
    assert stored.processed_at is None  # still waiting

    OrderFlow.objects.filter(pk=flow.pk).update(status=FlowStatus.PLACED, merchant_order_id="ord_early")
    counts = merchant_order_events_sweep(older_than_seconds=0)

    assert counts == {WebhookOutcome.APPLIED: 1} and PENDING not in counts
    flow.refresh_from_db()
    assert flow.merchant_order_status == "canceled" and refunds(flow) == [5000]
