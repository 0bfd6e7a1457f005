"""A change to "the black one" when the cart has two black lines (held-out set 29): the customer is asked which line,
never one guessed; with one line the change fits, that line."""

from __future__ import annotations

import pytest

from tests.conversations.answers import preview_lines, texts

pytestmark = pytest.mark.usefixtures("eager_tasks")


@pytest.fixture
def shop(fake_shop):
    """The merchant is not the subject here: the in-memory fake merchant, and the test rolls back."""
    return fake_shop


def test_the_black_one_of_two_black_lines_is_asked_about(shop, chat):
    chat.start()
    answer = chat.say("black tech tee M and black running shorts M")
    assert sorted(preview_lines(answer)) == [("var_run_shorts_black_m", 1), ("var_tech_tee_black_m", 1)]

    answer = chat.say("make the black one L")

    assert preview_lines(answer) == []  # nothing changed yet
    assert "Which" in texts(answer) and "Tech Running Tee" in texts(answer)

    answer = chat.say("the tee")
    assert sorted(preview_lines(answer)) == [("var_run_shorts_black_m", 1), ("var_tech_tee_black_l", 1)]


def test_the_one_line_the_change_fits_is_changed(shop, chat):
    chat.start()
    chat.say("blue runners 42 and a blue running cap")

    answer = chat.say("make the blue one 43")

    assert sorted(preview_lines(answer)) == [("var_blue_runner_43", 1), ("var_run_cap_blue", 1)]
