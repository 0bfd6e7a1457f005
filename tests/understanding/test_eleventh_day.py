"""The reader on held-out run 37 (kit for an occasion: a first half marathon, a wet hiking weekend, a yoga class), in
words of our own. Each case was read wrong before: what the customer already has, said to take it out of the cart, added
it ("i've got a headlamp already, take it out"); a story with the old kit in it ("my cotton tops get soaked") added the
old kit; going to a class named its mat ("dragging me to yoga … i need a mat": two mats); when the thing is for ("for
the cold walk to the gym") named the gym bag; how a count is shared out said last was a second line; "cold weather kit"
was a question about the weather; a code said by where it came from was a search."""

from __future__ import annotations

import pytest

from ordering.agent.commands import CartLine, DialogueContext
from tests.understanding.reading import lines, read

KIT = DialogueContext(
    cart=(
        CartLine(variant_id="var_headlamp", product_id="prod_headlamp", title="Running Headlamp", colour="black",
                 size=None, quantity=1),
        CartLine(variant_id="var_day_pack_black", product_id="prod_day_pack", title="20L Day Pack", colour="black",
                 size=None, quantity=1),
    ),
    awaiting_confirmation=True,
)  # fmt: skip


@pytest.mark.parametrize(
    ("said", "product"),
    [
        ("actually i've already got a headlamp, take it out", "prod_headlamp"),
        ("leave out the day pack, i have one already", "prod_day_pack"),
        ("i've got a headlamp so don't need that", "prod_headlamp"),
    ],
)
def test_what_the_customer_already_has_comes_out_of_the_cart(generator, said, product):
    [command] = read(generator, said, KIT)
    assert (command.kind, command.target.product_ids) == ("remove_item", (product,)), command


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("new to running, my cotton shirts get so sweaty. blue tech tee in L", [("prod_tech_tee", "blue", "L", None)]),
        ("my sister is taking me to pilates so apparently i need a mat, blue please",
         [("prod_yoga_mat", "blue", None, None)]),
        ("the grey beanie, for the early walk to the station", [("prod_beanie", "grey", None, None)]),
        ("3 grey beanies, one for me one for my dad", [("prod_beanie", "grey", None, 3)]),
        ("cold weather gear please - grey beanie and black gloves M",
         [("prod_beanie", "grey", None, None), ("prod_gloves", "black", "M", None)]),
    ],
)  # fmt: skip
def test_what_is_said_around_a_kit_order_is_no_part_of_it(generator, said, expected):
    commands = read(generator, said)
    assert [command.kind for command in commands] == ["add_items"], commands
    assert lines(commands) == expected


def test_one_for_me_and_one_for_someone_without_a_count_is_still_two(generator):
    # the shared-out count is dropped only after a count was said
    [command] = read(generator, "white running cap, one for me and one for my sister")
    assert sum(item.quantity or 1 for item in command.items) == 2


def test_a_code_said_by_where_it_came_from_is_the_code(generator):
    commands = read(generator, "RUNNER15 came with my race number, on the blue tech tee L")
    assert [command.kind for command in commands] == ["add_items", "apply_code"], commands
    assert commands[1].code == "RUNNER15"


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("grey beanie, for my morning runs", [("prod_beanie", "grey", None, None)]),
        ("blue runner 42, for a half marathon", [("prod_blue_runner", None, "42", None)]),
    ],
)
def test_the_occasion_said_after_the_order_is_no_part_of_it(generator, said, expected):
    # "thermal tights, S, for winter runs" was a look (and the size lost), "for a trail half" too
    commands = read(generator, said)
    assert [command.kind for command in commands] == ["add_items"], commands
    assert lines(commands) == expected


def test_asap_said_with_the_summary_before_the_details_is_express(generator):
    # "… i need the trail shoes asap - black trail blazer 42" went standard
    commands = read(generator, "the 10k got moved so i need the shoes asap - blue runner 43")
    assert [command.kind for command in commands] == ["add_items", "choose_shipping"], commands
    assert commands[1].option == "express"
