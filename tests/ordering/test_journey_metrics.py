"""The customer-journey metrics around the saga (issue #17): failures of the catalog, cart and pricing steps in
chat turns, confirm-to-placed latency, first and repeat purchases, and ended sessions (duration, conversion).

Real PostgreSQL, the in-memory fake merchant (the metrics are the subject; its switchboard rule makes the
catalog fail), Prometheus' own registry read back. A shop failing a cart turn over HTTP is in
test_journey_metrics_wire.py, on the sandbox."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client import REGISTRY

from ordering.models import Conversation, FlowStatus, Message, MessageRole, OrderFlow
from ordering.saga import engine
from ordering.services import conversation_start, flow_confirm
from ordering.sessions import sessions_end_idle
from tests.conversations.conftest import chat  # noqa: F401 - the fixture reused as it is

pytestmark = [pytest.mark.postgres]


@pytest.fixture
def shop(fake_shop):
    return fake_shop


def _sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _histogram_count(name: str, **labels) -> float:
    return _sample(f"{name}_count", **labels)


@pytest.mark.usefixtures("eager_tasks")
def test_placed_orders_observe_confirm_to_placed_and_count_first_then_repeat_purchases(shop):
    OrderFlow.objects.filter(customer=shop.alice, status=FlowStatus.PLACED).delete()
    first, repeat = (_sample("ordering_orders_placed_by_history_total", purchase=kind) for kind in ("first", "repeat"))
    latencies = _histogram_count("ordering_confirm_to_placed_seconds")
    seconds = _sample("ordering_confirm_to_placed_seconds_sum")  # this process' other placements included

    for _ in range(2):
        flow = shop.start_flow()
        flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)
        flow.refresh_from_db()
        assert flow.status == FlowStatus.PLACED

    assert _sample("ordering_orders_placed_by_history_total", purchase="first") == first + 1
    assert _sample("ordering_orders_placed_by_history_total", purchase="repeat") == repeat + 1
    assert _histogram_count("ordering_confirm_to_placed_seconds") == latencies + 2
    # the observed seconds are the flow's own confirmed_at -> placed_at, not the wall time of the test
    assert 0 < _sample("ordering_confirm_to_placed_seconds_sum") - seconds < 60


def test_a_catalog_failure_counts_for_the_catalog_step_and_a_good_turn_counts_nothing(shop, chat):  # noqa: F811
    chat.start()
    catalog = _sample("ordering_turn_step_failures_total", step="catalog", error_class="server_error")
    chat.say("show me running shoes")
    assert _sample("ordering_turn_step_failures_total", step="catalog", error_class="server_error") == catalog
    shop.sandbox.add_fault("server_error", operation="search", times=10)
    try:
        chat.say("do you have any rain jackets?")
    finally:
        shop.sandbox.clear_faults()
    assert _sample("ordering_turn_step_failures_total", step="catalog", error_class="server_error") == catalog + 1


def _conversation(user, *, minutes_ago: float, messages_span: float = 0.0, arm: str = "", phase=None) -> Conversation:
    conversation = conversation_start(customer_id=user.pk)
    now = timezone.now()
    start = now - timedelta(minutes=minutes_ago + messages_span)
    for at in (start, now - timedelta(minutes=minutes_ago)):
        message = Message.objects.create(conversation=conversation, role=MessageRole.CUSTOMER, text="hi")
        Message.objects.filter(pk=message.pk).update(created_at=at)
    Conversation.objects.filter(pk=conversation.pk).update(created_at=start, rollout_arm=arm, rollout_phase=phase)
    return conversation


@pytest.mark.django_db(transaction=True)
def test_quiet_conversations_end_once_with_their_duration_and_conversion(shop, settings):
    settings.ORDERING_SESSION_IDLE_SECONDS = 30 * 60
    Conversation.objects.filter(session_ended_at__isnull=True).update(session_ended_at=timezone.now())
    labels_converted = {"converted": "true", "arm": "assistant", "phase": "2"}
    labels_plain = {"converted": "false", "arm": "none", "phase": "none"}
    ended_converted = _sample("ordering_sessions_ended_total", **labels_converted)
    ended_plain = _sample("ordering_sessions_ended_total", **labels_plain)
    duration_sum = _sample("ordering_session_duration_seconds_sum", converted="false")

    # a quiet conversation that placed an order, in the assistant arm of phase 2
    bought = _conversation(shop.alice, minutes_ago=45, messages_span=10, arm="assistant", phase=2)
    flow = shop.start_flow()
    OrderFlow.objects.filter(pk=flow.pk).update(
        conversation=bought, status=FlowStatus.PLACED, merchant_order_id=f"ord_{flow.pk.hex[:12]}"
    )
    # a quiet conversation without an order, from before the rollout; 4 minutes from first to last message
    browsed = _conversation(shop.alice, minutes_ago=31, messages_span=4)
    # still going: its last message is 5 minutes old
    ongoing = _conversation(shop.alice, minutes_ago=5, messages_span=40)

    assert sessions_end_idle() == {"ended": 2, "converted": 1}
    assert _sample("ordering_sessions_ended_total", **labels_converted) == ended_converted + 1
    assert _sample("ordering_sessions_ended_total", **labels_plain) == ended_plain + 1
    assert _sample("ordering_session_duration_seconds_sum", converted="false") == pytest.approx(
        duration_sum + 240, abs=2
    )
    ended = set(Conversation.objects.filter(session_ended_at__isnull=False).values_list("pk", flat=True))
    assert {bought.pk, browsed.pk} <= ended and ongoing.pk not in ended

    # counted once: a second sweep finds nothing more
    assert sessions_end_idle() == {"ended": 0, "converted": 0}
    assert _sample("ordering_sessions_ended_total", **labels_converted) == ended_converted + 1


def test_a_placement_in_another_task_than_its_risk_step_still_counts_a_repeat_purchase(shop):
    # given alice has a placed order, and a new flow whose units run one task each (as after a hand-over), so
    # the task that places it did not count her orders in its risk step
    OrderFlow.objects.filter(customer=shop.alice, status=FlowStatus.PLACED).delete()
    earlier = shop.start_flow()
    flow_confirm(flow_id=earlier.pk, customer_id=shop.alice.pk, preview_hash=earlier.preview_hash)
    while engine.flow_run_next_step(flow_id=earlier.pk) != "skipped":
        pass
    assert OrderFlow.objects.get(pk=earlier.pk).status == FlowStatus.PLACED
    repeat = _sample("ordering_orders_placed_by_history_total", purchase="repeat")
    flow = shop.start_flow()
    flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)

    while engine.flow_run_next_step(flow_id=flow.pk) != "skipped":
        pass

    assert OrderFlow.objects.get(pk=flow.pk).status == FlowStatus.PLACED
    assert _sample("ordering_orders_placed_by_history_total", purchase="repeat") == repeat + 1
