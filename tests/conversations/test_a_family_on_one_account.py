"""A family on one account, through the conversation API (held-out run 42, in words of our own): "just his then" after
a size the shop does not make orders the pair that waited behind the question; a key held down at a preview is no
yes; "scrap that, …" right after the order asks whether to cancel it, and the yes cancels it. The first was an order
lost, the second a charge without a confirmation, the third an order the customer could not undo in words."""

from __future__ import annotations

import pytest

from tests.conversations.answers import preview_lines, texts

pytestmark = pytest.mark.usefixtures("eager_tasks")


@pytest.fixture
def shop(fake_shop):
    return fake_shop


def test_just_his_then_orders_the_pair_that_waited_behind_the_question(shop, chat):
    chat.start()
    asked = chat.say("cloud joggers in blue for both kids, she's a 37 and he's a 42")
    assert preview_lines(asked) == [], texts(asked)  # which size for her: the shop makes no 37

    answer = chat.say("ah. just his then")

    assert preview_lines(answer) == [("var_cloud_jogger_blue_42", 1)], texts(answer)


def test_a_key_held_down_at_a_preview_places_nothing(shop, chat):
    chat.start()
    chat.say("red beanie please")

    answer = chat.say("yyyyyyyyyyyyyyyy")

    assert shop.sandbox.order_records == {}
    assert answer["pending_confirmation"] is not None  # the preview still waits for the customer's own yes


def test_scrap_that_with_why_after_the_order_asks_to_cancel_and_the_yes_cancels(shop, chat):
    chat.start()
    chat.say("white tempo racers 42")
    chat.say("yes")
    [order] = shop.sandbox.order_records.values()

    asked = chat.say("scrap that, my husband says it's too expensive")
    assert "cancel" in texts(asked).lower()
    chat.say("yes")

    assert shop.sandbox.order_records[order.id].status == "canceled"
