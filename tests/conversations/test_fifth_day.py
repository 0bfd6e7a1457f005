"""Held-out set 30 (an evening at home on a laptop), through the conversation API on the fake merchant: a saved
address named by its town, standard chosen after a word about express, and a code tried again."""

from __future__ import annotations

import pytest

from ordering.models import FlowStatus, OrderFlow
from tests.conversations.answers import preview_lines, texts

pytestmark = pytest.mark.usefixtures("eager_tasks")


@pytest.fixture
def shop(fake_shop):
    """The merchant is not the subject here: the in-memory fake merchant, and the test rolls back."""
    return fake_shop


def test_a_saved_address_named_by_its_town(shop, chat):
    chat.start()
    answer = chat.say("Which addresses do you have on file for me?")
    assert "Work (San Francisco)" in texts(answer)

    answer = chat.say("Please send a blue Insulated Steel Bottle to the San Francisco one.")

    assert preview_lines(answer) == [("var_steel_bottle_blue", 1)]
    assert "to Work" in texts(answer)


def test_a_town_with_no_saved_address_is_said_and_nothing_guessed(shop, chat):
    chat.start()

    answer = chat.say("Please send a blue Insulated Steel Bottle to the Boston one.")

    assert 'no saved address called "Boston"' in texts(answer) or "no saved address called" in texts(answer)
    assert "to Work" not in texts(answer)


def test_standard_said_after_a_word_about_express(shop, chat):
    chat.start()
    answer = chat.say("Two black Tech Running Tees in S with express shipping, please.")
    assert "$14.99 shipping" in texts(answer)

    answer = chat.say("Oh, express costs more than I expected. Standard will do.")

    assert "$14.99 shipping" not in texts(answer)
    assert "couldn't find" not in texts(answer)
    chat.say("yes")
    flow = OrderFlow.objects.get(conversation_id=chat.id)
    assert flow.status == FlowStatus.PLACED
