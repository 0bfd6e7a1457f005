"""The reader on what held-out runs 29 and 30 left unread, in words of our own: sizes said for people before the thing,
a size letter right after the thing's name before "the orange one", a stock question with "if so, order it" about a
saved item, thinking aloud that settles on a size, the street of someone's house, a heading that only says "gifts",
"one pack then" at a preview, how the total felt before the change, a code asked about "on" a product, and a plural
of an everyday word corrected into a catalog word ("rackets" were jackets)."""

from __future__ import annotations

import pytest

from ordering.agent.commands import (
    AddItems,
    ApplyCode,
    CannotHandle,
    CartLine,
    ChooseAddress,
    DialogueContext,
    ProductQuestion,
    Search,
    SetSlot,
)
from tests.understanding.reading import lines, read

PREVIEW_SOCKS = DialogueContext(
    cart=(
        CartLine(
            variant_id="var_run_socks_black_m", product_id="prod_run_socks", title="Running Socks 3-pack",
            colour="black", size="M", quantity=3,
        ),
    ),
    awaiting_confirmation=True,
)  # fmt: skip
PREVIEW_TWO = DialogueContext(
    cart=(
        *PREVIEW_SOCKS.cart,
        CartLine(
            variant_id="var_run_cap_blue", product_id="prod_run_cap", title="Running Cap", colour="blue", size=None,
            quantity=1,
        ),
    ),
    awaiting_confirmation=True,
)  # fmt: skip


@pytest.mark.parametrize(
    "said",
    [
        "M for me and S for my daughter, tech tees in blue",
        "an M for me and an S for my daughter in the blue tech tee",
        "M for me, S for my daughter: blue tech tees please",
    ],
)
def test_sizes_for_people_before_the_thing_are_one_line_each(generator, said):
    assert lines(read(generator, said)) == [
        ("prod_tech_tee", "blue", "M", 1),
        ("prod_tech_tee", "blue", "S", 1),
    ]


def test_sizes_for_people_with_no_thing_are_not_a_guess(generator):
    assert all(not isinstance(command, AddItems) for command in read(generator, "M for me and S for my daughter"))


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("tech tee M - the orange one", ("prod_tech_tee", "orange", "M", None)),
        ("zip hoodie L the navy one", ("prod_zip_hoodie", "navy", "L", None)),
        ("2 tech tees L - the black ones", ("prod_tech_tee", "black", "L", 2)),
    ],
)
def test_a_size_letter_right_after_the_name_before_which_one(generator, said, expected):
    assert lines(read(generator, said)) == [expected]


def test_a_stock_question_then_if_so_order_it_adds_the_saved_one(generator):
    commands = read(generator, "Is the bottle on my wishlist still available? If so, I'd like to order it.")
    assert len(commands) == 1 and isinstance(commands[0], AddItems)
    (item,) = commands[0].items
    assert item.saved == "liked" and "prod_steel_bottle" in item.product_ids


def test_a_question_of_colour_then_if_so_keeps_the_question(generator):
    commands = read(generator, "does the zip hoodie come in navy? if so add one in M")
    assert isinstance(commands[0], ProductQuestion)
    assert lines(commands) == [("prod_zip_hoodie", "navy", "M", 1)]


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        (
            "Hmm, let me think. I'm a 44 in most shoes, but the Court Classics are said to come up big, so maybe a "
            "43? Yes, let's go with the 43.",
            ("prod_court_classic", None, "43", None),
        ),
        ("grey zip hoodie. hmm L or XL? let's say L", ("prod_zip_hoodie", "grey", "L", None)),
        ("The zip hoodie in grey or navy? Navy is nicer. OK I'll take navy.", ("prod_zip_hoodie", "navy", None, None)),
    ],
)
def test_thinking_aloud_settles_on_one_value(generator, said, expected):
    commands = read(generator, said)
    assert lines(commands) == [expected]


@pytest.mark.parametrize(
    "said",
    ["send a red beanie to my mum, 12 oak lane, salem", "send the red beanie to my sister, 4 Elm Street please"],
)
def test_the_street_of_someones_house_is_no_part_of_the_thing(generator, said):
    commands = read(generator, said)
    assert lines(commands) == [("prod_beanie", "red", None, None)]
    (address,) = [command for command in commands if isinstance(command, ChooseAddress)]
    assert address.label.startswith("my ")  # someone's house: the policy refuses it naming the saved ones


@pytest.mark.parametrize(
    "said",
    [
        "two gifts: a grey beanie for my brother and a red beanie for my sister",
        "gifts for the kids: a grey beanie and a red beanie",
    ],
)
def test_a_heading_that_only_says_gifts(generator, said):
    said_lines = lines(read(generator, said))
    assert [(product, colour) for product, colour, *_ in said_lines] == [
        ("prod_beanie", "grey"),
        ("prod_beanie", "red"),
    ]
    assert all(quantity in (None, 1) for *_, quantity in said_lines)


@pytest.mark.parametrize(
    "said",
    [
        "one pack then",
        "ok one then",
        "one pack is enough",
        "that's more than I'd planned. one pack then.",
        "hmm, that's a lot - just one pack",
    ],
)
def test_a_count_then_at_a_preview_of_one_line(generator, said):
    (command,) = read(generator, said, PREVIEW_SOCKS)
    assert isinstance(command, SetSlot) and command.slot == "quantity" and command.value == "1"
    assert command.target is not None and command.target.variant_id == "var_run_socks_black_m"


def test_a_count_then_with_two_lines_is_not_guessed(generator):
    commands = read(generator, "one pack then", PREVIEW_TWO)
    assert not any(isinstance(command, SetSlot) and command.target is not None for command in commands)


@pytest.mark.parametrize(
    "said",
    [
        "My friend gave me her code ALICE10 - could I use it on the blue Sport Earbuds?",
        "can i use SAVE10 on the blue sport earbuds?",
    ],
)
def test_a_code_asked_about_on_a_product_is_the_product_with_the_code(generator, said):
    commands = read(generator, said)
    assert lines(commands) == [("prod_earbuds", "blue", None, None)]
    assert sum(isinstance(command, ApplyCode) for command in commands) == 1


def test_a_code_question_alone_applies_nothing_to_a_product(generator):
    assert not lines(read(generator, "what does SAVE10 give me?"))


def test_the_plural_of_an_everyday_word_is_not_corrected_into_a_product(generator):
    commands = read(generator, "2 tennis rackets")
    assert all(
        not (isinstance(command, AddItems) and any(item.product_ids for item in command.items)) for command in commands
    )
    assert any(isinstance(command, (AddItems, Search, CannotHandle)) for command in commands)


def test_if_so_please_order_it_is_the_one_asked_about_not_a_yes(generator):
    commands = read(generator, "Is the runner I liked still in stock? If so, please order it.")
    assert [command.kind for command in commands] == ["add_items"]
    assert commands[0].items[0].saved == "liked"
