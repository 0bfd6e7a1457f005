"""Conversations on "the same" said of several lines or of another person's line (held-out run 51, in words of our
own), through the conversation API on the fake merchant: the policy knows whose each line is."""

from __future__ import annotations

import pytest

from tests.conversations.answers import preview_lines, texts

pytestmark = pytest.mark.usefixtures("eager_tasks")


@pytest.fixture
def shop(fake_shop):
    """The merchant is not the subject here: the in-memory fake merchant, and the test rolls back."""
    return fake_shop


def test_the_same_for_my_brother_after_two_things_is_one_more_of_each(shop, chat):
    chat.start()
    chat.say("a white running cap and a grey beanie for me")

    answer = chat.say("and the same for my brother")

    assert sorted(preview_lines(answer)) == [("var_beanie_grey", 2), ("var_run_cap_white", 2)], texts(answer)


def test_only_one_thing_for_her_after_the_same_of_both_drops_her_other_thing(shop, chat):
    chat.start()
    chat.say("black tech tee L and black running socks L for me")
    both = chat.say("and the same for her in S")
    assert sorted(preview_lines(both)) == [
        ("var_run_socks_black_l", 1), ("var_run_socks_black_s", 1), ("var_tech_tee_black_l", 1),
        ("var_tech_tee_black_s", 1),
    ], texts(both)  # fmt: skip

    answer = chat.say("only the tee for her, in S")

    assert sorted(preview_lines(answer)) == [
        ("var_run_socks_black_l", 1), ("var_tech_tee_black_l", 1), ("var_tech_tee_black_s", 1)
    ], texts(answer)  # fmt: skip


def test_hers_made_the_same_size_as_mine_takes_my_lines_size(shop, chat):
    chat.start()
    chat.say("white cotton tee M for me and a black one in S for my sister")

    answer = chat.say("make hers the same size as mine")

    assert sorted(preview_lines(answer)) == [("var_cotton_tee_black_m", 1), ("var_cotton_tee_white_m", 1)], texts(
        answer
    )


def test_the_same_size_as_someone_whose_line_is_not_known_changes_nothing_and_says_so(shop, chat):
    chat.start()
    first = chat.say("white cotton tee M and a black one in S")

    answer = chat.say("make hers the same size as mine")

    # whose is whose was never said: nothing guessed, the preview stands
    assert "haven't changed anything" in texts(answer), texts(answer)
    assert sorted(preview_lines(first)) == [("var_cotton_tee_black_s", 1), ("var_cotton_tee_white_m", 1)]
    assert not preview_lines(answer) or sorted(preview_lines(answer)) == sorted(preview_lines(first))
