"""The reader on what held-out runs 60-62 left asked again (several things at once; a weekday's traffic), in words of
our own: a thing the shop does not sell beside things it does, with what it is for ("... and a swim cap for the
pool") or said in the plural with no "a" ("... and swim shorts for my son"), is one item of the list (the whole
message was a search for every word of it); and at a preview, naming every line of it by name ("fine, the mat and
roller then", after a third thing was not sold) is the preview as it stands, not one more of each."""

from __future__ import annotations

import pytest

from ordering.agent.commands import AddItems, CartLine, Confirm, DialogueContext, ItemSpec, SetSlot, ShowCart
from tests.understanding.reading import cart_line as _line
from tests.understanding.reading import lines, read


def _at_preview(*cart) -> DialogueContext:
    return DialogueContext(cart=tuple(cart), awaiting_confirmation=True)


@pytest.mark.parametrize(
    ("said", "sold"),
    [
        ("white running cap and a swim cap for the pool", ("prod_run_cap", "white", None, None)),
        ("a grey beanie plus a snorkel for the beach", ("prod_beanie", "grey", None, None)),
        ("blue running shorts in S and board shorts for my son", ("prod_run_shorts", "blue", "S", None)),
    ],
)
def test_a_thing_not_sold_in_a_list_stays_one_item_of_it(generator, said, sold):
    commands = read(generator, said)

    assert len(commands) == 1 and isinstance(commands[0], AddItems), commands
    named, unsold = commands[0].items
    assert lines([AddItems(items=(named,))]) == [sold]
    assert not unsold.product_ids and 0 < len(unsold.query.split()) <= 2, unsold


def test_a_person_after_a_thing_not_sold_is_still_whose_it_is(generator):
    (command,) = read(generator, "a white cap for me and a swim cap for my daughter")

    assert isinstance(command, AddItems), command
    assert [item.person for item in command.items] == ["me", "daughter"]


MAT_AND_ROLLER = _at_preview(
    _line("var_yoga_mat_purple", "prod_yoga_mat", "purple"), _line("var_foam_roller", "prod_foam_roller", "black")
)


@pytest.mark.parametrize("said", ["fine, the mat and roller then", "ok the roller and the mat please"])
def test_every_line_of_the_preview_named_is_the_preview_as_it_stands(generator, said):
    assert read(generator, said, MAT_AND_ROLLER) == [ShowCart()]


@pytest.mark.parametrize("said", ["another mat and roller", "add a mat and a roller", "the mat and roller too"])
def test_more_of_every_line_is_still_more(generator, said):
    (command,) = read(generator, said, MAT_AND_ROLLER)

    assert isinstance(command, AddItems), command


SOCKS_AND_GLOVES = _at_preview(
    _line("var_wool_socks_s", "prod_wool_socks", "grey", "S"), _line("var_gloves_s", "prod_gloves", "black", "S")
)


@pytest.mark.parametrize(
    ("said", "who"),
    [
        ("same again for her friend, same sizes", "friend"),
        ("the same for his brother", "brother"),
        ("and the same for their cousin please", "cousin"),
    ],
)
def test_the_same_for_someone_named_with_a_possessive_is_every_line_again(generator, said, who):
    (command,) = read(generator, said, SOCKS_AND_GLOVES)

    # (it reordered the customer's last purchase: a pack of socks nobody asked for was in the next preview)
    assert isinstance(command, AddItems), command
    assert [(item.product_ids, item.colour, item.size, item.person) for item in command.items] == [
        (("prod_wool_socks",), "grey", "S", who),
        (("prod_gloves",), "black", "S", who),
    ]


@pytest.mark.parametrize(
    "said",
    ["great, thats both girls sorted - order it", "thats the kids sorted, order it", "ok everyone's sorted, order it"],
)
def test_the_people_said_sorted_beside_a_yes_is_the_yes(generator, said):
    assert read(generator, said, SOCKS_AND_GLOVES) == [Confirm()]


def test_the_people_said_sorted_alone_is_no_yes(generator):
    assert Confirm() not in read(generator, "thats both girls sorted", SOCKS_AND_GLOVES)


def test_how_many_questions_come_first_is_no_count_of_the_order(generator):
    commands = read(
        generator,
        "Hello - two questions and then an order. Is the Trail Blazer the one with the rock plate, and does RUN15 "
        "work on it? If both are yes, please order the green ones in 44 with RUN15, on my visa.",
    )

    # (it ordered two pairs: "two questions" and "if both are yes" were counts)
    adds = [command for command in commands if isinstance(command, AddItems)]
    assert [(item.product_ids, item.colour, item.size, item.quantity) for add in adds for item in add.items] == [
        (("prod_trail_blazer",), "green", "44", None)
    ], commands


@pytest.mark.parametrize(
    "said",
    [
        "two questions: is the cap washable and does it come in red?",
        "a couple of questions first - is the down jacket warm?",
    ],
)
def test_questions_announced_are_no_order(generator, said):
    assert not any(isinstance(command, AddItems) for command in read(generator, said))


TWO_TEES_FOR_TWO = _at_preview(
    CartLine("var_tech_tee_black_s", "prod_tech_tee", "Tech Running Tee", "black", "S", 2, people=2)
)


@pytest.mark.parametrize(
    ("said", "who"),
    [("he takes a large in tees", "him"), ("an L for my boyfriend", "boyfriend"), ("she wears a large", "her")],
)
def test_one_persons_size_said_of_a_line_for_two_is_their_one_only(generator, said, who):
    # (both tees became L, and a yes ordered two Ls)
    assert read(generator, said, TWO_TEES_FOR_TWO) == [
        SetSlot(
            slot="quantity",
            value="1",
            target=ItemSpec(product_ids=("prod_tech_tee",), variant_id="var_tech_tee_black_s"),
            correction=True,
        ),
        AddItems(items=(ItemSpec(product_ids=("prod_tech_tee",), colour="black", size="L", quantity=1, person=who),)),
    ]
