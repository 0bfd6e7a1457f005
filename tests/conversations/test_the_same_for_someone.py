"""Presents for two people, and one that did not fit, through the conversation API (held-out runs 39 and 40, in words
of our own): "the same" for the second person is a second of the thing, in their size when one is said, and the second
person's size said afterwards splits the pair; a present too small is the size asked for only. Each was a wrong order:
one hoodie in M instead of his L and an M, one pair instead of two, his own pair changed to his wife's size, the size
the present came in ordered beside the one asked for."""

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


def test_the_same_shoes_for_his_wife_in_her_size_keeps_his_own_pair(shop, chat_bob):
    chat_bob.start()
    chat_bob.say("grey cloud joggers 43 for me")

    answer = chat_bob.say("same shoes for my wife, she's a 40")

    # his pair stays; hers is a second line (it changed his to 40, and only hers was ordered)
    assert _lines(answer) == [("Cloud Jogger", "grey, 40", 1), ("Cloud Jogger", "grey, 43", 1)]


def test_a_present_too_small_is_the_size_asked_for_only(shop, chat):
    chat.start()

    answer = chat.say("got a black pullover hoodie for christmas but it's too small, need the XL")

    assert _lines(answer) == [("Pullover Hoodie", "black, XL", 1)]
