"""Conversations with different things for several people (held-out run 54's two wrong orders, in words of our own),
through the conversation API on the fake merchant: whose each thing is, kept from the first message, lets "not the
shoes for him" take his shoes only; each one's size said after them gives one each in its size."""

from __future__ import annotations

import pytest

from tests.conversations.answers import preview_lines, texts

pytestmark = pytest.mark.usefixtures("eager_tasks")


@pytest.fixture
def shop(fake_shop):
    """The merchant is not the subject here: the in-memory fake merchant, and the test rolls back."""
    return fake_shop


def test_just_the_beanie_for_him_not_the_shoes_takes_his_shoes_only(shop, chat):
    chat.start()
    first = chat.say("court classics 43 for me, and for my nephew the 40s plus a grey beanie")
    assert sorted(preview_lines(first)) == [
        ("var_beanie_grey", 1), ("var_court_classic_40", 1), ("var_court_classic_43", 1)
    ], texts(first)  # fmt: skip

    answer = chat.say("actually just the beanie for him, not the shoes, he has plenty")

    assert sorted(preview_lines(answer)) == [("var_beanie_grey", 1), ("var_court_classic_43", 1)], texts(answer)


def test_one_size_now_and_the_other_asked_gives_one_each(shop, chat):
    chat.start()
    chat.say("zip hoodies for me and my daughter")
    chat.say("navy for both. me XL, her... not sure, ill check with her")

    answer = chat.say("she says S")

    assert sorted(preview_lines(answer)) == [("var_zip_hoodie_navy_s", 1), ("var_zip_hoodie_navy_xl", 1)], texts(answer)
