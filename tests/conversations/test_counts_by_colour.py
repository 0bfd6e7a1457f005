"""'Only 3 left, how many?' answered with counts by colour (held-out set 30: "Then three blue and three white, please."
ordered three blue caps and lost the white ones)."""

from __future__ import annotations

import pytest

from tests.conversations.answers import preview_lines

pytestmark = pytest.mark.usefixtures("eager_tasks")


@pytest.fixture
def shop(fake_shop):
    """The merchant is not the subject here: the in-memory fake merchant, and the test rolls back."""
    return fake_shop


def test_the_rest_in_another_colour(shop, chat):
    shop.sandbox.set_stock("var_run_cap_blue", 3)
    chat.start()
    chat.say("Six blue Running Caps for my running group, please.")

    answer = chat.say("Then three blue and three white, please.")

    assert sorted(preview_lines(answer)) == [("var_run_cap_blue", 3), ("var_run_cap_white", 3)]
