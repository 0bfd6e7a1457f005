"""Conversations on what held-out run 66 found (an honest sample of a Tuesday's traffic), in words of our own, through
the conversation API on the fake merchant: a yes to a question that offers one choice takes it (the question was asked
again and again), "both" of two things asked about is those two (a thing waiting behind them took the answer too), and
"just mine" to how many is one."""

from __future__ import annotations

import pytest

from tests.conversations.answers import ordered_lines, preview_lines, texts

pytestmark = pytest.mark.usefixtures("eager_tasks")


@pytest.fixture
def shop(fake_shop):
    """The merchant is not the subject here: the in-memory fake merchant, and the test rolls back."""
    return fake_shop


def test_both_of_two_things_asked_about_leaves_the_one_behind_them_alone_and_a_yes_takes_the_one_choice(shop, chat):
    shop.sandbox.set_stock("var_yoga_mat_purple", 0)
    chat.start()
    asked = chat.say("2 purple yoga mats and a foam roller please")
    assert "sold out in purple" in texts(asked)

    answered = chat.say("blue for both then")

    # the two mats are blue; the foam roller (black only) was made blue too and asked about
    assert sorted(preview_lines(answered)) == [("var_foam_roller", 1), ("var_yoga_mat_blue", 2)], texts(answered)
    chat.say("yes")
    assert ordered_lines(shop) == [("var_foam_roller", 1), ("var_yoga_mat_blue", 2)]


def test_a_yes_to_a_question_with_one_choice_takes_it_and_orders_nothing(shop, chat):
    chat.start()
    asked = chat.say("a blue foam roller")
    assert asked["messages"][-1]["kind"] == "question", texts(asked)

    answered = chat.say("yes")

    assert preview_lines(answered) == [("var_foam_roller", 1)], texts(answered)
    assert answered["pending_confirmation"] is not None  # shown, not placed
    assert not shop.sandbox.order_records


def test_just_mine_when_only_one_is_left_is_one(shop, chat):
    shop.sandbox.set_stock("var_headlamp", 1)
    chat.start()
    asked = chat.say("2 headlamps, one for me one for my wife")
    assert "only 1" in texts(asked)

    answered = chat.say("ok just mine then, she can wait")

    assert preview_lines(answered) == [("var_headlamp", 1)], texts(answered)


def test_what_express_would_cost_is_answered_with_the_shops_price_and_chooses_nothing(shop, chat):
    chat.start()
    first = chat.say("blue runner size 42")
    shipping = first["pending_confirmation"]["preview"]["shipping"]

    answer = chat.say("what would express cost on top?")

    # it chose express (and asked about the price of the tees: "top"); the shop's express price is quoted instead
    assert "Express shipping: $14.99" in texts(answer), texts(answer)
    assert answer["pending_confirmation"]["preview"]["shipping"] == shipping
