"""The reader on what held-out run 64 found (repairs at the preview), in words of our own: a fix said together with
what was wrong, often as if the shop had made the mistake ("that's the wrong colour, navy", "thats 3, i need 2",
"wrong hoodie, i wanted the pullover"), is the change of the line shown; the words about the mistake made the message
unread (and the next yes placed the preview unchanged), a search and a second thing beside the wrong one, or a
hand-over to a person. A frame with no fix after it ("wrong shoes") stays a question, never a guess."""

from __future__ import annotations

import pytest

from ordering.agent.commands import (
    AddItems,
    ApplyCode,
    CannotHandle,
    ChooseAddress,
    ClearCart,
    Confirm,
    Decline,
    DialogueContext,
    Human,
    Option,
    PendingQuestion,
    ProductQuestion,
    RemoveItem,
    Select,
    SetSlot,
    ShowCart,
)
from ordering.agent.understand.blame import blame_read
from tests.understanding.reading import asked, at_preview, read
from tests.understanding.reading import cart_line as _line

BEANIE_GREY = at_preview(_line("var_beanie_grey", "prod_beanie", "grey", None))
TEE_BLUE_M = at_preview(_line("var_tech_tee_blue_m", "prod_tech_tee", "blue", "M"))
JOGGERS_44 = at_preview(_line("var_cloud_jogger_blue_44", "prod_cloud_jogger", "blue", "44"))
CAPS_FOUR = at_preview(_line("var_run_cap_white", "prod_run_cap", "white", None, quantity=4))


@pytest.mark.parametrize(
    ("said", "context", "slot", "value"),
    [
        ("argh that's the wrong colour - red please", BEANIE_GREY, "colour", "red"),
        ("no. that's not the colour i picked, black", BEANIE_GREY, "colour", "black"),
        ("oh no its the wrong size, L", TEE_BLUE_M, "size", "L"),
        ("way too small, i meant XL", TEE_BLUE_M, "size", "XL"),
        ("44?? no no, 43", JOGGERS_44, "size", "43"),
        ("nope. 44 is wrong, 42", JOGGERS_44, "size", "42"),
        ("nah, M - my shoulders are broad", TEE_BLUE_M, "size", "M"),
        ("thats 4, i only need 2", CAPS_FOUR, "quantity", "2"),
        ("you put 4, i wanted 3", CAPS_FOUR, "quantity", "3"),
        ("i want 1 of them, not 4", CAPS_FOUR, "quantity", "1"),
        ("no, i said three - one's for my flatmate", CAPS_FOUR, "quantity", "3"),
    ],
)
def test_a_fix_said_with_what_was_wrong_is_the_change(generator, said, context, slot, value):
    commands = read(generator, said, context)

    assert [(command.slot, command.value) for command in commands if isinstance(command, SetSlot)] == [(slot, value)]
    assert len(commands) == 1, commands


def test_the_wrong_colour_said_angrily_is_a_change_not_a_hand_over(generator):
    commands = read(generator, "ugh that's the wrong colour, red", BEANIE_GREY)

    assert not any(isinstance(command, Human) for command in commands), commands
    assert [(command.slot, command.value) for command in commands] == [("colour", "red")]


def test_the_thing_said_again_in_another_colour_is_that_line_not_a_second_one(generator):
    # it was a search, and its offer put a red beanie beside the grey one
    commands = read(generator, "nope, a red beanie is what i wanted", BEANIE_GREY)

    assert not any(isinstance(command, AddItems) for command in commands), commands
    assert [(command.slot, command.value) for command in commands] == [("colour", "red")]


@pytest.mark.parametrize(
    "said",
    ["wrong tee, i wanted the cotton one - white M", "not the tech one, the cotton tee - white M"],
)
def test_the_thing_said_wrong_goes_and_the_one_meant_comes_in_its_place(generator, said):
    commands = read(generator, said, TEE_BLUE_M)

    assert len(commands) == 2, commands
    removed, added = commands
    assert isinstance(removed, RemoveItem) and removed.target.variant_id == "var_tech_tee_blue_m"
    assert isinstance(added, AddItems) and [(i.product_ids, i.colour, i.size) for i in added.items] == [
        (("prod_cotton_tee",), "white", "M")
    ]


def test_a_noun_said_wrong_stands_for_the_ones_meant(generator):
    # "the merino ones" are socks; read alone, "ones" named nothing and the merino socks came beside the running pack
    socks = at_preview(_line("var_run_socks_black_l", "prod_run_socks", "black", "L"))

    commands = read(generator, "wrong socks, the merino ones - L", socks)

    assert isinstance(commands[0], RemoveItem) and commands[0].target.variant_id == "var_run_socks_black_l"
    assert isinstance(commands[1], AddItems) and commands[1].items[0].product_ids == ("prod_wool_socks",)


@pytest.mark.parametrize("said", ["wrong shoes", "that's not what i asked for", "nope, wrong size"])
def test_a_mistake_said_with_no_fix_is_never_a_change(generator, said):
    commands = read(generator, said, JOGGERS_44)

    assert not any(isinstance(command, (SetSlot, AddItems, RemoveItem, Confirm)) for command in commands), commands


def test_a_no_to_a_shipping_choice_is_not_read_as_a_reason(generator):
    # "i'm not in a hurry" is why, and "no express" the choice: never express
    assert blame_read("no express, im not in a hurry") is None


def test_the_address_said_with_why_is_the_address(generator):
    commands = read(generator, "no, ship it home, i'm away from the office all week", TEE_BLUE_M)

    assert commands == [ChooseAddress(label="home")]


def test_the_value_replaced_names_which_line_changes(generator):
    two_tees = at_preview(
        _line("var_tech_tee_black_l", "prod_tech_tee", "black", "L"),
        _line("var_tech_tee_blue_s", "prod_tech_tee", "blue", "S"),
    )

    (command,) = read(generator, "oh, my son's should be M not S", two_tees)

    assert isinstance(command, SetSlot) and (command.slot, command.value) == ("size", "M")
    assert command.target is not None and command.target.variant_id == "var_tech_tee_blue_s"

    (command,) = read(generator, "my son wants black too, not blue", two_tees)

    assert isinstance(command, SetSlot) and (command.slot, command.value) == ("colour", "black")
    assert command.target is not None and command.target.variant_id == "var_tech_tee_blue_s"


def test_the_line_meant_then_its_values_changes_each_line(generator):
    cap_and_bottle = at_preview(
        _line("var_run_cap_blue", "prod_run_cap", "blue", None),
        _line("var_steel_bottle_black", "prod_steel_bottle", "black", None),
    )

    commands = read(
        generator, "sorry, i meant the bottle should change not the cap: cap white, bottle blue", cap_and_bottle
    )

    assert sorted((c.target.variant_id, c.value) for c in commands if isinstance(c, SetSlot)) == [
        ("var_run_cap_blue", "white"),
        ("var_steel_bottle_black", "blue"),
    ]


def test_whose_line_is_whose_said_the_other_way_round_changes_nothing(generator):
    two_pairs = at_preview(
        _line("var_blue_runner_42", "prod_blue_runner", "blue", "42"),
        _line("var_blue_runner_44", "prod_blue_runner", "blue", "44"),
    )

    # the 42 became 44 pairs
    assert read(generator, "no wait, the 44 is for my dad, i'm the 42", two_pairs) == [ShowCart()]


def test_two_lines_said_with_their_colours_swapped_change_each_colour(generator):
    tees = at_preview(
        _line("var_tech_tee_orange_l", "prod_tech_tee", "orange", "L"),
        _line("var_tech_tee_black_s", "prod_tech_tee", "black", "S"),
    )

    commands = read(generator, "i got them muddled - i want the black L and she wants the orange S", tees)

    assert sorted((c.target.variant_id, c.value) for c in commands if isinstance(c, SetSlot)) == [
        ("var_tech_tee_black_s", "orange"),
        ("var_tech_tee_orange_l", "black"),
    ]


def test_start_again_with_a_code_clears_the_cart_first(generator):
    commands = read(generator, "start over. grey beanie and a blue cap, with SAVE10", BEANIE_GREY)

    assert isinstance(commands[0], ClearCart), commands
    assert any(isinstance(command, AddItems) for command in commands)
    assert ApplyCode(code="SAVE10") in commands


@pytest.mark.parametrize("said", ["all fixed now, place the order", "great, that's right this time - order it"])
def test_a_yes_said_after_a_fix_is_the_yes(generator, said):
    assert read(generator, said, TEE_BLUE_M) == [Confirm()]


def test_never_mind_leave_it_is_a_no(generator):
    assert read(generator, "ok never mind, i'll leave it", TEE_BLUE_M) == [Decline()]


def test_words_about_something_else_stay_unread(generator):
    commands = read(generator, "that's the wrong way to spell it lol", TEE_BLUE_M)

    assert not any(isinstance(command, (SetSlot, AddItems, RemoveItem, Confirm)) for command in commands)
    assert commands and isinstance(commands[0], CannotHandle), commands


def test_each_line_named_again_with_its_fix_changes_that_line(generator):
    tee_and_shorts = at_preview(
        _line("var_tech_tee_black_s", "prod_tech_tee", "black", "S"),
        _line("var_run_shorts_blue_s", "prod_run_shorts", "blue", "S"),
    )

    for said in ("sorry, my mistake - tee orange L, shorts black L", "no, tee orange L and shorts black L"):
        commands = read(generator, said, tee_and_shorts)

        assert not any(isinstance(command, AddItems) for command in commands), commands
        assert sorted((c.target.variant_id, c.slot, c.value) for c in commands) == [
            ("var_run_shorts_blue_s", "colour", "black"),
            ("var_run_shorts_blue_s", "size", "L"),
            ("var_tech_tee_black_s", "colour", "orange"),
            ("var_tech_tee_black_s", "size", "L"),
        ], said
    # asking for more of them is no fix
    more = read(generator, "and another tee orange L please, no rush", tee_and_shorts)
    assert any(isinstance(command, AddItems) for command in more), more


def test_a_size_put_right_beside_a_colour_answer_is_kept(generator):
    colour_asked = asked("colour", "prod_trail_blazer", "Trail Blazer", "green", "black")

    commands = read(generator, "black - oh and sorry, 44 not 45", colour_asked)

    assert [(c.slot, c.value) for c in commands if isinstance(c, SetSlot)] == [("colour", "black"), ("size", "44")]


def test_a_count_made_of_the_other_thing_beside_an_answer_is_its_count(generator):
    size_asked = asked("size", "prod_tech_tee", "Tech Running Tee", "M", "L")

    commands = read(generator, "tee in M, white cap. actually make it 3 caps", size_asked)

    (added,) = [command for command in commands if isinstance(command, AddItems)]
    assert [(item.product_ids, item.quantity) for item in added.items] == [(("prod_run_cap",), 3)]


@pytest.mark.parametrize(
    "said", ["and a 43 too", "oh, i need a 43 as well", "no, the 41 is my wife's - i need a 43 too"]
)
def test_one_more_in_another_size_is_one_more_never_the_line_changed(generator, said):
    # "and a 40 too" changed the pair in the cart to a 40
    shoes_and_socks = at_preview(
        _line("var_trail_blazer_green_41", "prod_trail_blazer", "green", "41"),
        _line("var_run_socks_black_m", "prod_run_socks", "black", "M"),
    )

    commands = read(generator, said, shoes_and_socks)

    assert len(commands) == 1 and isinstance(commands[0], AddItems), commands
    assert [(i.product_ids, i.colour, i.size, i.quantity) for i in commands[0].items] == [
        (("prod_trail_blazer",), "green", "43", 1)
    ]


def test_one_thing_of_a_list_made_other_at_its_end_is_that_thing_changed(generator):
    commands = read(generator, "3 white cotton tees in S and 1 black in M... actually make the black one L")

    assert len(commands) == 1 and isinstance(commands[0], AddItems), commands
    assert [(i.colour, i.size, i.quantity) for i in commands[0].items] == [("white", "S", 3), ("black", "L", 1)]


def test_not_the_card_is_about_the_card_never_the_things_colour(generator):
    # "not the visa, the other one" changed the mat's colour, and the yes after it ordered a blue mat
    mat = at_preview(_line("var_yoga_mat_purple", "prod_yoga_mat", "purple", None))

    commands = read(generator, "not the visa, the other one", mat)

    assert not any(isinstance(command, (SetSlot, AddItems, RemoveItem)) for command in commands), commands


def test_an_answer_then_a_line_put_right_is_both(generator):
    # a search for every word of it, or the S given to the shoes asked about
    socks = (_line("var_run_socks_black_m", "prod_run_socks", "black", "M"),)
    size_asked = asked("size", "prod_canvas_low", "Canvas Low", "42", "43", cart=socks)

    commands = read(generator, "43 for the canvas ones - oh and the socks should be L", size_asked)

    assert commands[0] == SetSlot(slot="size", value="43"), commands
    assert [(c.slot, c.value, c.target.variant_id) for c in commands[1:]] == [("size", "L", "var_run_socks_black_m")]


def test_a_line_said_to_stay_as_it_was_is_kept_so(generator):
    # read as thanks
    cap_blue = at_preview(
        _line("var_run_cap_blue", "prod_run_cap", "blue", None),
        _line("var_beanie_red", "prod_beanie", "red", None),
    )

    (command,) = read(generator, "the cap stays white", cap_blue)

    assert isinstance(command, SetSlot) and (command.slot, command.value) == ("colour", "white")
    assert command.target is not None and command.target.variant_id == "var_run_cap_blue"


def test_a_sound_of_delight_before_the_yes_is_no_thing_to_find(generator):
    # it searched for "aw"
    assert read(generator, "aww brilliant, she'll love it. order please", TEE_BLUE_M) == [Confirm()]


@pytest.mark.parametrize("said", ["a rain jacket for cycling to work", "gloves for riding to the office"])
def test_how_one_gets_to_work_is_no_address(generator, said):
    commands = read(generator, said)

    assert not any(isinstance(command, ChooseAddress) for command in commands), commands
    assert isinstance(commands[0], AddItems), commands


def test_one_more_in_another_size_said_politely_is_still_one_more(generator):
    # "and a 43 too please" changed the 41 in the cart to a 43, and the yes ordered the 43 alone
    pair = at_preview(_line("var_trail_blazer_green_41", "prod_trail_blazer", "green", "41"))

    (command,) = read(generator, "and a 43 too please", pair)

    assert isinstance(command, AddItems) and [(i.size, i.quantity) for i in command.items] == [("43", 1)]


def test_a_colour_of_ones_then_is_the_pair_in_that_colour_not_a_second_pair(generator):
    pair = at_preview(_line("var_tempo_racer_red_44", "prod_tempo_racer", "red", "44"))

    (command,) = read(generator, "ok, white ones instead", pair)

    assert isinstance(command, SetSlot) and (command.slot, command.value) == ("colour", "white"), command
    # one more said is one more
    assert isinstance(read(generator, "white ones too please", pair)[0], AddItems)


def test_clear_that_out_is_never_the_colour_clear(generator):
    pair = at_preview(_line("var_street_high_red_41", "prod_street_high", "red", "41"))

    commands = read(generator, "clear that out, i'll have the white ones in 42 instead", pair)

    assert sorted((c.slot, c.value) for c in commands if isinstance(c, SetSlot)) == [
        ("colour", "white"),
        ("size", "42"),
    ]
    assert read(generator, "clear it all, a blue cap please", pair)[0] == ClearCart()


def test_revert_that_with_the_value_is_that_value(generator):
    pack = at_preview(_line("var_day_pack_blue", "prod_day_pack", "blue", None))

    (command,) = read(generator, "hmm revert that, black", pack)

    assert isinstance(command, SetSlot) and (command.slot, command.value) == ("colour", "black")
    assert read(generator, "nice, that's what i meant - order it", pack) == [Confirm()]


def test_a_thing_wanted_back_is_added_again_never_another_line_made_it(generator):
    # the beanie left in the cart was made a cap (a change of product with no line named)
    beanie = at_preview(_line("var_beanie_grey", "prod_beanie", "grey", None))

    (command,) = read(generator, "ah put it back, i do want the cap after all", beanie)

    assert isinstance(command, AddItems) and command.items[0].product_ids == ("prod_run_cap",), command


@pytest.mark.parametrize(
    ("said", "aspect"), [("ugh thats the wrong colour", "colours"), ("that's the wrong size", "sizes")]
)
def test_the_wrong_value_said_with_no_fix_asks_what_it_comes_in_never_a_person(generator, said, aspect):
    # a specialist was called in for "thats the wrong colour"
    (command,) = read(generator, said, TEE_BLUE_M)

    assert isinstance(command, ProductQuestion) and command.aspect == aspect, command
    assert command.item.product_ids == ("prod_tech_tee",)


def test_whose_line_said_to_the_question_which_line_is_the_answer_not_a_look_at_the_cart(generator):
    # "he's the L" to "which item should I change to navy?" showed the cart, and a yes ordered both grey
    which = DialogueContext(
        cart=(
            _line("var_zip_hoodie_grey_m", "prod_zip_hoodie", "grey", "M"),
            _line("var_zip_hoodie_grey_l", "prod_zip_hoodie", "grey", "L"),
        ),
        pending=PendingQuestion(
            slot="line",
            options=(
                Option(value="var_zip_hoodie_grey_m", label="Zip Hoodie (grey, M)"),
                Option(value="var_zip_hoodie_grey_l", label="Zip Hoodie (grey, L)"),
            ),
        ),
    )

    assert read(generator, "he's the L", which) == [Select(value="var_zip_hoodie_grey_l")]
