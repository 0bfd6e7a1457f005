"""One person's share of things bought for several people (held-out set 62's wrong order, in words of our own), through
the conversation API on the fake merchant: "2 kettlebells and 2 foam rollers for me and my brother" keeps whose each
unit is, so "scrap my brother's" takes his one of each line (it asked "which item?" and a yes placed 2 + 2); with a
thing named, only that line's share goes or changes; a person's own lines go together."""

from __future__ import annotations

import pytest

from tests.conversations.answers import ordered_lines, preview_lines, texts

pytestmark = pytest.mark.usefixtures("eager_tasks")


@pytest.fixture
def shop(fake_shop):
    """The merchant is not the subject here: the in-memory fake merchant, and the test rolls back."""
    return fake_shop


def test_scrap_my_brothers_takes_his_one_of_each_line_and_the_yes_orders_mine(shop, chat):
    chat.start()
    first = chat.say("2 kettlebells and 2 foam rollers for me and my brother")
    assert sorted(preview_lines(first)) == [("var_foam_roller", 2), ("var_kettlebell", 2)], texts(first)

    answer = chat.say("scrap my brother's, he's got his own")

    assert sorted(preview_lines(answer)) == [("var_foam_roller", 1), ("var_kettlebell", 1)], texts(answer)
    assert "your brother's" in texts(answer)
    assert shop.sandbox.order_records == {}  # a new preview, waiting for its own yes
    chat.say("yes")
    assert ordered_lines(shop) == [("var_foam_roller", 1), ("var_kettlebell", 1)]


@pytest.mark.parametrize("words", ["drop my brother's kettlebell", "my brother doesn't need one"])
def test_his_share_of_the_one_line_goes_and_mine_stays(shop, chat, words):
    chat.start()
    chat.say("2 kettlebells for me and my brother")

    answer = chat.say(words)

    assert preview_lines(answer) == [("var_kettlebell", 1)], texts(answer)


def test_a_thing_named_takes_only_his_share_of_that_line(shop, chat):
    chat.start()
    chat.say("2 kettlebells and 2 foam rollers for me and my brother")

    answer = chat.say("drop my brother's foam roller")

    assert sorted(preview_lines(answer)) == [("var_foam_roller", 1), ("var_kettlebell", 2)], texts(answer)


def test_mine_out_keeps_my_brothers(shop, chat):
    chat.start()
    chat.say("2 kettlebells and 2 foam rollers for me and my brother")

    answer = chat.say("remove mine")

    assert sorted(preview_lines(answer)) == [("var_foam_roller", 1), ("var_kettlebell", 1)], texts(answer)
    assert "your Kettlebell 12kg and Foam Roller" in texts(answer)


@pytest.mark.parametrize("words", ["take out my sister's", "take my sister's stuff out"])
def test_her_two_lines_go_together_and_mine_stay(shop, chat, words):
    chat.start()
    first = chat.say("black pullover S and a grey beanie for me, red pullover M and a red beanie for my sister")
    assert len(preview_lines(first)) == 4, texts(first)

    answer = chat.say(words)

    assert sorted(preview_lines(answer)) == [("var_beanie_grey", 1), ("var_pullover_hoodie_black_s", 1)], texts(answer)


def test_a_size_for_him_asked_of_two_lines_changes_his_units_only(shop, chat):
    chat.start()
    first = chat.say("2 grey zip hoodies M and 2 blue tech tees M for me and my brother")
    assert sorted(preview_lines(first)) == [("var_tech_tee_blue_m", 2), ("var_zip_hoodie_grey_m", 2)], texts(first)

    asked = chat.say("make my brother's an L")
    assert preview_lines(asked) == [], texts(asked)
    assert "for your brother" in texts(asked)  # which of his, not of the cart's lines
    answer = chat.say("the hoodie")

    assert sorted(preview_lines(answer)) == [
        ("var_tech_tee_blue_m", 2), ("var_zip_hoodie_grey_l", 1), ("var_zip_hoodie_grey_m", 1),
    ], texts(answer)  # fmt: skip


def test_his_hoodie_named_in_another_colour_leaves_mine(shop, chat):
    chat.start()
    chat.say("2 grey zip hoodies M and 2 blue tech tees M for me and my brother")

    answer = chat.say("make my brother's hoodie navy")

    assert sorted(preview_lines(answer)) == [
        ("var_tech_tee_blue_m", 2), ("var_zip_hoodie_grey_m", 1), ("var_zip_hoodie_navy_m", 1),
    ], texts(answer)  # fmt: skip


def test_a_count_the_people_do_not_share_evenly_is_nobodys_share(shop, chat):
    # one foam roller "for me and my brother" is not half each: his share of the kettlebells goes, the roller stays
    chat.start()
    chat.say("2 kettlebells and a foam roller for me and my brother")

    answer = chat.say("scrap my brother's, he's got his own")

    assert sorted(preview_lines(answer)) == [("var_foam_roller", 1), ("var_kettlebell", 1)], texts(answer)
