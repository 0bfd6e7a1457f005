"""Hand-over: the agent stops when a person has the conversation, and staff replies reach the customer."""

from __future__ import annotations

import pytest

from escalations.models import Escalation
from ordering.models import AgentDecision, ConversationStatus, FlowStatus, OrderFlow
from ordering.services import conversation_hand_back, conversation_staff_reply

pytestmark = pytest.mark.usefixtures("eager_tasks")


@pytest.fixture
def shop(fake_shop):
    """The merchant is not the subject here: the in-memory fake merchant, and the test rolls back."""
    return fake_shop


def test_asking_for_a_human_hands_over_and_the_agent_stops_until_handed_back(shop, chat, staff):
    chat.start()

    # when alice asks for a person
    answer = chat.say("Can I talk to a human please?")

    # then the conversation is escalated with a customer_request escalation, and she is told
    assert chat.get()["status"] == ConversationStatus.ESCALATED
    assert "specialist" in chat.assistant_texts(answer)[-1]
    assert Escalation.objects.get(conversation_id=chat.id).reason == "customer_request"
    decisions_before = AgentDecision.objects.filter(conversation_id=chat.id, kind="tool").count()

    # when she writes while a specialist has it, the agent does nothing
    quiet = chat.say("Buy the Blue Runner in size 42")
    assert [m["role"] for m in quiet["messages"]] == ["customer"]
    assert AgentDecision.objects.filter(conversation_id=chat.id, kind="tool").count() == decisions_before
    assert not OrderFlow.objects.filter(conversation_id=chat.id).exists()

    # and a staff reply shows up through the events API
    last_id = quiet["messages"][-1]["id"]
    conversation_staff_reply(conversation_id=chat.id, staff_id=staff.pk, text="Hi Alice, Sam here. Size 42?")
    events = chat.events(after=last_id)
    assert [(m["role"], m["text"]) for m in events["messages"]] == [("staff", "Hi Alice, Sam here. Size 42?")]
    assert events["status"] == "escalated"
    assert chat.events(after=events["last_message_id"])["messages"] == []
    # her answer to the specialist gets no word from the agent
    assert [m["role"] for m in chat.say("Yes, 42 please")["messages"]] == ["customer"]

    # when staff hand it back, the agent answers again
    conversation_hand_back(conversation_id=chat.id, staff_id=staff.pk)
    answer = chat.say("Buy the Blue Runner in size 42")
    assert answer["pending_confirmation"] is not None


def test_an_escalated_flow_silences_the_agent(shop, chat):
    # given alice pays with the card that asks for 3-D Secure
    chat.start()
    chat.say("Buy the Blue Runner in size 42, pay with card ending 3220")
    pending = chat.get()["pending_confirmation"]
    assert pending["preview"]["payment"] == {"brand": "mastercard", "last4": "3220"}

    # when she confirms, the saga stops for verification and escalates
    assert chat.confirm(pending["preview_hash"]).status_code == 202
    flow = OrderFlow.objects.get(pk=pending["flow_id"])
    assert flow.status == FlowStatus.REQUIRES_ACTION
    assert chat.get()["status"] == ConversationStatus.ESCALATED
    events = chat.events()
    assert any(f["id"] == str(flow.pk) and f["status"] == "requires_action" for f in events["flows"])

    # then the agent stays silent but says once that a specialist has it
    first = chat.say("hello? buy the Blue Runner in size 43")
    second = chat.say("anyone?")
    assert [m["role"] for m in first["messages"]] == ["customer", "system"]
    assert "specialist" in first["messages"][1]["text"]
    assert [m["role"] for m in second["messages"]] == ["customer"]
    assert OrderFlow.objects.filter(conversation_id=chat.id).count() == 1
