"""The reader on held-out run 52 (saying it again, saying it differently, changing one's mind), in words of our own.
Each case was misread before, most of them into a wrong order: a clause that said the request again made a second
item or a count of 43 pairs, a count said as the line's total was added to it, "scrap all that, just …" and "ditch
the tee, … instead" searched the cart for the new thing to remove, "…, not the cap" removed the cap, "put the grey
one back" made the red line grey, "i said no red cap" made the cap red, "no wait... ok fine, order it" was not
understood (and "…, but in tan" neither), "did you get the cap?" added a second cap, "i meant the cotton tee not the
tech one" was a colour change of the tech tee, and "the blue runners were right" was not understood."""

from __future__ import annotations

import pytest

from ordering.agent.commands import (
    AddItems,
    CannotHandle,
    CartLine,
    ClearCart,
    Confirm,
    DialogueContext,
    Option,
    OrderStatus,
    PendingQuestion,
    Preview,
    RemoveItem,
    SetSlot,
    ShowCart,
    Undo,
)
from tests.understanding.reading import cart_line as _line
from tests.understanding.reading import lines, read


def _preview(*cart: CartLine) -> DialogueContext:
    return DialogueContext(cart=cart, awaiting_confirmation=True)


TEE = _line("var_tech_tee_blue_m", "prod_tech_tee", "blue", "M")
CAP = _line("var_run_cap_white", "prod_run_cap", "white")
FOUR_FLASKS = _line("var_soft_flask", "prod_soft_flask", "clear", quantity=4)
JOGGERS = _line("var_cloud_jogger_grey_42", "prod_cloud_jogger", "grey", "42")


@pytest.mark.parametrize(
    ("said", "line"),
    [
        ("a red beanie please, the red wool one", ("prod_beanie", "red", None, None)),
        ("3 soft flasks, so three of the 500ml ones", ("prod_soft_flask", None, None, 3)),
        ("tan chelsea boots in 43... yes 43", ("prod_chelsea_boot", "tan", "43", None)),
        ("grey zip hoodie L, as in large", ("prod_zip_hoodie", "grey", "L", None)),
        ("blue running cap - the cap i mean, not the beanie", ("prod_run_cap", "blue", None, None)),
    ],
)
def test_a_request_said_twice_in_one_message_is_one_item(generator, said, line):
    commands = read(generator, said)

    assert lines(commands) == [line], commands


@pytest.mark.parametrize("said", ["4 flasks in total", "one more flask i meant, so 4", "so 4 altogether"])
def test_a_count_said_as_the_total_sets_the_line(generator, said):
    commands = read(generator, said, _preview(FOUR_FLASKS))

    assert len(commands) == 1 and isinstance(commands[0], SetSlot), commands
    assert (commands[0].slot, commands[0].value) == ("quantity", "4"), commands
    assert commands[0].target is not None and commands[0].target.variant_id == "var_soft_flask", commands


def test_a_step_said_again_when_the_preview_shows_it_changes_nothing(generator):
    assert read(generator, "3 more of those i meant", _preview(FOUR_FLASKS)) == [Preview()]


@pytest.mark.parametrize(
    ("said", "line"),
    [
        ("ditch all of that, i'll just take a black day pack", ("prod_day_pack", "black", None, None)),
        ("forget everything, just a grey beanie", ("prod_beanie", "grey", None, None)),
    ],
)
def test_giving_up_the_cart_for_something_else_empties_it_first(generator, said, line):
    commands = read(generator, said, _preview(TEE, CAP))

    assert isinstance(commands[0], ClearCart), commands
    assert lines(commands) == [line], commands


def test_a_line_given_up_for_another_thing_instead_is_swapped_keeping_its_size(generator):
    commands = read(generator, "drop the tee, the wind shell instead, same size", _preview(TEE, CAP))

    assert [(command.slot, command.value) for command in commands] == [("product", "prod_wind_shell")], commands
    assert commands[0].target.variant_id == TEE.variant_id, commands


def test_the_line_a_change_is_not_about_is_not_removed(generator):
    commands = read(generator, "3 more of the tee, not the cap", _preview(TEE, CAP))

    assert not any(isinstance(command, RemoveItem) for command in commands), commands
    assert [(command.slot, command.value) for command in commands] == [("quantity", "4")], commands


def test_the_other_colour_put_back_is_added_beside_the_line_left(generator):
    red = _line("var_beanie_red", "prod_beanie", "red", quantity=2)

    commands = read(generator, "put the grey one back after all", _preview(red))

    assert lines(commands) == [("prod_beanie", "grey", None, None)], commands


def test_both_put_back_is_two(generator):
    headlamp = _line("var_headlamp", "prod_headlamp", "black")

    commands = read(generator, "put the caps back in, both of them", _preview(headlamp))

    assert lines(commands) == [("prod_run_cap", None, None, 2)], commands


def test_a_thing_said_not_wanted_that_is_already_out_changes_nothing(generator):
    assert read(generator, "i said no red cap", _preview(CAP, TEE)) == [ShowCart()]


@pytest.mark.parametrize("said", ["no wait... ok fine, go ahead and order it", "nope... actually go on then, yes"])
def test_a_doubt_taken_back_then_a_yes_is_a_yes(generator, said):
    assert read(generator, said, _preview(JOGGERS)) == [Confirm()]


def test_a_doubt_taken_back_then_a_change_is_the_change_not_a_yes(generator):
    boots = _line("var_chelsea_boot_black_43", "prod_chelsea_boot", "black", "43")

    commands = read(generator, "nah... actually go on then, but in tan", _preview(boots))

    assert [(command.kind, command.slot, command.value) for command in commands] == [("set_slot", "colour", "tan")]


def test_a_thing_asked_after_to_be_sure_it_is_there_is_no_second_one(generator):
    assert read(generator, "did you get the cap? the white cap", _preview(TEE, CAP)) == [ShowCart()]


def test_another_product_meant_for_a_line_changes_that_line(generator):
    commands = read(generator, "i meant the cotton tee not the tech one - white, L", _preview(TEE, CAP))

    assert [(command.slot, command.value) for command in commands] == [
        ("product", "prod_cotton_tee"),
        ("colour", "white"),
        ("size", "L"),
    ], commands
    assert {command.target.variant_id for command in commands} == {TEE.variant_id}, commands


def test_the_first_product_said_to_be_right_after_all_goes_back_on_the_line(generator):
    commands = read(generator, "hmm you know what, the blue runners were right. 42", _preview(JOGGERS))

    assert [(command.slot, command.value) for command in commands] == [
        ("product", "prod_blue_runner"),
        ("size", "42"),
    ], commands


def test_a_thing_put_back_as_it_was_is_that_thing_alone(generator):
    commands = read(generator, "ok add the headlamp back, same as before", _preview(TEE, CAP))

    assert len(commands) == 1 and isinstance(commands[0], AddItems), commands
    assert lines(commands) == [("prod_headlamp", None, None, None)], commands


@pytest.mark.parametrize("said", ["yeah??", "hello? i said yes. place it"])
def test_a_yes_again_after_the_order_with_nothing_previewed_asks_after_the_order(generator, said):
    flask = _line("var_soft_flask", "prod_soft_flask", "clear")

    assert read(generator, said, DialogueContext(ordered=(flask,))) == [OrderStatus(which="last")]


def test_the_thing_asked_about_named_again_answers_with_what_was_said_of_it(generator):
    asked = PendingQuestion(
        slot="colour", product_id="prod_trail_blazer", options=(Option("green", "green"), Option("black", "black"))
    )

    commands = read(generator, "trail blazers. size 44.", DialogueContext(pending=asked))

    assert [(command.kind, command.slot, command.value) for command in commands] == [("set_slot", "size", "44")]


def test_the_thing_asked_about_given_up_goes_on_without_it(generator):
    asked = PendingQuestion(slot="size", product_id="prod_gloves", options=(Option("S", "S"), Option("M", "M")))

    commands = read(generator, "ok keep the cap, skip the gloves", DialogueContext(cart=(CAP,), pending=asked))

    assert commands == [Preview(without_open_question=True)]


def test_everything_put_back_after_the_cart_was_emptied_is_an_undo(generator):
    assert read(generator, "no wait, bring everything back") == [Undo()]


def test_a_doubt_over_the_price_is_neither_a_yes_nor_a_no(generator):
    commands = read(generator, "hmm not sure... $60 is steep", _preview(TEE))

    assert len(commands) == 1 and isinstance(commands[0], CannotHandle), commands


def test_a_change_of_mind_said_first_is_no_reorder(generator):
    commands = read(generator, "ok changed my mind again: the red beanie please")

    assert [item.saved for command in commands for item in getattr(command, "items", ())] == [None], commands
    assert lines(commands) == [("prod_beanie", "red", None, None)], commands


def test_one_size_up_said_with_the_size_is_no_count(generator):
    blazer = _line("var_trail_blazer_green_42", "prod_trail_blazer", "green", "42")

    commands = read(generator, "one size up i mean, the 42", _preview(blazer))

    assert [(command.slot, command.value) for command in commands] == [("size", "42")], commands
