"""The planner's interface: schema-checked tool calls recorded with their rationale, bounded state, and
no tool that can place an order."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from audit.models import AuditEvent
from ordering.agent.tools import TOOLS, ToolCall
from ordering.agent.turn import Turn
from ordering.models import AgentDecision, ConversationTurn, FlowStatus, MessageRole, OrderFlow, TurnStatus
from ordering.services import conversation_open, conversation_post

EXPECTED_TOOLS = {
    "search_products",
    "show_product",
    "list_saved_items",
    "answer_product_question",
    "sync_cart",
    "cancel_placed_order",
    "add_to_cart",
    "update_cart_line",
    "remove_from_cart",
    "list_my_promotions",
    "apply_promo",
    "choose_shipping",
    "choose_address",
    "choose_payment_method",
    "preview_order",
    "order_status",
    "cancel_order",
    "hand_over",
}


@pytest.fixture
def shop(fake_shop):
    """The merchant is not the subject here: the in-memory fake merchant, and the test rolls back."""
    return fake_shop


@pytest.fixture
def customer(db):
    return get_user_model().objects.create_user(username="carol", password="x")


def test_the_tool_registry_is_the_issue_list_and_nothing_places_an_order():
    assert set(TOOLS) == EXPECTED_TOOLS
    for name, spec in TOOLS.items():
        assert spec.name == name
        assert spec.parameters["type"] == "object" and spec.parameters["additionalProperties"] is False
        assert not any(word in name for word in ("confirm", "place", "complete", "checkout")) or (
            name == "cancel_placed_order"  # cancels at the shop after the customer's yes; it orders nothing
        )


def test_invalid_arguments_are_refused_without_running_the_tool_and_recorded(customer):
    conversation = conversation_open(customer_id=customer.pk)
    turn = Turn(conversation=conversation, record=None, customer_text="buy a lot")

    result = turn.call_tool(
        ToolCall(name="add_to_cart", arguments={"product_id": "prod_blue_runner", "variant_id": "v", "quantity": 500},
                 rationale='"a lot" read as a quantity')
    )  # fmt: skip

    assert result.ok is False
    assert "quantity" in result.error and "Invalid arguments" in result.error
    assert turn.state["cart"] == []
    assert not OrderFlow.objects.filter(conversation=conversation).exists()
    # decisions are written at the turn's next safe point (a message, the end of the turn)
    turn.decisions_flush()
    decision = AgentDecision.objects.get(conversation=conversation)
    assert (decision.name, decision.ok, decision.rationale) == ("add_to_cart", False, '"a lot" read as a quantity')
    event = AuditEvent.objects.get(action="agent.tool_called", customer_id=customer.pk)
    assert event.data["rationale"] == '"a lot" read as a quantity' and event.outcome == "failed"

    unknown = turn.call_tool(ToolCall(name="place_order", arguments={}))
    assert unknown.ok is False and "no tool" in unknown.error
    extra = turn.call_tool(ToolCall(name="preview_order", arguments={"confirm": True}))
    assert extra.ok is False and "Invalid arguments" in extra.error


def test_the_state_and_recent_messages_stay_small(customer):
    from ordering.agent.pipeline import dialogue_context

    conversation = conversation_open(customer_id=customer.pk)
    for index in range(40):
        conversation_post(conversation_id=conversation.pk, role=MessageRole.CUSTOMER, text=f"message {index}")
    turn = Turn(conversation=conversation, record=None, customer_text="hi")
    turn.state["cart"] = [
        {"variant_id": f"v{i}", "product_id": "p", "title": "T", "variant": "", "quantity": 1, "currency": "usd"}
        for i in range(50)
    ]
    turn.save_state()

    context = dialogue_context(turn)
    recent = turn.recent_messages(5)

    assert len(context.cart) == 20 and len(conversation.agent_state["cart"]) == 20
    assert [m["text"] for m in recent] == [f"message {i}" for i in range(35, 40)]
    assert recent[-1] == {"role": "customer", "text": "message 39"}
    turn.ask("Which size?", pending={"slot": "size", "options": [{"value": "42", "label": "42"}]})
    assert dialogue_context(turn).pending.slot == "size"
    assert turn.state["pending"]["question"] == "Which size?"
    assert [m.text for m in turn.messages_said()] == ["Which size?"]


def test_a_post_while_another_turn_runs_is_a_409(customer):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_login(customer)
    conversation = conversation_open(customer_id=customer.pk)
    ConversationTurn.objects.create(conversation=conversation, status=TurnStatus.RUNNING)

    response = client.post(f"/api/v1/conversations/{conversation.pk}/messages/", {"text": "hi"}, format="json")

    assert response.status_code == 409
    assert response.json()["error"] == "turn_in_progress"
    assert not conversation.messages.filter(role=MessageRole.CUSTOMER).exists()


def test_staff_read_the_decisions_in_the_admin(shop, chat, otp_login):
    chat.start()
    chat.say("Buy the Blue Runner in size 42")
    staff = get_user_model().objects.create_superuser(username="root", password="x", email="r@example.com")
    client = otp_login(staff)

    page = client.get(f"/admin/ordering/conversation/{chat.id}/change/")

    assert page.status_code == 200
    content = page.content.decode()
    assert "agent decisions" in content.lower() and "add_to_cart" in content and "Blue Runner" in content
    flow = OrderFlow.objects.get(conversation_id=chat.id)
    assert flow.status == FlowStatus.PREVIEWED
    assert client.get(f"/admin/ordering/orderflow/{flow.pk}/change/").status_code == 200
    # read-only: no add, no delete
    assert client.get("/admin/ordering/conversation/add/").status_code == 403
