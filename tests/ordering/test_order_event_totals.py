"""A shop's order events in any order, again, or at once: what came back is the most the shop has said (its completed
refunds, its `amount_refunded` total, a cancel), counted once and given back to the spend caps in step; and the
shop's order status only moves forward (a late `order_create` never takes an order out of canceled)."""

from __future__ import annotations

import itertools
import json

import pytest
from django.test import Client

from audit.models import AuditEvent
from catalog_adapters.models import MerchantWebhookEvent, WebhookOutcome
from ordering.models import FlowOrderAdjustment, Message, OrderFlow
from ordering.order_events import merchant_order_event_apply, merchant_status_advances
from tests.merchant_client.conftest import configure_merchant  # noqa: F401  (a fixture)
from tests.webhooks import conftest as webhook_fixtures
from tests.webhooks.conftest import adjustment, deliver, order_event
from tests.webhooks.test_order_event_races import in_threads
from tests.webhooks.test_order_events import orders_status_on_settings_page, refunds, shop_messages, used

# tests/webhooks' placed orders, merchant and signed deliveries, as they are
consent_settings = webhook_fixtures.consent_settings
customer = webhook_fixtures.customer
merchant_id = webhook_fixtures.merchant_id
place = webhook_fixtures.place
send = webhook_fixtures.send

pytestmark = pytest.mark.django_db

TOTAL = 3779  # the tester's $37.79 order


def merchant_events(order_id: str) -> dict[str, dict]:
    """The tester's three order_update events: a $5.00 refund; the same with `amount_refunded` grown to $8.00
    before any adjustment says why; then the $3.00 refund that explains it, the total still $8.00."""
    first = adjustment("adj_m1", 500)
    second = adjustment("adj_m2", 300)
    return {
        "refund_500": order_event(order_id, total=TOTAL, adjustments=(first,), refunded=500),
        "total_grows_to_800": order_event(order_id, total=TOTAL, adjustments=(first,), refunded=800),
        "refund_300_explains_it": order_event(order_id, total=TOTAL, adjustments=(first, second), refunded=800),
    }


def resent(event: dict) -> bytes:
    """The same event sent again as a new delivery: the merchant serialises it anew (other bytes, so our receiver
    stores it as another event and applies it)."""
    return json.dumps(event, indent=1, sort_keys=True).encode()


def told_refunded(flow: OrderFlow) -> list[int]:
    return list(
        Message.objects.filter(conversation_id=flow.conversation_id, data__flow_id=str(flow.pk))
        .order_by("id")
        .values_list("data__refunded", flat=True)
    )


def assert_eight_dollars_back(flow: OrderFlow) -> None:
    flow.refresh_from_db()
    assert flow.refunded_amount == 800
    assert sum(refunds(flow)) == 800  # the ledger gives back what the order says came back, no more
    assert used(flow) == {"per_day": TOTAL - 800, "per_month": TOTAL - 800, "per_session": TOTAL - 800}
    assert sum(told_refunded(flow)) == 800  # what the customer was told adds up to the shop's truth
    assert orders_status_on_settings_page(flow) == "Placed; $8.00 refunded"
    adjustments = dict(FlowOrderAdjustment.objects.filter(flow=flow).values_list("adjustment_id", "amount"))
    assert adjustments["adj_m1"] == 500 and adjustments["adj_m2"] == 300
    assert sum(FlowOrderAdjustment.objects.filter(flow=flow).values_list("credited", flat=True)) == 800


def test_a_refund_that_explains_an_amount_refunded_already_counted_is_not_counted_again(send, place):
    # given the tester's $37.79 order
    flow = place(total=TOTAL)
    events = merchant_events(flow.merchant_order_id)
    reference = f"N-{flow.merchant_order_id}"

    # when the shop reports a $5.00 refund, then $8.00 refunded in total, then the $3.00 refund behind it
    send(events["refund_500"])
    send(events["total_grows_to_800"])
    send(events["refund_300_explains_it"])

    # then $8.00 came back, told once per dollar: the last event explains, it gives nothing back again
    assert shop_messages(flow) == [
        f"The shop refunded $5.00 for your order {reference}. So far $5.00 of $37.79 has come back. "
        "Your spending limits have that amount back.",
        f"The shop refunded $3.00 for your order {reference}. So far $8.00 of $37.79 has come back. "
        "Your spending limits have that amount back.",
    ]
    assert refunds(flow) == [500, 300]
    outcomes = list(MerchantWebhookEvent.objects.order_by("id").values_list("outcome", flat=True))
    assert outcomes == [WebhookOutcome.APPLIED, WebhookOutcome.APPLIED, WebhookOutcome.APPLIED]
    assert FlowOrderAdjustment.objects.get(flow=flow, adjustment_id="adj_m2").credited == 0
    assert_eight_dollars_back(flow)


@pytest.mark.parametrize("order", list(itertools.permutations(merchant_events("x"))), ids="-then-".join)
def test_the_three_events_in_any_order_and_each_again_give_eight_dollars_back(send, place, merchant_id, order):
    flow = place(total=TOTAL)
    events = merchant_events(flow.merchant_order_id)

    for name in order:
        send(events[name])
    # each event again: the same delivery (stored once), a new delivery of it, and its task run once more
    for name in order:
        assert send(events[name]).status_code == 200
        assert send(resent(events[name])).status_code == 200
    for event_id in MerchantWebhookEvent.objects.values_list("pk", flat=True):
        merchant_order_event_apply(event_id=event_id)

    stored = list(MerchantWebhookEvent.objects.order_by("id").values_list("deliveries", "processed_at", "outcome"))
    assert [deliveries for deliveries, _, _ in stored] == [2, 2, 2, 1, 1, 1]
    assert all(processed_at is not None for _, processed_at, _ in stored)
    assert [outcome for _, _, outcome in stored[3:]] == [WebhookOutcome.NO_CHANGE] * 3  # nothing new in them
    assert_eight_dollars_back(flow)


def test_a_new_refund_beyond_what_was_counted_is_given_back_and_only_the_new_part(send, place):
    flow = place(total=TOTAL)
    events = merchant_events(flow.merchant_order_id)
    send(events["refund_500"])
    send(events["total_grows_to_800"])  # $3.00 unexplained, counted

    # when adjustments arrive for $4.50 (which the $3.00 counted partly explains) and then $2.00 more
    first, second, third = adjustment("adj_m1", 500), adjustment("adj_m2", 450), adjustment("adj_m3", 200)
    send(order_event(flow.merchant_order_id, total=TOTAL, adjustments=(first, second), refunded=950))
    send(order_event(flow.merchant_order_id, total=TOTAL, adjustments=(first, second, third), refunded=1150))

    # then only the new money came back each time: $1.50, then $2.00
    flow.refresh_from_db()
    assert flow.refunded_amount == 1150
    assert refunds(flow) == [500, 300, 150, 200]
    assert used(flow)["per_day"] == TOTAL - 1150
    assert told_refunded(flow) == [500, 300, 150, 200]
    assert orders_status_on_settings_page(flow) == "Placed; $11.50 refunded"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_three_events_and_new_deliveries_of_them_racing_give_eight_dollars_back(merchant_id, place, eager_tasks):
    flow = place(total=TOTAL)
    events = merchant_events(flow.merchant_order_id)
    bodies = [json.dumps(event).encode() for event in events.values()] + [resent(event) for event in events.values()]

    statuses = in_threads(len(bodies), lambda index: deliver(Client(), merchant_id, bodies[index]).status_code)

    assert statuses == [200] * len(bodies)
    assert MerchantWebhookEvent.objects.filter(processed_at__isnull=False).count() == len(bodies)
    assert_eight_dollars_back(flow)


@pytest.mark.parametrize(
    ("current", "new", "moves"),
    [
        ("", "confirmed", True),
        ("created", "confirmed", True),
        ("confirmed", "manual_review", True),  # a hold beside confirmed, not a step back
        ("manual_review", "confirmed", True),
        ("confirmed", "shipped", True),
        ("shipped", "completed", True),
        ("completed", "canceled", True),  # every line returned
        ("shipped", "canceled", True),
        ("confirmed", "on_hold", True),  # a status the spec does not name: taken as news
        ("on_hold", "processing", True),
        ("canceled", "confirmed", False),
        ("canceled", "created", False),
        ("canceled", "completed", False),
        ("canceled", "on_hold", False),
        ("cancelled", "canceled", False),
        ("shipped", "processing", False),
        ("shipped", "confirmed", False),
        ("completed", "shipped", False),
        ("processing", "created", False),
        ("shipped", "shipped", False),
        ("shipped", "", False),
    ],
)
def test_the_shop_s_status_moves_only_forward(current, new, moves):
    assert merchant_status_advances(current=current, new=new) is moves


def test_a_late_order_create_does_not_undo_the_shop_s_cancel(send, place):
    # given an order the shop canceled and refunded, with a signed order_update
    flow = place(total=2719)
    cancel = order_event(
        flow.merchant_order_id,
        total=2719,
        status="canceled",
        adjustments=(adjustment("adj_c", 2719, type_="cancellation"),),
        refunded=2719,
    )
    send(cancel)
    assert orders_status_on_settings_page(flow) == "Cancelled by the shop; $27.19 refunded"

    # when the shop's queued order_create (confirmed) and a stale "created" arrive after it
    created = order_event(flow.merchant_order_id, total=2719, status="confirmed", event_type="order_create")
    send(created)
    send(order_event(flow.merchant_order_id, total=2719, status="created", event_type="order_create"))

    # then the order stays canceled, nothing more is told or given back, and the regressions are on record
    flow.refresh_from_db()
    assert (flow.merchant_order_status, flow.refunded_amount) == ("canceled", 2719)
    assert orders_status_on_settings_page(flow) == "Cancelled by the shop; $27.19 refunded"
    assert len(shop_messages(flow)) == 1 and refunds(flow) == [2719]
    late = MerchantWebhookEvent.objects.filter(event_type="order_create").order_by("id")
    assert list(late.values_list("outcome", flat=True)) == [WebhookOutcome.NO_CHANGE, WebhookOutcome.NO_CHANGE]
    ignored = AuditEvent.objects.filter(action="flow.order_status_regression_ignored", target_id=str(flow.pk))
    assert sorted(event.data["reported_status"] for event in ignored) == ["confirmed", "created"]
    assert {event.data["merchant_status"] for event in ignored} == {"canceled"}


def test_the_order_create_first_and_the_cancel_after_it_end_the_same(send, place):
    flow = place(total=2719)

    send(order_event(flow.merchant_order_id, total=2719, status="confirmed", event_type="order_create"))
    send(
        order_event(
            flow.merchant_order_id,
            total=2719,
            status="canceled",
            adjustments=(adjustment("adj_c", 2719, type_="cancellation"),),
        )
    )

    flow.refresh_from_db()
    assert (flow.merchant_order_status, flow.refunded_amount) == ("canceled", 2719)
    assert orders_status_on_settings_page(flow) == "Cancelled by the shop; $27.19 refunded"
    assert not AuditEvent.objects.filter(action="flow.order_status_regression_ignored").exists()


def test_a_shipped_order_does_not_go_back_to_an_earlier_stage_but_goes_on(send, place):
    flow = place(total=5000)

    send(order_event(flow.merchant_order_id, status="shipped"))
    send(order_event(flow.merchant_order_id, status="processing"))  # late
    send(order_event(flow.merchant_order_id, status="confirmed", event_type="order_create"))  # later still
    flow.refresh_from_db()
    assert flow.merchant_order_status == "shipped"

    send(order_event(flow.merchant_order_id, status="completed"))
    flow.refresh_from_db()
    assert flow.merchant_order_status == "completed"
    assert AuditEvent.objects.filter(action="flow.order_status_regression_ignored").count() == 2


def test_a_stale_event_still_brings_a_refund_it_carries(send, place):
    # the late event is stale in its status, not in its money: a completed refund in it is news
    flow = place(total=5000)
    send(order_event(flow.merchant_order_id, status="shipped"))

    send(order_event(flow.merchant_order_id, status="confirmed", adjustments=(adjustment("adj_late", 1000),)))

    flow.refresh_from_db()
    assert (flow.merchant_order_status, flow.refunded_amount) == ("shipped", 1000)
    assert refunds(flow) == [1000]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_cancel_and_late_order_creates_delivered_at_once_end_canceled(merchant_id, place, eager_tasks):
    flow = place(total=2719)
    cancel = order_event(
        flow.merchant_order_id,
        total=2719,
        status="canceled",
        adjustments=(adjustment("adj_c", 2719, type_="cancellation"),),
    )
    late = [
        order_event(flow.merchant_order_id, total=2719, status=status, event_type="order_create")
        for status in ("created", "confirmed", "processing")
    ]
    bodies = [json.dumps(event).encode() for event in (cancel, *late)]

    statuses = in_threads(len(bodies), lambda index: deliver(Client(), merchant_id, bodies[index]).status_code)

    assert statuses == [200] * len(bodies)
    flow.refresh_from_db()
    assert (flow.merchant_order_status, flow.refunded_amount) == ("canceled", 2719)
    assert refunds(flow) == [2719] and used(flow)["per_day"] == 0
    assert orders_status_on_settings_page(flow) == "Cancelled by the shop; $27.19 refunded"
    told = Message.objects.filter(conversation_id=flow.conversation_id, data__kind="order_canceled_by_shop")
    assert told.count() == 1
