"""Lines two people share, through the conversation API on the fake merchant (held-out run 54, in words of our own).
The shop holds one line per variant, so "blue caps, 2 for me and 1 for my husband" is one line of three; a change or a
removal said of one person changed or removed the whole line ("my husband wants white" made all three white). Now that
person's units leave the line and come back as their own line with the change, and the rest stays as it was."""

from __future__ import annotations

import pytest

from tests.conversations.answers import preview_lines, texts

pytestmark = pytest.mark.usefixtures("eager_tasks")


@pytest.fixture
def shop(fake_shop):
    """The merchant is not the subject here: the in-memory fake merchant, and the test rolls back."""
    return fake_shop


def test_each_persons_count_is_ordered_and_one_persons_change_is_theirs_alone(shop, chat):
    chat.start()
    first = chat.say("blue caps, 2 for me and 1 for my husband")
    assert preview_lines(first) == [("var_run_cap_blue", 3)], texts(first)

    answer = chat.say("actually my husband wants white")

    assert sorted(preview_lines(answer)) == [("var_run_cap_blue", 2), ("var_run_cap_white", 1)], texts(answer)
    assert shop.sandbox.order_records == {}


def test_one_of_three_people_changing_theirs_leaves_the_others_as_they_were(shop, chat):
    chat.start()
    chat.say("wool beanies - grey for me, red for my gran and red for my aunt")

    answer = chat.say("make my aunt's grey")

    assert sorted(preview_lines(answer)) == [("var_beanie_grey", 2), ("var_beanie_red", 1)], texts(answer)


def test_one_of_three_people_dropping_theirs_takes_only_theirs_out(shop, chat):
    chat.start()
    chat.say("wool beanies - grey for me, red for my gran and red for my aunt")

    answer = chat.say("my gran doesn't want one after all")

    assert sorted(preview_lines(answer)) == [("var_beanie_grey", 1), ("var_beanie_red", 1)], texts(answer)


def test_the_same_again_for_someone_then_their_size_is_a_pair_each(shop, chat):
    chat.start()
    chat.say("grey cloud joggers 42 for me")
    again = chat.say("same again for my bro")
    assert preview_lines(again) == [("var_cloud_jogger_grey_42", 2)], texts(again)

    answer = chat.say("he's a 44 mind")

    assert sorted(preview_lines(answer)) == [("var_cloud_jogger_grey_42", 1), ("var_cloud_jogger_grey_44", 1)], texts(
        answer
    )


def test_sizes_said_as_who_is_what_in_us_sizes_are_a_pair_each(shop, chat):
    chat.start()

    answer = chat.say("court classics - im a US 8 and my wife's a US 7")

    assert sorted(preview_lines(answer)) == [("var_court_classic_40", 1), ("var_court_classic_41", 1)], texts(answer)


def test_the_other_ones_fine_and_a_change_of_hers_changes_hers_only(shop, chat):
    chat.start()
    chat.say("tech tees - black L for me and blue M for my wife")

    answer = chat.say("mine's fine, change hers to orange")

    assert sorted(preview_lines(answer)) == [("var_tech_tee_black_l", 1), ("var_tech_tee_orange_m", 1)], texts(answer)


def test_the_kids_one_a_size_smaller_is_the_size_below_theirs(shop, chat):
    chat.start()
    chat.say("grey zip hoodies, L for me and M for my son")

    answer = chat.say("make the kid's one smaller, he's a skinny thing")

    assert sorted(preview_lines(answer)) == [("var_zip_hoodie_grey_l", 1), ("var_zip_hoodie_grey_s", 1)], texts(answer)


def test_a_size_bigger_than_the_largest_is_said_and_nothing_changes(shop, chat):
    chat.start()
    chat.say("grey zip hoodies, XL for me and M for my son")

    answer = chat.say("make mine a size bigger")

    assert "doesn't come a size bigger than XL" in texts(answer), texts(answer)
    assert shop.sandbox.order_records == {}


def test_one_each_for_two_people_with_one_left_asks_once_how_many(shop, chat):
    # the same thing for two people is one item of two at the shop: its stock is asked about once ("only 1 left")
    shop.sandbox.set_stock("var_headlamp", 1)
    chat.start()
    asked = chat.say("2 headlamps, one for me and one for my sister")
    assert "only 1" in texts(asked), texts(asked)

    answer = chat.say("just the one then")

    assert preview_lines(answer) == [("var_headlamp", 1)], texts(answer)


def test_swapping_ones_own_thing_for_another_product_replaces_theirs(shop, chat):
    chat.start()
    chat.say("blue day pack for my son and a black one for me")

    answer = chat.say("swap mine for a duffel, the grey one")

    assert sorted(preview_lines(answer)) == [("var_day_pack_blue", 1), ("var_gym_duffel_grey", 1)], texts(answer)


def test_a_count_said_for_the_other_person_of_a_shared_line_is_their_share(shop, chat):
    chat.start()
    first = chat.say("soft flasks, 2 for me 1 for my running buddy")
    assert preview_lines(first) == [("var_soft_flask", 3)], texts(first)

    answer = chat.say("make it 2 for him as well")

    assert preview_lines(answer) == [("var_soft_flask", 4)], texts(answer)


@pytest.mark.parametrize("answer", ["the boy's", "my son's one"])
def test_a_person_named_as_the_answer_to_which_item_is_their_line(shop, chat, answer):
    chat.start()
    chat.say("merino socks, L for my dad and S for my son")
    asked = chat.say("make his a medium")
    assert "Which item" in texts(asked), texts(asked)

    answered = chat.say(answer)

    assert sorted(preview_lines(answered)) == [("var_wool_socks_l", 1), ("var_wool_socks_m", 1)], texts(answered)
