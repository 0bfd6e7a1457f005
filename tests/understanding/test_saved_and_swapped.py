"""The reader on held-out run 51 (buying for several people at once), in words of our own: a saved item and "a pair
in 41 for my son" was the saved item in 41 alone; "plus the same one in M for my brother" after the hoodie liked was a
past purchase in M; "swap the colours" set one colour on both lines; "his navy, mine grey" was one colour for both;
"she wants grey, same as mine" changed my line; "two pairs of …, black 44 for me and green 40 for her" was two of the
first; "add one for my wife then" after a product answer was not understood."""

from __future__ import annotations

import pytest

from ordering.agent.commands import AddItems, CartLine, DialogueContext, Option, SetSlot
from tests.understanding.reading import read


def _line(variant: str, product: str, colour: str | None = None, size: str | None = None) -> CartLine:
    return CartLine(variant_id=variant, product_id=product, title=product, colour=colour, size=size, quantity=1)


def _cart(*lines: CartLine) -> DialogueContext:
    return DialogueContext(cart=lines, awaiting_confirmation=True)


TWO_HOODIES = _cart(
    _line("var_zip_hoodie_grey_m", "prod_zip_hoodie", "grey", "M"),
    _line("var_zip_hoodie_navy_s", "prod_zip_hoodie", "navy", "S"),
)


@pytest.mark.parametrize(
    ("said", "saved", "size", "person"),
    [
        ("the runners i liked plus a pair in 43 for my husband", "liked", "43", "husband"),
        ("same shoes as my last order, and a pair in 40 for my girl", "purchased", "40", "girl"),
        ("the hoodie i liked and one in M for my brother", "liked", "M", "brother"),
        ("the hoodie i liked, plus the same one in S for my nephew", "liked", "S", "nephew"),
    ],
)
def test_a_saved_thing_and_another_of_it_for_someone_are_two_items(generator, said, saved, size, person):
    [add] = read(generator, said)

    assert isinstance(add, AddItems)
    first, second = add.items
    assert (first.saved, first.size, first.person) == (saved, None, None)
    assert (second.saved, second.size, second.person) == (saved, size, person)


def test_a_saved_thing_described_without_and_stays_one_item(generator):
    [add] = read(generator, "the hoodie i liked, a navy one in S")

    assert isinstance(add, AddItems)
    assert [(item.saved, item.colour, item.size) for item in add.items] == [("liked", "navy", "S")]


def test_a_count_of_the_whole_before_each_persons_values_is_one_each(generator):
    [add] = read(generator, "can i get two pairs of trail blazers - black 42 for me and green 41 for my daughter")

    assert isinstance(add, AddItems)
    assert [(item.colour, item.size, item.quantity, item.person) for item in add.items] == [
        ("black", "42", None, "me"),
        ("green", "41", None, "daughter"),
    ]


def test_a_count_said_of_one_persons_things_stays_theirs(generator):
    [add] = read(generator, "tech tees for my two sons in blue, and an orange one for me in M")

    assert isinstance(add, AddItems)
    assert [(item.colour, item.quantity) for item in add.items] == [("blue", 2), ("orange", None)]


@pytest.mark.parametrize(
    "said", ["swap the colours", "can you switch the colours round, she'd rather have grey", "ok flip the colours pls"]
)
def test_swapping_the_colours_of_two_lines_of_one_thing_gives_each_the_others(generator, said):
    commands = read(generator, said, TWO_HOODIES)

    assert [(command.slot, command.value, command.target.variant_id) for command in commands] == [
        ("colour", "navy", "var_zip_hoodie_grey_m"),
        ("colour", "grey", "var_zip_hoodie_navy_s"),
    ]


def test_swapping_the_sizes_gives_each_line_the_others_size(generator):
    commands = read(generator, "actually swap the sizes over", TWO_HOODIES)

    assert [(command.slot, command.value, command.target.variant_id) for command in commands] == [
        ("size", "S", "var_zip_hoodie_grey_m"),
        ("size", "M", "var_zip_hoodie_navy_s"),
    ]


def test_a_swap_with_a_value_neither_line_has_is_not_a_swap(generator):
    commands = read(generator, "swap the colours, she wants the red", TWO_HOODIES)

    assert not any(isinstance(command, SetSlot) and command.target is not None for command in commands)


def test_a_swap_with_more_asked_keeps_the_more(generator):
    commands = read(generator, "swap the colours, and add a white running cap", TWO_HOODIES)

    assert [command.value for command in commands if isinstance(command, SetSlot)] == ["navy", "grey"]
    assert any(isinstance(command, AddItems) for command in commands)


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("actually only his navy, mine stays grey", [("navy", "him"), ("grey", "me")]),
        ("make hers grey and mine navy", [("grey", "her"), ("navy", "me")]),
        ("hmm no, hers in M, mine back to S", [("M", "her"), ("S", "me")]),
    ],
)
def test_two_peoples_changes_in_one_message_are_one_change_each(generator, said, expected):
    commands = read(generator, said, TWO_HOODIES)

    assert [(command.value, command.target.person) for command in commands] == expected


def test_the_value_said_again_as_the_same_as_mine_is_a_change_of_theirs(generator):
    [change] = read(generator, "she wants grey actually, same as mine", TWO_HOODIES)

    assert (change.slot, change.value, change.target.person) == ("colour", "grey", "her")


def test_one_of_the_product_just_answered_about_for_someone(generator):
    context = DialogueContext(
        cart=(_line("var_yoga_mat_blue", "prod_yoga_mat", "blue"),),
        last_shown=(Option("prod_foam_roller", "Foam Roller"),),
    )

    [add] = read(generator, "ok add one for my wife then", context)

    assert isinstance(add, AddItems)
    assert [(item.product_ids, item.person) for item in add.items] == [(("prod_foam_roller",), "wife")]
