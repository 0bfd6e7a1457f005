"""The reader on what held-out run 33 still missed and on held-out run 34 (late night and early morning on a phone), in
words of our own. Each case was read wrong before: a saved item asked for as a question ("can you find those for me?")
was a question about it, and nothing was put in the cart; "just testing you - ..." before an order made the whole
message a search for "testing"."""

from __future__ import annotations

import pytest

from ordering.agent.commands import AddItems, DialogueContext, ProductQuestion
from ordering.agent.understand import OfflineGenerator
from ordering.evaluation.messages import demo_lexicon
from tests.understanding.reading import lines, read


@pytest.fixture(scope="module")
def generator() -> OfflineGenerator:
    return OfflineGenerator(demo_lexicon())


@pytest.mark.parametrize(
    ("said", "saved"),
    [
        ("I tapped the heart on a hoodie the other day, can you find it for me?", "liked"),
        ("the socks i bought last month, can you pull them up?", "purchased"),
        ("could you find the trail shoes I liked?", "liked"),
    ],
)
def test_a_saved_item_asked_for_as_a_question_is_put_in_the_cart(generator, said, saved):
    [command] = read(generator, said)
    assert isinstance(command, AddItems), command
    assert [item.saved for item in command.items] == [saved]


@pytest.mark.parametrize(
    "said", ["can you find out whether the hoodie i liked comes in L?", "do the socks i bought come in black?"]
)
def test_a_real_question_about_a_saved_item_stays_a_question(generator, said):
    [command] = read(generator, said)
    assert isinstance(command, ProductQuestion), command


@pytest.mark.parametrize("opening", ["just testing you - ", "only testing the bot: ", "ok im just testing, "])
def test_testing_the_assistant_is_no_part_of_the_order(generator, opening):
    commands = read(generator, opening + "a dragon in size 42 and a white cap", DialogueContext())
    [command] = commands
    assert isinstance(command, AddItems)
    assert lines(commands)[-1] == ("prod_run_cap", "white", None, None)
    assert all("test" not in item.query for item in command.items)
