"""The reader on what held-out runs 60-62 left asked again (several things at once; a weekday's traffic), in words of
our own: a thing the shop does not sell beside things it does, with what it is for ("... and a swim cap for the
pool") or said in the plural with no "a" ("... and swim shorts for my son"), is one item of the list (the whole
message was a search for every word of it); and at a preview, naming every line of it by name ("fine, the mat and
roller then", after a third thing was not sold) is the preview as it stands, not one more of each."""

from __future__ import annotations

import pytest

from ordering.agent.commands import (
    AddItems,
    CancelOrder,
    CartLine,
    ChooseAddress,
    ChooseCard,
    ChooseShipping,
    Confirm,
    DialogueContext,
    ItemSpec,
    Option,
    PendingQuestion,
    RemoveItem,
    SetSlot,
    ShowCart,
    UseMyPromotion,
)
from tests.understanding.reading import at_preview, lines, read
from tests.understanding.reading import cart_line as _line


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


MAT_AND_ROLLER = at_preview(
    _line("var_yoga_mat_purple", "prod_yoga_mat", "purple"), _line("var_foam_roller", "prod_foam_roller", "black")
)


@pytest.mark.parametrize("said", ["fine, the mat and roller then", "ok the roller and the mat please"])
def test_every_line_of_the_preview_named_is_the_preview_as_it_stands(generator, said):
    assert read(generator, said, MAT_AND_ROLLER) == [ShowCart()]


@pytest.mark.parametrize("said", ["another mat and roller", "add a mat and a roller", "the mat and roller too"])
def test_more_of_every_line_is_still_more(generator, said):
    (command,) = read(generator, said, MAT_AND_ROLLER)

    assert isinstance(command, AddItems), command


SOCKS_AND_GLOVES = at_preview(
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


TWO_TEES_FOR_TWO = at_preview(
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


def test_a_list_of_three_people_each_with_one_is_three(generator):
    (command,) = read(generator, "a red cap each for me, my wife and my son")

    assert isinstance(command, AddItems) and [item.quantity for item in command.items] == [3], command


def test_one_in_a_size_each_for_a_counted_group_is_that_many(generator):
    (command,) = read(generator, "grey zip hoodies: 2 M for me and one S each for my 3 kids")

    assert isinstance(command, AddItems)
    assert [(item.size, item.quantity) for item in command.items] == [("M", 2), ("S", 3)], command


SOCKS_THREE = at_preview(CartLine("var_run_socks_black_l", "prod_run_socks", "Running Socks 3-pack", "black", "L", 3))


@pytest.mark.parametrize("said", ["two is plenty actually", "2's enough", "two will do"])
def test_a_bare_count_said_enough_is_the_lines_count(generator, said):
    (command,) = read(generator, said, SOCKS_THREE)

    assert isinstance(command, SetSlot) and (command.slot, command.value) == ("quantity", "2"), command


def test_a_count_with_who_else_wants_one_is_the_count(generator):
    flask = at_preview(_line("var_soft_flask", "prod_soft_flask", "clear"))

    (command,) = read(generator, "make it 3 actually, the guys at the office want one too", flask)

    assert isinstance(command, SetSlot) and (command.slot, command.value) == ("quantity", "3"), command


def test_a_removal_after_on_reflection_is_the_removal(generator):
    tees = at_preview(
        _line("var_cotton_tee_white_s", "prod_cotton_tee", "white", "S"),
        _line("var_cotton_tee_grey_s", "prod_cotton_tee", "grey", "S"),
    )

    (command,) = read(generator, "on reflection, lose the grey one", tees)

    assert isinstance(command, RemoveItem) and command.target.variant_id == "var_cotton_tee_grey_s", command


def test_how_the_customer_knows_a_size_is_no_part_of_the_change(generator):
    tee = at_preview(_line("var_tech_tee_orange_l", "prod_tech_tee", "orange", "L"))

    (command,) = read(generator, "sorry, S was right after all - my husband just checked the label", tee)

    assert isinstance(command, SetSlot) and (command.slot, command.value) == ("size", "S"), command


def _items_of(commands):
    assert len(commands) == 1 and isinstance(commands[0], AddItems), commands
    return [(item.product_ids, item.colour, item.size, item.quantity) for item in commands[0].items]


def test_someone_wants_exactly_the_same_is_every_line_again(generator):
    assert _items_of(read(generator, "my sister wants exactly the same", SOCKS_AND_GLOVES)) == [
        (("prod_wool_socks",), "grey", "S", None),
        (("prod_gloves",), "black", "S", None),
    ]


def test_the_same_minus_one_line_is_the_other_lines_again(generator):
    # (the line named was taken out of the customer's own order, and a yes placed the rest)
    assert _items_of(read(generator, "my brother wants the same minus the gloves", SOCKS_AND_GLOVES)) == [
        (("prod_wool_socks",), "grey", "S", None)
    ]


def test_the_same_for_two_counted_people_is_two_of_each(generator):
    assert _items_of(read(generator, "same for my 2 friends from the club", SOCKS_AND_GLOVES)) == [
        (("prod_wool_socks",), "grey", "S", 2),
        (("prod_gloves",), "black", "S", 2),
    ]


def test_the_same_thing_in_another_size_for_someone_is_one_more_never_mine_changed(generator):
    shoes_and_socks = at_preview(
        _line("var_canvas_low_navy_43", "prod_canvas_low", "navy", "43"),
        _line("var_run_socks_black_l", "prod_run_socks", "black", "L"),
    )

    assert _items_of(read(generator, "my dad wants the same shoes in 42, no socks for him", shoes_and_socks)) == [
        (("prod_canvas_low",), "navy", "42", 1)
    ]


def test_a_total_said_before_the_people_is_of_them_all_beside_another_thing(generator):
    # (it was two red Ls and a black M)
    (command,) = read(
        generator, "two of the zip hoodies - navy L for me, grey M for my wife - and a red beanie for her"
    )

    assert isinstance(command, AddItems)
    assert [(item.colour, item.size, item.quantity) for item in command.items] == [
        ("navy", "L", None),
        ("grey", "M", None),
        ("red", None, None),
    ]


def test_a_value_for_both_of_the_others_is_two_of_it(generator):
    (command,) = read(
        generator, "me and my 2 daughters are doing a charity 5k - 3 blue tech tees, M for me and S for both of them"
    )

    assert isinstance(command, AddItems)
    assert [(item.size, item.quantity) for item in command.items] == [("M", 1), ("S", 2)], command


def test_people_said_of_the_first_thing_of_two_count_it_alone(generator):
    (command,) = read(generator, "grey beanies for me and my dad, and a white cap")

    assert isinstance(command, AddItems)
    assert [(item.product_ids, item.quantity) for item in command.items] == [
        (("prod_beanie",), 2),
        (("prod_run_cap",), None),
    ], command


CAPS_AND_BOTTLE = at_preview(
    CartLine("var_run_cap_white", "prod_run_cap", "Running Cap", "white", None, 2),
    _line("var_steel_bottle_blue", "prod_steel_bottle", "blue"),
)


def test_what_a_line_should_have_been_split_in_two_values(generator):
    # (the white cap was made one and the blue one never added)
    assert read(generator, "hang on it should be 1 white and 1 blue cap", CAPS_AND_BOTTLE) == [
        SetSlot(
            slot="quantity",
            value="1",
            target=ItemSpec(product_ids=("prod_run_cap",), variant_id="var_run_cap_white"),
            correction=True,
        ),
        AddItems(items=(ItemSpec(product_ids=("prod_run_cap",), colour="blue", quantity=1),)),
    ]


def test_rather_one_thing_than_a_line_is_that_lines_swap(generator):
    joggers_and_socks = at_preview(
        _line("var_cloud_jogger_blue_43", "prod_cloud_jogger", "blue", "43"),
        _line("var_run_socks_white_l", "prod_run_socks", "white", "L"),
    )

    commands = read(generator, "i'd rather have the trail blazers than the joggers, green please", joggers_and_socks)

    assert commands and all(isinstance(command, SetSlot) for command in commands), commands
    assert {command.target.variant_id for command in commands} == {"var_cloud_jogger_blue_43"}, commands
    assert {(command.slot, command.value) for command in commands} >= {("product", "prod_trail_blazer")}


def test_each_line_checked_with_one_to_change_is_that_change(generator):
    three = at_preview(
        _line("var_tech_tee_blue_l", "prod_tech_tee", "blue", "L"),
        _line("var_run_shorts_black_l", "prod_run_shorts", "black", "L"),
        _line("var_run_socks_white_l", "prod_run_socks", "white", "L"),
    )

    assert read(generator, "tee L yes, shorts should be blue, socks L yes", three) == [
        SetSlot(
            slot="colour",
            value="blue",
            target=ItemSpec(product_ids=("prod_run_shorts",), variant_id="var_run_shorts_black_l"),
            correction=True,
        )
    ]


@pytest.mark.parametrize("said", ["take my sister's stuff out", "remove my sister's things", "take her stuff out"])
def test_someones_stuff_taken_out_is_their_lines(generator, said):
    (command,) = read(generator, said, SOCKS_AND_GLOVES)

    assert isinstance(command, RemoveItem) and command.target.person in ("sister", "her"), command


def test_the_same_for_someone_in_a_colour_every_line_comes_in_is_every_line_in_it(generator):
    tee_and_shorts = at_preview(
        _line("var_tech_tee_blue_s", "prod_tech_tee", "blue", "S"),
        _line("var_run_shorts_blue_s", "prod_run_shorts", "blue", "S"),
    )

    assert _items_of(read(generator, "same for my daughter in black", tee_and_shorts)) == [
        (("prod_tech_tee",), "black", "S", None),
        (("prod_run_shorts",), "black", "S", None),
    ]


def test_after_a_decline_my_usual_one_is_the_usual_card_never_the_usual_order(generator):
    # (it reordered the customer's last purchase, and a yes ordered socks nobody asked for)
    assert read(generator, "argh, that's my old card - pay with my usual one please") == [ChooseCard(usual=True)]


def test_the_card_and_the_address_said_around_the_thing_are_all_kept(generator):
    commands = read(generator, "grey zip hoodie in M, charged to my usual card and sent to work please")

    assert [type(command) for command in commands] == [AddItems, ChooseAddress, ChooseCard], commands
    assert lines(commands) == [("prod_zip_hoodie", "grey", "M", None)]


def test_exactly_what_i_wanted_beside_go_ahead_is_the_yes(generator):
    jacket = at_preview(_line("var_rain_jacket_blue_s", "prod_rain_jacket", "blue", "S"))

    assert read(generator, "perfect, that's just what I wanted - go ahead", jacket) == [Confirm()]


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        (
            "the white court classics please, I'm a UK 8 - got a wedding coming up",
            [("prod_court_classic", "white", "42", None)],
        ),
        (
            "2 foam rollers - me and my flatmate are starting a pilates course",
            [("prod_foam_roller", None, None, 2)],
        ),
    ],
)
def test_why_said_after_the_order_is_no_part_of_it(generator, said, expected):
    assert lines(read(generator, said)) == expected


def test_how_the_old_ones_fitted_is_no_thing_to_add(generator):
    # (the Thermal Running Tights were added for "a touch tight")
    commands = read(generator, "can i get the blue runners i bought last time but in a 44? they were a bit tight")

    assert [item.product_ids for command in commands if isinstance(command, AddItems) for item in command.items] == [
        ("prod_blue_runner",)
    ], commands


def test_what_matters_more_beside_a_removal_is_no_second_removal(generator):
    shoes_and_bottle = at_preview(
        _line("var_blue_runner_43", "prod_blue_runner", "blue", "43"),
        _line("var_steel_bottle_black", "prod_steel_bottle", "black"),
    )

    (command,) = read(generator, "lose the bottle then, the shoes matter more", shoes_and_bottle)

    assert isinstance(command, RemoveItem) and command.target.variant_id == "var_steel_bottle_black", command


def test_a_dash_before_how_it_is_sent_keeps_the_thing(generator):
    commands = read(generator, "black gym duffel - no rush on delivery, standard is fine")

    assert lines(commands) == [("prod_gym_duffel", "black", None, None)], commands
    assert ChooseShipping(option="standard") in commands


def test_why_an_order_is_canceled_never_says_which(generator):
    # (it looked for a red beanie among the orders and canceled nothing)
    (command,) = read(generator, "could you cancel the cap I ordered earlier? I'd rather have the white one")

    assert isinstance(command, CancelOrder) and command.item is not None, command
    assert command.item.product_ids == ("prod_run_cap",) and command.item.colour is None, command


def test_my_own_percent_is_my_promotion(generator):
    mat = at_preview(_line("var_yoga_mat_purple", "prod_yoga_mat", "purple"))

    assert read(generator, "oh ok. put my own 15% on instead then", mat) == [UseMyPromotion(percent=15)]


@pytest.mark.parametrize("said", ["a mouse mat and a blue running cap", "a desk mat and a blue running cap"])
def test_a_mat_for_something_else_is_not_the_yoga_mat(generator, said):
    (command,) = read(generator, said)

    assert isinstance(command, AddItems), command
    assert [item.product_ids for item in command.items] == [(), ("prod_run_cap",)], command


@pytest.mark.parametrize("said", ["great, please order those two for me", "ok order the two of them"])
def test_ordering_as_many_as_the_preview_holds_is_the_yes(generator, said):
    assert read(generator, said, SOCKS_AND_GLOVES) == [Confirm()]


def test_ordering_more_than_the_preview_holds_is_no_yes(generator):
    assert Confirm() not in read(generator, "order those three", SOCKS_AND_GLOVES)


def test_three_colours_of_one_thing_are_one_of_each(generator):
    # (the first colour was lost, and a yes ordered two)
    assert lines(read(generator, "white, grey and black cotton tees, all L")) == [
        ("prod_cotton_tee", "white", "L", None),
        ("prod_cotton_tee", "grey", "L", None),
        ("prod_cotton_tee", "black", "L", None),
    ]


@pytest.mark.parametrize(
    "said",
    [
        "right thats me and my dad sorted, get it ordered",
        "brill, thats me and both boys - order the lot",
        "great, one each for the kids - put it through",
    ],
)
def test_who_it_is_for_said_back_beside_a_yes_is_the_yes(generator, said):
    assert read(generator, said, SOCKS_AND_GLOVES) == [Confirm()]


@pytest.mark.parametrize(
    ("said", "who"),
    [("remove everything for my brother", "brother"), ("drop all of my sister's", "sister"), ("take mine out", "me")],
)
def test_everything_of_one_person_is_their_lines_never_the_whole_cart(generator, said, who):
    # (the whole cart was emptied)
    assert read(generator, said, SOCKS_AND_GLOVES) == [RemoveItem(target=ItemSpec(person=who))]


@pytest.mark.parametrize(
    "said", ["hmm, that's my old card - put it on my usual one", "sorry its the wrong card, use my usual one"]
)
def test_the_usual_one_after_the_old_card_is_the_usual_card(generator, said):
    assert read(generator, said) == [ChooseCard(usual=True)]


def test_some_of_a_thing_not_sold_beside_a_thing_sold_is_one_of_the_list(generator):
    (command,) = read(generator, "a white running cap and some goggles for the pool")

    assert isinstance(command, AddItems)
    assert [bool(item.product_ids) for item in command.items] == [True, False], command


@pytest.mark.parametrize("said", ["and for my brother the same but XL", "the same for my brother but XL"])
def test_the_same_for_someone_but_in_a_size_is_every_line_in_it(generator, said):
    # (only the last line was copied, and a yes then placed the order without his tee)
    tee_and_shorts = at_preview(
        _line("var_tech_tee_black_l", "prod_tech_tee", "black", "L"),
        _line("var_run_shorts_blue_l", "prod_run_shorts", "blue", "L"),
    )

    assert _items_of(read(generator, said, tee_and_shorts)) == [
        (("prod_tech_tee",), "black", "XL", None),
        (("prod_run_shorts",), "blue", "XL", None),
    ]


def test_the_sizes_said_back_in_the_plural_beside_order_both_is_the_yes(generator):
    pairs = at_preview(
        _line("var_trail_blazer_black_43", "prod_trail_blazer", "black", "43"),
        _line("var_trail_blazer_green_43", "prod_trail_blazer", "green", "43"),
    )

    # (the green pair was changed to black)
    assert read(generator, "cheers, black and green 43s - order both", pairs) == [Confirm()]


def test_the_old_pairs_in_the_plural_are_no_size_said_back(generator):
    boots = at_preview(_line("var_chelsea_boot_tan_40", "prod_chelsea_boot", "tan", "40"))

    commands = read(generator, "sorry, I meant 41 - the 40s always pinch", boots)

    assert commands and all(isinstance(command, SetSlot) for command in commands), commands
    assert commands[-1].value == "41", commands


def test_why_fewer_said_with_the_count_left_is_no_thing(generator):
    asked = DialogueContext(
        pending=PendingQuestion(slot="quantity", product_id="prod_headlamp", title="Running Headlamp", quantity=3)
    )

    assert read(generator, "2 then, one of them can sort his own", asked) == [SetSlot(slot="quantity", value="2")]


def test_a_colour_answered_for_someone_is_the_colour(generator):
    asked = DialogueContext(
        pending=PendingQuestion(
            slot="size",
            product_id="prod_pullover_hoodie",
            title="Pullover Hoodie",
            options=(Option(value="M", label="M"), Option(value="L", label="L")),
        )
    )

    assert read(generator, "black for her then", asked) == [SetSlot(slot="colour", value="black")]
