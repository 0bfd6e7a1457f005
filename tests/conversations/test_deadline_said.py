"""A date said for the order ("need them before my trip thursday"): the shop promises no date and express is never
chosen for the customer, so the assistant says where the delivery estimate is and how to switch, before the preview, and
a plain yes still places the order as previewed (held-out set 32)."""

from __future__ import annotations

import pytest

from ordering.agent.policy import DEADLINE_TEXT
from ordering.models import AgentDecision, FlowStatus, OrderFlow
from tests.conversations.answers import preview_lines, texts

pytestmark = pytest.mark.usefixtures("eager_tasks")


@pytest.fixture
def shop(fake_shop):
    """The merchant is not the subject here: the in-memory fake merchant, and the test rolls back."""
    return fake_shop


def test_a_date_said_is_pointed_at_the_estimate_and_shipping_is_left_as_is(shop, chat):
    chat.start()

    answer = chat.say("black gloves L, need them before my trip thursday")

    assert DEADLINE_TEXT in texts(answer)
    assert preview_lines(answer) == [("var_gloves_l", 1)]
    assert "$14.99 shipping" not in texts(answer)  # standard, as nothing else was asked
    assert AgentDecision.objects.filter(conversation_id=chat.id, name="deadline_said").exists()

    chat.say("yes")

    assert OrderFlow.objects.get(conversation_id=chat.id).status == FlowStatus.PLACED


def test_express_asked_after_the_note_is_shown_before_the_yes(shop, chat):
    chat.start()
    chat.say("2 white caps, gotta have them by friday")

    answer = chat.say("express please")

    assert "$14.99 shipping" in texts(answer)
    assert DEADLINE_TEXT not in texts(answer)


def test_no_date_no_note(shop, chat):
    chat.start()

    answer = chat.say("black gloves L please")

    assert DEADLINE_TEXT not in texts(answer)
