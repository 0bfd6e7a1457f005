"""Conversations on held-out runs 59 and 60's wrong orders (an evening's traffic; several things at once), in words of
our own, through the conversation API on the fake merchant: each change is made to the order before a yes can place
it (every one of these was not understood or half made, and a yes then placed the order as it was)."""

from __future__ import annotations

import pytest

from tests.conversations.answers import preview_lines, texts

pytestmark = pytest.mark.usefixtures("eager_tasks")


@pytest.fixture
def shop(fake_shop):
    """The merchant is not the subject here: the in-memory fake merchant, and the test rolls back."""
    return fake_shop


def test_two_lines_dropped_at_once_both_go(shop, chat):
    chat.start()
    chat.say("a blue running cap, white running socks M and a grey beanie")

    answer = chat.say("lose the cap and the socks")

    assert preview_lines(answer) == [("var_beanie_grey", 1)], texts(answer)


def test_the_same_of_two_packs_for_someone_is_two_more(shop, chat):
    chat.start()
    chat.say("2 packs of black running socks in S please")

    answer = chat.say("and the same for my husband")

    assert preview_lines(answer) == [("var_run_socks_black_s", 4)], texts(answer)


def test_the_same_of_one_each_for_two_people_is_one_more(shop, chat):
    chat.start()
    chat.say("grey zip hoodies in M, one for me and one for my wife")

    answer = chat.say("and the same for my son")

    assert preview_lines(answer) == [("var_zip_hoodie_grey_m", 3)], texts(answer)


def test_what_he_has_already_takes_his_one_out(shop, chat):
    chat.start()
    chat.say("a soft flask and a white running cap")
    chat.say("the same again for my brother")

    answer = chat.say("oh he's got a flask already, just the cap for him")

    assert sorted(preview_lines(answer)) == [("var_run_cap_white", 2), ("var_soft_flask", 1)], texts(answer)


def test_one_of_a_line_of_two_said_as_plenty(shop, chat):
    chat.start()
    chat.say("2 grey beanies and black gloves S")

    answer = chat.say("one beanie is plenty")

    assert sorted(preview_lines(answer)) == [("var_beanie_grey", 1), ("var_gloves_s", 1)], texts(answer)


def test_a_line_dropped_and_another_recoloured_in_one_message(shop, chat):
    chat.start()
    chat.say("green trail blazers 43, a pack of white socks M and a blue cap")

    answer = chat.say("no socks, and the cap's white")

    assert sorted(preview_lines(answer)) == [("var_run_cap_white", 1), ("var_trail_blazer_green_43", 1)], texts(answer)
