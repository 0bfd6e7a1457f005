"""A size system named once is the customer's for the other bare sizes of the same message (held-out run 54, in
words of our own). "a 9 for me and a 10 for my dad" asks which 9 is meant; "UK" answered it, and the dad's 10 was then
asked about again, though the customer had just said how they count."""

from __future__ import annotations

import pytest

from tests.conversations.answers import preview_lines, texts

pytestmark = pytest.mark.usefixtures("eager_tasks")


@pytest.fixture
def shop(fake_shop):
    """The merchant is not the subject here: the in-memory fake merchant, and the test rolls back."""
    return fake_shop


@pytest.mark.parametrize(
    ("system", "sizes"),
    [("uk sizes", ["43", "44"]), ("US", ["42", "43"])],
)
def test_the_system_named_for_the_first_bare_size_reads_the_second_too(shop, chat, system, sizes):
    chat.start()
    asked = chat.say("grey cloud joggers, a 9 for me and a 10 for my dad")
    assert "Which one" in texts(asked), texts(asked)

    answer = chat.say(system)

    assert sorted(preview_lines(answer)) == [(f"var_cloud_jogger_grey_{size}", 1) for size in sizes], texts(answer)


def test_a_size_picked_by_number_answers_only_that_size(shop, chat):
    chat.start()
    chat.say("grey cloud joggers, a 9 for me and a 10 for my dad")

    answer = chat.say("42")

    # The 10 is still open: a number chosen for one size says nothing of how the other was meant.
    assert "Which one" in texts(answer), texts(answer)
    assert "43 or 44" in texts(answer), texts(answer)
