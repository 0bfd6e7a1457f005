"""The reader on "the same for someone" (held-out run 39, in words of our own): one more of the thing just named, for
another person, with or without a size of their own. Each was a wrong order before: "navy lows in 42 for my
girlfriend, and the same for her sister" ordered one pair ("her sister" was read as "her", and the sister left over),
"the hoodie i liked for me, and the same in M for my son" ordered the liked hoodie in M only, and "navy zip hoodie L
for me and one for my son" one hoodie; then "her sister's a 41 actually" was not understood."""

from __future__ import annotations

import pytest

from ordering.agent.commands import AddItems, CartLine, DialogueContext, SetSlot
from tests.understanding.reading import lines, read

TWO_PAIRS = DialogueContext(
    cart=(
        CartLine(variant_id="var_canvas_low_navy_42", product_id="prod_canvas_low", title="Canvas Low", colour="navy",
                 size="42", quantity=2),
    ),
    awaiting_confirmation=True,
)  # fmt: skip


@pytest.mark.parametrize(
    "said",
    [
        "navy canvas lows in 42 for my girlfriend, and the same for her sister",
        "navy canvas lows in 42 for my girlfriend and another pair for her sister",
        "navy canvas lows in 42 and the same for her sister",
    ],
)
def test_the_same_for_someone_else_is_a_second_of_the_same(generator, said):
    assert lines(read(generator, said)) == [("prod_canvas_low", "navy", "42", 2)]


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("navy zip hoodie L for me and one for my son", ("prod_zip_hoodie", "navy", "L", 2)),
        ("a red beanie and one for my brother", ("prod_beanie", "red", None, 2)),
        ("a blue steel bottle and the same for my dad please", ("prod_steel_bottle", "blue", None, 2)),
    ],
)
def test_one_for_someone_after_a_thing_with_nothing_after_is_one_more(generator, said, expected):
    assert lines(read(generator, said)) == [expected]


def test_a_size_said_for_the_second_person_still_makes_two_lines(generator):
    # the size after the second person is theirs, as before
    assert lines(read(generator, "navy zip hoodie L for me and one for my son in S")) == [
        ("prod_zip_hoodie", "navy", "L", None),
        ("prod_zip_hoodie", "navy", "S", 1),
    ]


@pytest.mark.parametrize(
    "said",
    ["the hoodie i liked for me, and the same in M for my son", "the hoodie i liked, and another in M"],
)
def test_the_same_in_another_size_of_a_liked_thing_is_a_second_line(generator, said):
    [command] = read(generator, said)
    assert isinstance(command, AddItems)
    first, second = command.items
    assert (first.saved, first.size) == ("liked", None)  # the size that was liked
    assert (second.saved, second.size) == ("liked", "M")


@pytest.mark.parametrize(
    "said",
    [
        "Hello, could I order the hoodie I favourited the other day please? Same size but in navy.",
        "the hoodie i liked in M",
    ],
)
def test_a_liked_thing_with_a_change_said_is_still_one_line(generator, said):
    [command] = read(generator, said)
    assert isinstance(command, AddItems)
    assert len(command.items) == 1


@pytest.mark.parametrize("said", ["her sister's a 41 actually", "her sisters a 41", "oh her sister is a 41 not a 42"])
def test_the_size_of_the_person_one_of_two_is_for_splits_the_line(generator, said):
    commands = read(generator, said, TWO_PAIRS)

    assert commands[0] == SetSlot(slot="quantity", value="1", target=commands[0].target, correction=True)
    assert commands[0].target.variant_id == "var_canvas_low_navy_42"
    assert lines(commands[1:]) == [("prod_canvas_low", "navy", "41", 1)]


def test_the_size_of_a_person_with_one_pair_in_the_cart_changes_nothing_by_itself(generator):
    one_pair = DialogueContext(cart=(TWO_PAIRS.cart[0].__class__(**{**TWO_PAIRS.cart[0].__dict__, "quantity": 1}),))
    commands = read(generator, "her sister's a 41 actually", one_pair)
    assert not any(isinstance(command, (AddItems, SetSlot)) for command in commands), commands


@pytest.mark.parametrize(
    "said", ["and the same for my dad but in 45", "same again for my sister but S", "ooh and the same for my daughter"]
)
def test_the_same_for_someone_said_alone_is_still_about_the_cart(generator, said):
    # not a count: "the same for …" at the start of a message stays the generator's (one more of a cart line)
    commands = read(generator, said, TWO_PAIRS)
    assert not any(isinstance(command, AddItems) and command.items[0].query for command in commands), commands
