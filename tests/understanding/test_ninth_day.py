"""The reader on what held-out run 33 still missed and on held-out run 34 (late night and early morning on a phone), in
words of our own. Each case was read wrong before: a saved item asked for as a question ("can you find those for me?")
was a question about it, and nothing was put in the cart; "just testing you - ..." before an order made the whole
message a search for "testing"; questions about how the assistant works ("is a real person reading this?", "so nothing
gets ordered until I say yes?", "how do I pay?") were product questions about a stray word or searches."""

from __future__ import annotations

import pytest

from ordering.agent.commands import AddItems, CartLine, DialogueContext, ProductQuestion
from ordering.agent.understand import OfflineGenerator
from ordering.evaluation.messages import demo_lexicon
from tests.understanding.reading import lines, read

AWAITING_BEANIE = DialogueContext(
    cart=(
        CartLine(
            variant_id="var_beanie_grey", product_id="prod_beanie", title="Wool Beanie", colour="grey", size=None,
            quantity=1,
        ),
    ),
    awaiting_confirmation=True,
)  # fmt: skip


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


@pytest.mark.parametrize(
    ("said", "topic"),
    [
        ("r u a real person or is anyone even reading this", "person"),
        ("so nothing is charged till i type yes right?", "confirming"),
        ("what do i press to confirm", "confirming"),
        ("will you buy stuff without asking me?", "confirming"),
        ("what happens after i confirm?", "after_order"),
        ("will i get a receipt by email", "after_order"),
        ("how do i pay on this thing", "paying"),
        ("are my card details secure", "paying"),
        ("do i have to sign up for anything", "account"),
        ("can you remember what size i take in shoes?", "memory"),
        ("is there a customer service number", "phone"),
        ("can i finish this in the morning", "later"),
    ],
)
def test_questions_about_how_the_assistant_works_are_answered_as_such(generator, said, topic):
    [command] = read(generator, said, AWAITING_BEANIE)
    assert (command.kind, getattr(command, "topic", None)) == ("help", topic), command


@pytest.mark.parametrize(
    "said", ["hi, is anyone there?", "is the blue runner safe on wet roads?", "can i pay for 2 beanies"]
)
def test_a_greeting_or_a_product_is_no_question_about_the_assistant(generator, said):
    assert not any(command.kind == "help" and command.topic for command in read(generator, said))
