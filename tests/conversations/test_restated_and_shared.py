"""Held-out runs 50-53 through the conversation API on the fake merchant, in words of our own: a removal said of the
wrong line and put right at once ("drop the flask" → "no wait, i meant the headlamp - keep the flask" ordered the
headlamp: the flask stayed out and "I can't find that in your cart" was the answer)."""

from __future__ import annotations

import pytest

from tests.conversations.answers import preview_lines, texts

pytestmark = pytest.mark.usefixtures("eager_tasks")


@pytest.fixture
def shop(fake_shop):
    """The merchant is not the subject here: the in-memory fake merchant, and the test rolls back."""
    return fake_shop


@pytest.mark.parametrize(
    "meant",
    ["sorry, meant the cap, leave the bottle in", "oh no i meant the cap not the bottle", "i meant the cap"],
)
def test_a_removal_of_the_wrong_line_put_right_brings_it_back_and_takes_the_one_meant(shop, chat, meant):
    chat.start()
    chat.say("blue runners 42, a blue steel bottle and a white running cap")
    chat.say("take the bottle out")

    answer = chat.say(meant)

    assert sorted(preview_lines(answer)) == [("var_blue_runner_42", 1), ("var_steel_bottle_blue", 1)], texts(answer)
    assert "back in your cart" in texts(answer)
    assert shop.sandbox.order_records == {}


def test_the_line_meant_after_another_change_is_not_swapped_on_a_guess(shop, chat):
    chat.start()
    chat.say("blue runners 42, a blue steel bottle and a white running cap")
    chat.say("take the bottle out")
    chat.say("and the shoes in 43 please")

    answer = chat.say("i meant the cap not the bottle")

    # the bottle's removal is no longer the cart's last change: it does not come back behind the customer's back
    assert ("var_steel_bottle_blue", 1) not in preview_lines(answer), texts(answer)


def test_each_persons_size_said_to_the_size_question_is_a_line_of_its_own_in_the_colour_said_before(shop, chat):
    chat.start()
    asked = chat.say("blue tech tees for me and my daughter")
    assert "Which size" in texts(asked), texts(asked)

    answer = chat.say("L for me, she's a small")

    assert sorted(preview_lines(answer)) == [("var_tech_tee_blue_l", 1), ("var_tech_tee_blue_s", 1)], texts(answer)


def test_each_persons_colour_and_size_answer_the_colour_question(shop, chat):
    chat.start()
    chat.say("zip hoodies for me and my husband")

    answer = chat.say("grey S for me and navy XL for him")

    assert sorted(preview_lines(answer)) == [("var_zip_hoodie_grey_s", 1), ("var_zip_hoodie_navy_xl", 1)], texts(answer)


def test_counts_per_colour_after_a_price_answer_are_two_lines(shop, chat):
    chat.start()
    chat.say("what do the running caps cost? need three of them")

    answer = chat.say("ok, 1 in blue and 2 in white then")

    assert sorted(preview_lines(answer)) == [("var_run_cap_blue", 1), ("var_run_cap_white", 2)], texts(answer)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("make hers the L and leave mine", [("var_run_shorts_black_l", 1), ("var_run_shorts_black_m", 1)]),
        ("mine should be an S actually", [("var_run_shorts_black_s", 2)]),
        ("she wants blue ones", [("var_run_shorts_black_m", 1), ("var_run_shorts_blue_s", 1)]),
    ],
)
def test_a_change_said_of_a_person_goes_to_that_persons_line(shop, chat, change, expected):
    chat.start()
    chat.say("black running shorts, M for me and S for my sister")

    answer = chat.say(change)

    assert sorted(preview_lines(answer)) == expected, texts(answer)


def test_a_removal_said_of_a_person_takes_out_that_persons_line(shop, chat):
    chat.start()
    chat.say("grey cloud joggers 41 for me and blue 44 for my partner")

    answer = chat.say("drop my partner's, they already have some")

    assert preview_lines(answer) == [("var_cloud_jogger_grey_41", 1)], texts(answer)


def test_a_person_whose_line_was_never_said_is_asked_about(shop, chat):
    chat.start()
    chat.say("two black tech tees, an S and an L")

    asked = chat.say("make his the blue one")

    assert "Which item" in texts(asked), texts(asked)
    assert shop.sandbox.order_records == {}


def test_sizes_said_before_the_thing_are_its_sizes_in_the_next_message(shop, chat):
    chat.start()
    first = chat.say("an L for me and an M for my son please")
    assert shop.sandbox.order_records == {} and "didn't understand" in texts(first), texts(first)

    answer = chat.say("the grey zip hoodies")

    assert sorted(preview_lines(answer)) == [("var_zip_hoodie_grey_l", 1), ("var_zip_hoodie_grey_m", 1)], texts(answer)
