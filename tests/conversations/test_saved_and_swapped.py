"""Held-out run 51 (buying for several people at once) through the conversation API on the fake merchant, in words
of our own. Each of these was a wrong order before: a saved item and "a pair in 41 for my son" became the saved item
in 41 alone; "a navy one in S for my boy" beside the hoodie liked lost the liked one; "swap the colours" made both
lines one colour; "his navy, mine back to grey" changed nothing and the yes placed both navy; "two pairs of …, black
44 for me and green 40 for her" ordered two of the first; "add one for my wife then" after a product answer was not
understood and the yes placed the cart without it."""

from __future__ import annotations

import pytest

from tests.conversations.answers import preview_lines, texts

pytestmark = pytest.mark.usefixtures("eager_tasks")


@pytest.fixture
def shop(fake_shop):
    """The merchant is not the subject here: the in-memory fake merchant, and the test rolls back."""
    return fake_shop


def test_the_liked_shoes_and_a_pair_in_another_size_for_someone_are_two_lines(shop, chat):
    # alice liked the Blue Runner in 42
    chat.start()

    answer = chat.say("the runners i liked plus a pair in 43 for my husband")

    assert sorted(preview_lines(answer)) == [("var_blue_runner_42", 1), ("var_blue_runner_43", 1)], texts(answer)


def test_the_liked_hoodie_and_one_in_another_colour_for_a_child_keeps_the_liked_one(shop, chat_bob):
    # bob liked the grey Zip Hoodie in L
    chat_bob.start()

    answer = chat_bob.say("the hoodie i liked, and a navy one in M for my boy")

    assert sorted(preview_lines(answer)) == [("var_zip_hoodie_grey_l", 1), ("var_zip_hoodie_navy_m", 1)], texts(answer)


def test_swapping_the_colours_of_two_peoples_lines_swaps_them(shop, chat):
    chat.start()
    chat.say("zip hoodies: grey M for me and navy S for my niece")

    answer = chat.say("can you swap the colours round, she'd rather have grey")

    assert sorted(preview_lines(answer)) == [("var_zip_hoodie_grey_s", 1), ("var_zip_hoodie_navy_m", 1)], texts(answer)
    assert shop.sandbox.order_records == {}


def test_two_peoples_changes_in_one_message_each_go_to_their_line(shop, chat):
    chat.start()
    chat.say("grey zip hoodies, M for me and L for my husband")
    both = chat.say("make both of them navy")
    assert sorted(preview_lines(both)) == [("var_zip_hoodie_navy_l", 1), ("var_zip_hoodie_navy_m", 1)], texts(both)

    answer = chat.say("hmm no, only his navy, mine back to grey")

    assert sorted(preview_lines(answer)) == [("var_zip_hoodie_grey_m", 1), ("var_zip_hoodie_navy_l", 1)], texts(answer)


def test_a_count_of_the_whole_said_before_each_persons_values_is_one_each(shop, chat):
    chat.start()

    answer = chat.say("can i get two pairs of trail blazers - black 42 for me and green 41 for my daughter")

    assert sorted(preview_lines(answer)) == [
        ("var_trail_blazer_black_42", 1),
        ("var_trail_blazer_green_41", 1),
    ], texts(answer)


def test_one_of_the_product_just_answered_about_added_for_someone(shop, chat):
    chat.start()
    chat.say("a blue yoga mat for me")
    chat.say("have you got foam rollers?")

    answer = chat.say("ok add one for my wife then")

    assert sorted(preview_lines(answer)) == [("var_foam_roller", 1), ("var_yoga_mat_blue", 1)], texts(answer)
