"""What the chat says of an order after the shop's order webhooks: canceled by the shop, refunded, as the settings
page says it, and no delivery days for an order that is not coming. The shop's own API still answers `confirmed`
for it (its queued state, or a webhook ahead of its API): the chat goes by the latest the shop has told us."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.test import Client

from ordering.models import FlowStatus, OrderFlow
from tests.webhooks.conftest import adjustment, deliver, order_event, sign
from tests.webhooks.test_order_events import orders_status_on_settings_page

pytestmark = pytest.mark.usefixtures("eager_tasks")


@pytest.fixture
def shop(fake_shop):
    """The merchant's API is not the subject: the in-memory fake merchant, and the test rolls back."""
    return fake_shop


def placed_order(chat) -> OrderFlow:
    chat.start()
    chat.say("buy the blue runner in size 42")
    chat.say("yes")
    flow = OrderFlow.objects.get(conversation_id=chat.id)
    assert flow.status == FlowStatus.PLACED
    return flow


def shop_sends(flow: OrderFlow, **order) -> None:
    """The shop's signed order webhook for the order, into our receiver (applied once it commits)."""
    event = order_event(
        flow.merchant_order_id, total=flow.total_amount, checkout_session_id=flow.checkout_session_id, **order
    )
    raw = json.dumps(event).encode()
    signature = sign(raw, secret=settings.MERCHANTS["sandbox"]["WEBHOOK_SECRET"])
    assert deliver(Client(), "sandbox", raw, signature=signature).status_code == 200


def answer(chat, text: str) -> str:
    return " ".join(chat.assistant_texts(chat.say(text)))


def test_an_order_the_shop_canceled_reads_canceled_and_refunded_in_the_chat_and_no_delivery_days(shop, chat):
    # given a placed order the chat says is on its way
    flow = placed_order(chat)
    before = answer(chat, "where is my order?")
    assert "is placed" in before and "The shop expects it" in before
    money = f"${flow.total_amount / 100:.2f}"

    # when the shop cancels it and refunds it in full (its API still answers `confirmed`), then its queued
    # order_create arrives late
    shop_sends(flow, status="canceled", adjustments=(adjustment("adj_c", flow.total_amount, type_="cancellation"),))
    shop_sends(flow, status="confirmed", event_type="order_create")
    assert shop.sandbox.orders.get(order_id=flow.merchant_order_id).status == "confirmed"

    # then every answer about it says what the shop did, as the settings page does
    orders = answer(chat, "show my orders")
    where = answer(chat, "where is my order?")
    for said in (orders, where):
        assert f"was canceled by the shop and {money} was refunded" in said, said
        assert "is placed" not in said
        assert flow.merchant_order_id in said
    assert "The shop expects it" not in where and "expects" not in orders
    assert "It was paid with Visa •••• 4242." in where and "goes to" not in where
    assert orders_status_on_settings_page(flow) == f"Cancelled by the shop; {money} refunded"
    # and a cancel of it is not offered again
    assert "already canceled at the shop" in answer(chat, "cancel my last order")


def test_a_partly_refunded_order_reads_placed_with_the_refund_still_on_its_way(shop, chat):
    flow = placed_order(chat)

    shop_sends(flow, adjustments=(adjustment("adj_r", 500),), refunded=500)

    where = answer(chat, "where is my order?")
    assert "is placed and the shop refunded $5.00 of it" in where
    assert "The shop expects it" in where  # still coming
    assert orders_status_on_settings_page(flow) == "Placed; $5.00 refunded"


def test_an_order_refunded_in_full_but_not_canceled_reads_refunded(shop, chat):
    flow = placed_order(chat)
    money = f"${flow.total_amount / 100:.2f}"

    shop_sends(flow, adjustments=(adjustment("adj_r", flow.total_amount),), refunded=flow.total_amount)

    assert f"was refunded in full by the shop ({money})" in answer(chat, "show my orders")
    assert orders_status_on_settings_page(flow) == f"Refunded ({money})"


def test_a_delivered_order_has_no_delivery_days_and_says_the_shop_s_word(shop, chat):
    flow = placed_order(chat)

    shop_sends(flow, status="completed")
    shop_sends(flow, status="shipped")  # late: it does not take the order back

    where = answer(chat, "where is my order?")
    assert "is placed" in where and "the shop says it is completed" in where
    assert "The shop expects it" not in where
