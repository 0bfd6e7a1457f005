"""A customer asks for a person in the chat: the escalation carries the order a person could act on."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from consent.models import SpendEntry
from escalations.models import Escalation
from ordering.models import FlowStatus, OrderFlow
from tests.conversations.conftest import Chat
from tests.escalations.conftest import detail_url, fresh, press

pytestmark = pytest.mark.usefixtures("eager_tasks")


@pytest.fixture
def shop(fake_shop):
    """The merchant is not the subject here: the in-memory fake merchant, and the test rolls back."""
    return fake_shop


@pytest.fixture
def chat(shop) -> Chat:
    # the conversation throttle counts in the shared cache; this test starts with none
    cache.clear()
    client = APIClient()
    client.force_login(shop.alice)
    chat = Chat(client)
    chat.start()
    return chat


def test_a_person_asked_for_while_an_order_waits_for_a_step_up_gets_the_order(chat, settings, sam_client):
    # given: alice confirmed an order that now waits for her authenticator code, its amount reserved on her caps
    settings.ORDERING_RISK_STEP_UP_SCORE = 10  # a first order is enough to ask
    chat.say("Buy the Blue Runner in size 42")
    pending = chat.get()["pending_confirmation"]
    assert chat.confirm(pending["preview_hash"]).status_code == 202
    flow = OrderFlow.objects.get(pk=pending["flow_id"])
    assert (flow.status, flow.waiting_for) == (FlowStatus.REQUIRES_ACTION, "step_up")
    assert SpendEntry.objects.filter(flow_reference=f"flow:{flow.pk}:r1", kind="reserve").exists()

    # when: she asks for a person instead
    chat.say("i want to talk to a person")

    # then: the escalation is about that order, and the console shows it with the way to cancel it
    escalation = Escalation.objects.get(conversation_id=chat.id)
    assert (escalation.reason, escalation.flow_id) == ("customer_request", flow.pk)
    page = sam_client.get(detail_url(escalation)).content.decode()
    assert 'id="esc-order"' in page and "Order: Requires action" in page
    assert "Cancel the order" in page

    # and canceling it releases what it held on her caps
    shown = press(sam_client, escalation, "cancel_flow")
    assert shown[0].startswith("Order canceled;")
    assert fresh(flow).status == FlowStatus.CANCELED
    assert SpendEntry.objects.filter(flow_reference=f"flow:{flow.pk}:r1", kind="release").exists()
    # and she is told in her chat
    last = chat.events()["messages"][-1]
    assert last["role"] == "staff" and last["text"].startswith("I canceled your order of 1x Blue Runner")
    assert "Nothing was charged, and what it held against your spending limits is released." in last["text"]


def test_a_person_asked_for_with_a_cart_gets_the_cart(chat):
    chat.say("Buy the Blue Runner in size 42")
    cart = OrderFlow.objects.get(pk=chat.get()["pending_confirmation"]["flow_id"])

    chat.say("i want to talk to a person")

    assert Escalation.objects.get(conversation_id=chat.id).flow_id == cart.pk


def test_a_person_asked_for_after_the_order_was_placed_gets_no_order_to_act_on(chat):
    # given: alice's order is placed (nothing a person can cancel from the console any more)
    chat.say("Buy the Blue Runner in size 42")
    pending = chat.get()["pending_confirmation"]
    assert chat.confirm(pending["preview_hash"]).status_code == 202
    assert OrderFlow.objects.get(pk=pending["flow_id"]).status == FlowStatus.PLACED

    chat.say("i want to talk to a person")

    escalation = Escalation.objects.get(conversation_id=chat.id)
    assert (escalation.reason, escalation.flow_id) == ("customer_request", None)
