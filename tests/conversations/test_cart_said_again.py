"""A customer who misreads the preview and says the whole cart again as a fix (found by chatting in the widget): "2 tech
tees, black L and one blue M" is one of each, and "oops i meant 1 black L and 1 blue M, not 2 black" asked how many of
each were wanted, as if nothing had been said. The preview is shown again as it stands, and the yes after it places
it; when a count said differs from the line's, that line's count changes."""

from __future__ import annotations

import pytest

from tests.conversations.answers import ordered_lines, preview_lines, texts

pytestmark = pytest.mark.usefixtures("eager_tasks")


@pytest.fixture
def shop(fake_shop):
    """The merchant is not the subject here: the in-memory fake merchant, and the test rolls back."""
    return fake_shop


def test_the_cart_said_again_shows_the_same_preview_and_the_yes_places_it(shop, chat):
    chat.start()
    first = chat.say("hey can i get 2 tech tees, black L and one blue M")
    assert preview_lines(first) == [("var_tech_tee_black_l", 1), ("var_tech_tee_blue_m", 1)]

    again = chat.say("oops i meant 1 black L and 1 blue M, not 2 black")

    assert preview_lines(again) == [("var_tech_tee_black_l", 1), ("var_tech_tee_blue_m", 1)], texts(again)
    assert "how many of each" not in texts(again)
    chat.say("yes")
    assert ordered_lines(shop) == [("var_tech_tee_black_l", 1), ("var_tech_tee_blue_m", 1)]


def test_the_cart_said_again_with_one_count_less_changes_that_line(shop, chat):
    chat.start()
    chat.say("2 black tech tees in L and a blue one in M")

    fixed = chat.say("no sorry, 1 black L and 1 blue M")

    assert sorted(preview_lines(fixed)) == [("var_tech_tee_black_l", 1), ("var_tech_tee_blue_m", 1)], texts(fixed)
    chat.say("yes")
    assert ordered_lines(shop) == [("var_tech_tee_black_l", 1), ("var_tech_tee_blue_m", 1)]
