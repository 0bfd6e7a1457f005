"""Conversations on what held-out run 64 found, in words of our own, through the conversation API on the fake merchant:
a fix said with what was wrong ("that's the wrong colour, red", "thats 4, i only need 2", "wrong tee, i wanted the
cotton one") changes the preview's line, and the yes after it places the fixed order. Before, the words about the
mistake made the message unread (or a search whose offer put a second thing beside the wrong one, or a hand-over), and
the customer's yes, then a second one to the preview shown again, placed the order as it was."""

from __future__ import annotations

import pytest

from tests.conversations.answers import ordered_lines, preview_lines, texts

pytestmark = pytest.mark.usefixtures("eager_tasks")


@pytest.fixture
def shop(fake_shop):
    """The merchant is not the subject here: the in-memory fake merchant, and the test rolls back."""
    return fake_shop


def test_the_wrong_colour_fixed_then_yes_places_the_fixed_line(shop, chat):
    chat.start()
    chat.say("a grey wool beanie")

    fixed = chat.say("ugh that's the wrong colour, red")

    assert preview_lines(fixed) == [("var_beanie_red", 1)], texts(fixed)
    chat.say("yes")
    assert ordered_lines(shop) == [("var_beanie_red", 1)]


def test_a_count_said_back_with_the_one_needed_places_that_count(shop, chat):
    chat.start()
    chat.say("4 white running caps")

    fixed = chat.say("thats 4, i only need 2")

    assert preview_lines(fixed) == [("var_run_cap_white", 2)], texts(fixed)
    chat.say("yes")
    assert ordered_lines(shop) == [("var_run_cap_white", 2)]


def test_the_wrong_thing_is_replaced_never_kept_beside_the_one_meant(shop, chat):
    chat.start()
    chat.say("blue tech tee in M")

    fixed = chat.say("wrong tee, i wanted the cotton one - white M")

    assert preview_lines(fixed) == [("var_cotton_tee_white_m", 1)], texts(fixed)
    chat.say("yes")
    assert ordered_lines(shop) == [("var_cotton_tee_white_m", 1)]


def test_a_mistake_said_with_no_fix_changes_nothing_and_places_nothing(shop, chat):
    chat.start()
    chat.say("blue cloud joggers 44")

    answer = chat.say("wrong shoes")

    assert not preview_lines(answer) or preview_lines(answer) == [("var_cloud_jogger_blue_44", 1)], texts(answer)
    assert shop.sandbox.order_records == {}


def test_the_wrong_colour_with_no_fix_is_answered_with_the_colours_and_the_fix_after_it_places(shop, chat):
    chat.start()
    chat.say("a grey wool beanie")

    answer = chat.say("ugh thats the wrong colour")

    assert "specialist" not in texts(answer).lower(), texts(answer)
    assert "red" in texts(answer), texts(answer)
    fixed = chat.say("red")
    assert preview_lines(fixed) == [("var_beanie_red", 1)], texts(fixed)
    chat.say("yes")
    assert ordered_lines(shop) == [("var_beanie_red", 1)]
