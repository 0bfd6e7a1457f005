"""Conversations on what held-out runs 60-62 left asked again, in words of our own, through the conversation API on the
fake merchant: a thing the shop does not sell beside one it sells, said with what it is for, is told as not sold and
the rest goes on to a preview (the whole message was "not found"); a yes after naming the preview's lines places it."""

from __future__ import annotations

import pytest

from tests.conversations.answers import preview_lines, texts

pytestmark = pytest.mark.usefixtures("eager_tasks")


@pytest.fixture
def shop(fake_shop):
    """The merchant is not the subject here: the in-memory fake merchant, and the test rolls back."""
    return fake_shop


def test_a_thing_not_sold_with_its_purpose_leaves_the_rest_to_preview(shop, chat):
    chat.start()

    answer = chat.say("a white running cap and a swim cap for the pool")

    assert preview_lines(answer) == [("var_run_cap_white", 1)], texts(answer)
    assert 'couldn\'t find "swim cap"' in texts(answer), texts(answer)


def test_naming_the_previews_lines_then_yes_places_what_was_previewed(shop, chat):
    chat.start()
    chat.say("a purple yoga mat, a skipping rope and a foam roller")

    shown = chat.say("fine, the mat and roller then")

    assert sorted(preview_lines(shown)) == [("var_foam_roller", 1), ("var_yoga_mat_purple", 1)], texts(shown)
    assert shop.sandbox.order_records == {}  # shown again, nothing ordered yet
    chat.say("yes")
    [order] = shop.sandbox.order_records.values()
    assert sorted((line["item"]["id"], line["quantity"]) for line in order.line_items) == [
        ("var_foam_roller", 1),
        ("var_yoga_mat_purple", 1),
    ], order.line_items
