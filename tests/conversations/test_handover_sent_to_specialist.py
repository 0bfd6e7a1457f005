"""A customer's message written while a specialist has the conversation says so in the API (`delivered_to:
"specialist"`): the assistant stays silent on it by design, and the widget shows "Sent to the specialist" under it
(tests/browser/test_handover_widget_status.py) instead of nothing at all."""

from __future__ import annotations

import pytest

from ordering.models import ConversationStatus, Message
from ordering.services import conversation_hand_back

pytestmark = pytest.mark.usefixtures("eager_tasks")


@pytest.fixture
def shop(fake_shop):
    """The merchant is not the subject here: the in-memory fake merchant, and the test rolls back."""
    return fake_shop


def _delivered(messages: list[dict]) -> list[tuple[str, str, str | None]]:
    return [(m["role"], m["text"], m["delivered_to"]) for m in messages]


def test_messages_to_a_specialist_say_so_in_every_answer_and_only_while_the_specialist_has_the_chat(shop, chat, staff):
    chat.start()
    # before the hand-over, and the message that asked for a person, are the assistant's to answer
    asked = chat.say("Can I talk to a human please?")
    assert [m["delivered_to"] for m in asked["messages"]] == [None, None]
    assert chat.get()["status"] == ConversationStatus.ESCALATED

    # when: alice writes while the specialist has the conversation
    quiet = chat.say("hello? is anyone there?")

    # then: the answer is her own message only, marked as sent to the specialist (the turn's url says the same)
    assert _delivered(quiet["messages"]) == [("customer", "hello? is anyone there?", "specialist")]
    assert _delivered(chat.turn(quiet["turn"]["url"])["messages"]) == _delivered(quiet["messages"])
    # and so does the conversation read again (a reload); the messages before it are unmarked
    marked = [(m["text"], m["delivered_to"]) for m in chat.get()["messages"] if m["role"] == "customer"]
    assert marked == [("Can I talk to a human please?", None), ("hello? is anyone there?", "specialist")]
    assert Message.objects.get(conversation_id=chat.id, text="hello? is anyone there?").data == {
        "delivered_to": "specialist"
    }

    # when: the specialist hands it back, her next message is answered by the assistant and unmarked
    conversation_hand_back(conversation_id=chat.id, staff_id=staff.pk)
    answered = chat.say("Buy the Blue Runner in size 42")
    assert answered["messages"][0]["delivered_to"] is None
    assert answered["pending_confirmation"] is not None


def test_the_first_message_after_an_order_escalated_gets_the_note_and_the_mark(shop, chat):
    # given: alice's order stopped for 3-D Secure and a specialist has the conversation (the saga handed it over)
    chat.start()
    chat.say("Buy the Blue Runner in size 42, pay with card ending 3220")
    pending = chat.get()["pending_confirmation"]
    assert chat.confirm(pending["preview_hash"]).status_code == 202
    assert chat.get()["status"] == ConversationStatus.ESCALATED

    first = chat.say("hello?")
    second = chat.say("anyone?")

    # the assistant says once that a specialist has it; both messages are marked as sent to the specialist
    assert [(m["role"], m["delivered_to"]) for m in first["messages"]] == [("customer", "specialist"), ("system", None)]
    assert _delivered(second["messages"]) == [("customer", "anyone?", "specialist")]
