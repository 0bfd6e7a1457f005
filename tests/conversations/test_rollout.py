"""The rollout in the assistant (#17): the arm recorded on conversations, flows and funnel events; the arm
enforced by the API; the kill switch (new previews and confirmations refused, a placing flow finishes,
nothing new reaches the merchant); the phases' own limits; the phase and arm metric labels."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from prometheus_client import REGISTRY
from rest_framework.test import APIClient

from audit.models import AuditEvent
from catalog_adapters.registry import get_merchant
from config.celery import app as celery_app
from ordering.models import Conversation, ExperimentEvent, FlowStatus, OrderFlow, RolloutSettings
from ordering.rollout.access import PAUSED_TEXT
from ordering.rollout.assignment import assign, rollout_settings_forget
from ordering.rollout.services import kill_switch_set
from ordering.saga import engine
from ordering.services import conversation_decide, flow_confirm
from tests.conversations.conftest import Chat

pytestmark = [pytest.mark.postgres]


@pytest.fixture
def shop(fake_shop):
    """The merchant is not the subject here: the in-memory fake merchant, and the test rolls back."""
    return fake_shop


@pytest.fixture(autouse=True)
def _fresh_rollout_copy():
    # The settings are cached per process: each test reads its own, and leaves none behind for the next.
    rollout_settings_forget()
    yield
    rollout_settings_forget()
    celery_app.control.purge()  # confirmations enqueue placements; no worker runs them here


def _settings(**values) -> RolloutSettings:
    row, _ = RolloutSettings.objects.update_or_create(pk=1, defaults=values)
    rollout_settings_forget()
    return row


def _customer_in(arm: str, phase: int, percent: int = 50):
    """A new customer who is in `arm` for this phase and share (buckets are stable: the first few ids split)."""
    from ordering.rollout.assignment import RolloutState

    state = RolloutState(phase=phase, beta_percent=percent, assistant_percent=percent, kill_switch=False,
                         kill_switch_reason="")  # fmt: skip
    for n in range(40):
        user = get_user_model().objects.create_user(f"rollout{n}", f"rollout{n}@example.com", "x")
        if assign(customer_id=user.pk, state=state).arm == arm:
            return user
    raise AssertionError(f"no customer in the {arm} arm in 40")  # 50 %: never, in practice


def _counter(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_conversation_flow_and_order_record_the_arm_and_the_funnel(shop, chat, settings):
    settings.ORDERING_TURNS_INLINE = True
    started_before = _counter("ordering_flows_started_total", merchant="sandbox", phase="3", arm="assistant")
    placed_before = _counter("ordering_flows_placed_total", merchant="sandbox", phase="3", arm="assistant")
    chat.start()
    conversation = Conversation.objects.get(pk=chat.id)
    assert (conversation.rollout_phase, conversation.rollout_arm) == (3, "assistant")
    answer = chat.say("add the Blue Runner in size 42")
    flow = OrderFlow.objects.get(conversation_id=chat.id)
    assert (flow.rollout_phase, flow.rollout_arm) == (3, "assistant")
    assert answer["pending_confirmation"] is not None

    # the operator moves to phase 2 meanwhile: the flow keeps counting for the arm and phase it started in
    _settings(phase=2, assistant_percent=0)
    conversation_decide(conversation_id=chat.id, customer_id=shop.alice.pk,
                        preview_hash=flow.preview_hash, decision="confirm")  # fmt: skip
    engine.flow_run(flow_id=flow.pk)  # the queue's task, run here (no worker in this test)
    flow.refresh_from_db()
    assert flow.status == FlowStatus.PLACED

    events = list(ExperimentEvent.objects.filter(customer=shop.alice).order_by("id"))
    assert [(e.kind, e.arm, e.phase, e.channel) for e in events] == [
        ("session_started", "assistant", 3, "assistant"),
        ("checkout_started", "assistant", 3, "assistant"),
        ("order_placed", "assistant", 3, "assistant"),
    ]
    assert events[0].conversation_id == conversation.pk and events[1].flow_id == flow.pk
    placed = events[2]
    assert (placed.amount, placed.currency, placed.order_ref) == (flow.total_amount, flow.currency,
                                                                   flow.merchant_order_id)  # fmt: skip
    labels = {"merchant": "sandbox", "phase": "3", "arm": "assistant"}
    assert _counter("ordering_flows_started_total", **labels) == started_before + 1
    assert _counter("ordering_flows_placed_total", **labels) == placed_before + 1


def test_staff_in_an_early_phase_use_the_assistant_but_are_not_in_the_experiment(shop, settings):
    settings.ORDERING_TURNS_INLINE = True
    _settings(phase=1, beta_percent=0)
    staff = get_user_model().objects.create_user("opal", "opal@example.com", "x", is_staff=True)
    client = APIClient()
    client.force_login(staff)
    response = client.post("/api/v1/conversations/", format="json")
    assert response.status_code == 201, response.content
    conversation = Conversation.objects.get(pk=response.json()["id"])
    assert (conversation.rollout_phase, conversation.rollout_arm) == (1, "internal")
    assert not ExperimentEvent.objects.filter(customer=staff).exists()


def test_a_customer_outside_the_assistants_arm_is_refused_with_the_shops_checkout(shop, settings):
    _settings(phase=2, assistant_percent=50)
    control = _customer_in("control", 2)
    client = APIClient()
    client.force_login(control)
    response = client.post("/api/v1/conversations/", format="json")
    assert response.status_code == 403
    body = response.json()
    assert body["error"] == "assistant_not_available"
    assert body["checkout_url"] == "/shop/checkout/"
    assert "/shop/checkout/" in body["message"] and "isn't available" in body["message"]
    assert not Conversation.objects.filter(customer=control).exists()
    # phase 0: every customer (not staff) is refused; phase 3: everyone is served
    _settings(phase=0)
    assert client.post("/api/v1/conversations/", format="json").status_code == 403
    _settings(phase=3)
    assert client.post("/api/v1/conversations/", format="json").status_code == 201


def test_a_conversation_started_in_the_assistants_arm_is_refused_once_the_customer_is_moved_out(shop, chat):
    chat.start()
    _settings(phase=1, beta_percent=0)
    response = chat.client.post(f"/api/v1/conversations/{chat.id}/messages/", {"text": "hi"}, format="json")
    assert response.status_code == 403 and response.json()["error"] == "assistant_not_available"
    assert chat.client.get(f"/api/v1/conversations/{chat.id}/").status_code == 403
    # following an order already under way stays possible
    assert chat.client.get(f"/api/v1/conversations/{chat.id}/events/").status_code == 200


def test_the_kill_switch_refuses_new_confirmations_while_a_placing_flow_finishes(shop, chat, settings):
    settings.ORDERING_TURNS_INLINE = True
    placing = shop.start_flow()
    # confirmed before the switch, and placing: its local steps ran (the queue's task, run here by hand)
    flow_confirm(flow_id=placing.pk, customer_id=shop.alice.pk, preview_hash=placing.preview_hash)
    engine.flow_run(flow_id=placing.pk, max_units=1)
    placing.refresh_from_db()
    assert placing.status == FlowStatus.PLACING and placing.next_step == "verify_price"
    waiting = shop.start_flow()  # previewed, not confirmed yet
    chat.start()
    chat.say("add the Blue Runner in size 42")
    in_chat = OrderFlow.objects.get(conversation_id=chat.id)
    assert in_chat.status == FlowStatus.PREVIEWED

    kill_switch_set(on=True, reason="merchant incident", actor_type="staff", actor_id=None, actor_name="oncall")

    # the button: a clear 409 with the shop's checkout
    response = chat.confirm(in_chat.preview_hash)
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["error"] == "assistant_paused" and body["checkout_url"] == "/shop/checkout/"
    assert body["message"] == PAUSED_TEXT.format(url="/shop/checkout/")
    # a typed yes gets the same friendly text, and nothing is confirmed
    answer = chat.say("yes")
    assert PAUSED_TEXT.format(url="/shop/checkout/") in chat.assistant_texts(answer)
    # a new preview is refused too
    answer = chat.say("checkout")
    assert any("paused" in text for text in chat.assistant_texts(answer))
    with pytest.raises(Exception) as refused:
        flow_confirm(flow_id=waiting.pk, customer_id=shop.alice.pk, preview_hash=waiting.preview_hash)
    assert getattr(refused.value, "code", "") == "assistant_paused"
    # the widget learns it when it opens the conversation
    assert chat.get()["ordering"] == {
        "taking_orders": False,
        "code": "assistant_paused",
        "message": PAUSED_TEXT.format(url="/shop/checkout/"),
        "checkout_url": "/shop/checkout/",
    }

    # the flow confirmed before the switch is placed
    engine.flow_run(flow_id=placing.pk)
    placing.refresh_from_db()
    assert placing.status == FlowStatus.PLACED and placing.merchant_order_id

    # nothing new reached the merchant: the refused flows' sessions are not completed
    for flow in (waiting, in_chat):
        flow.refresh_from_db()
        assert flow.status == FlowStatus.PREVIEWED and flow.confirmations == 0
        session = get_merchant("sandbox").checkout.get(session_id=flow.checkout_session_id)
        assert session.status != "completed"
    assert OrderFlow.objects.filter(status=FlowStatus.PLACED).count() == 1
    assert AuditEvent.objects.filter(action="rollout.kill_switch_on").count() == 1

    # off again: the same preview can be confirmed
    kill_switch_set(on=False, reason="", actor_type="staff", actor_id=None, actor_name="oncall")
    assert chat.confirm(in_chat.preview_hash).status_code == 202


def test_the_kill_switch_reaches_other_processes_within_the_cache_seconds(shop, settings, monkeypatch):
    """Another process' copy (here: this one's, not told) sees the switch once its copy is older than
    ORDERING_ROLLOUT_CACHE_SECONDS."""
    import time
    from types import SimpleNamespace

    from ordering.rollout import assignment

    settings.ORDERING_ROLLOUT_CACHE_SECONDS = 1
    assert assignment.rollout_state().kill_switch is False
    RolloutSettings.objects.update_or_create(pk=1, defaults={"kill_switch": True, "kill_switch_reason": "x"})
    assert assignment.rollout_state().kill_switch is False  # still the copy
    # the copy is 1.1 s older (its age is measured on the monotonic clock, moved here, not slept)
    monkeypatch.setattr(assignment, "time", SimpleNamespace(monotonic=lambda: time.monotonic() + 1.1))
    assert assignment.rollout_state().kill_switch is True


def test_the_beta_phase_limits_what_one_chat_orders(shop, chat, settings):
    settings.ORDERING_TURNS_INLINE = True
    _settings(phase=1, beta_percent=100, beta_session_ceiling=5000)  # $50.00; the Blue Runner costs more
    chat.start()
    answer = chat.say("add the Blue Runner in size 42")
    texts = " ".join(chat.assistant_texts(answer))
    assert "one chat can order up to $50.00 in total" in texts and "/shop/checkout/" in texts
    flow = OrderFlow.objects.get(conversation_id=chat.id)
    assert flow.status == FlowStatus.DRAFT and flow.rollout_phase == 1
    # a higher ceiling: the same cart previews and confirms
    _settings(beta_session_ceiling=100000)
    chat.say("checkout")
    flow.refresh_from_db()
    assert flow.status == FlowStatus.PREVIEWED
    # lowered between preview and confirmation: the confirmation is refused with the reason
    _settings(beta_session_ceiling=5000)
    response = chat.confirm(flow.preview_hash)
    assert response.status_code == 409 and response.json()["error"] == "rollout_limit"


def test_phase_zero_places_orders_with_sandbox_merchants_only(shop, settings):
    _settings(phase=0)
    staff = shop.alice
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    flow = shop.start_flow()
    assert (flow.rollout_phase, flow.rollout_arm) == (0, "internal")
    # the sandbox is a sandbox: confirmed
    flow_confirm(flow_id=flow.pk, customer_id=staff.pk, preview_hash=flow.preview_hash)
    # the same merchant configured as a real one: refused
    other = shop.start_flow()
    settings.MERCHANTS = {**settings.MERCHANTS, "sandbox": {**settings.MERCHANTS["sandbox"], "SANDBOX": False}}
    with pytest.raises(Exception) as refused:
        flow_confirm(flow_id=other.pk, customer_id=staff.pk, preview_hash=other.preview_hash)
    assert getattr(refused.value, "code", "") == "rollout_limit"
    assert "test shops only" in refused.value.message


def test_the_conversation_start_says_whether_the_assistant_takes_orders(chat):
    body = chat.start()
    assert body["ordering"] == {"taking_orders": True, "checkout_url": "/shop/checkout/"}
    assert isinstance(chat, Chat)
