"""Presents for two people in one message, through the conversation API (held-out run 39, in words of our own): "the
same" for the second person is a second of the thing, in their size when one is said, and the second person's size
said afterwards splits the pair. Both were wrong orders: one hoodie in M instead of his L and an M, one pair instead
of two."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.usefixtures("eager_tasks")


@pytest.fixture
def shop(fake_shop):
    return fake_shop


def _lines(answer) -> list[tuple]:
    return sorted(
        (line["title"], line["variant"], line["quantity"])
        for line in answer["pending_confirmation"]["preview"]["lines"]
    )


def test_the_liked_hoodie_for_him_and_the_same_in_m_for_his_son_is_two_lines(shop, chat_bob):
    # bob liked the grey Zip Hoodie in L
    chat_bob.start()

    answer = chat_bob.say("the hoodie i liked for me, and the same in M for my son")

    assert _lines(answer) == [("Zip Hoodie", "grey, L", 1), ("Zip Hoodie", "grey, M", 1)]


def test_the_same_for_her_sister_then_her_size_is_one_pair_each(shop, chat):
    chat.start()

    first = chat.say("navy canvas lows in 42 for my girlfriend, and the same for her sister")
    assert _lines(first) == [("Canvas Low", "navy, 42", 2)]

    answer = chat.say("her sister's a 41 actually")

    assert _lines(answer) == [("Canvas Low", "navy, 41", 1), ("Canvas Low", "navy, 42", 1)]
    placed = chat.say("yes")
    assert placed["pending_confirmation"] is None
    # the order the shop holds is the pair in 42 and the pair in 41
    [order] = shop.sandbox.order_records.values()
    session = shop.sandbox.session_records[order.session_id]
    assert sorted((line.variant_id, line.quantity) for line in session.lines) == [
        ("var_canvas_low_navy_41", 1),
        ("var_canvas_low_navy_42", 1),
    ]
