"""The reader on what held-out run 65 found (a second sample of repairs at the preview), in words of our own: the fix
said as what was said before ("i picked white tho?", "i asked for L??", "i said 39!"), as what it is meant to be or
what the preview says ("it says 1?? i need 4"), as a choice ("navy it is"), as "not my size any more", as the colour
of the ones wanted ("nope. red ones"), what a line should be "too", a restart with a line's new colour after it, a
wrong thing with what was asked for, an undo with the count, and the yeses said once it is right. Each was unread (and
the next yes placed the preview unchanged), a count of 39 pairs, one more pair beside the wrong one, or a person
called in."""

from __future__ import annotations

import pytest

from ordering.agent.commands import AddItems, CannotHandle, ClearCart, Confirm, RemoveItem, SetSlot
from tests.understanding.reading import at_preview, read
from tests.understanding.reading import cart_line as _line

BEANIE_GREY = at_preview(_line("var_beanie_grey", "prod_beanie", "grey", None))
TEE_M = at_preview(_line("var_tech_tee_blue_m", "prod_tech_tee", "blue", "M"))
RUNNERS_40 = at_preview(_line("var_blue_runner_40", "prod_blue_runner", "blue", "40"))
CAPS_TWO = at_preview(_line("var_run_cap_white", "prod_run_cap", "white", None, quantity=2))
HIGHS_WHITE = at_preview(_line("var_street_high_white_43", "prod_street_high", "white", "43"))
TEE_AND_SHORTS = at_preview(
    _line("var_tech_tee_black_m", "prod_tech_tee", "black", "M"),
    _line("var_run_shorts_blue_m", "prod_run_shorts", "blue", "M"),
)
CAP_AND_BEANIE = at_preview(
    _line("var_run_cap_white", "prod_run_cap", "white", None), _line("var_beanie_grey", "prod_beanie", "grey", None)
)
RUNNING_SOCKS = at_preview(_line("var_run_socks_white_m", "prod_run_socks", "white", "M"))


def _changes(commands):
    return [(command.slot, command.value) for command in commands if isinstance(command, SetSlot)]


@pytest.mark.parametrize(
    ("said", "context", "change"),
    [
        ("i chose black tho?", BEANIE_GREY, ("colour", "black")),
        ("i asked for XL??", TEE_M, ("size", "XL")),
        ("i said 38!", RUNNERS_40, ("size", "38")),  # a shoe size the shop lacks, never 38 pairs
        ("ok its the red i wanted", BEANIE_GREY, ("colour", "red")),
        ("red it is", BEANIE_GREY, ("colour", "red")),
        ("not my size any more, 42 now", RUNNERS_40, ("size", "42")),
        ("it says 2?? i only need one", CAPS_TWO, ("quantity", "1")),
        ("nope. black ones", HIGHS_WHITE, ("colour", "black")),
        ("undo that, just one", CAPS_TWO, ("quantity", "1")),
    ],
)
def test_a_fix_said_as_what_was_said_before_is_the_change(generator, said, context, change):
    commands = read(generator, said, context)

    assert _changes(commands) == [change], commands
    assert len(commands) == 1


def test_what_a_line_should_be_too_changes_that_line(generator):
    [change] = read(generator, "no the shorts should be black too", TEE_AND_SHORTS)

    assert (change.slot, change.value, change.target.variant_id) == ("colour", "black", "var_run_shorts_blue_m")


def test_a_restart_with_a_new_colour_of_a_line_empties_the_cart_first(generator):
    commands = read(generator, "scrap all that and start over. just a blue running cap", CAP_AND_BEANIE)

    assert isinstance(commands[0], ClearCart)
    [added] = commands[1:]
    assert isinstance(added, AddItems)
    assert [(item.product_ids, item.colour) for item in added.items] == [(("prod_run_cap",), "blue")]


def test_the_wrong_thing_with_what_was_asked_for_swaps_it(generator):
    commands = read(generator, "wrong item, i asked for the merino socks. M", RUNNING_SOCKS)

    assert [type(command) for command in commands] == [RemoveItem, AddItems]
    assert commands[0].target.variant_id == "var_run_socks_white_m"
    assert commands[1].items[0].product_ids == ("prod_wool_socks",)


def test_a_wrong_size_of_one_of_two_lines_is_asked_never_a_person(generator):
    [command] = read(generator, "one of them is the wrong colour", TEE_AND_SHORTS)

    assert isinstance(command, CannotHandle)


@pytest.mark.parametrize(
    "said", ["there we go, place it", "ok now its right, buy it", "phew ok thats right, send it through"]
)
def test_a_yes_once_it_is_right(generator, said):
    assert read(generator, said, BEANIE_GREY) == [Confirm()]


HOODIES_FOR_TWO = at_preview(
    _line("var_zip_hoodie_grey_l", "prod_zip_hoodie", "grey", "L"),
    _line("var_zip_hoodie_grey_s", "prod_zip_hoodie", "grey", "S"),
)


@pytest.mark.parametrize(
    ("said", "person", "change"),
    [
        ("no my sons is M, mine's fine", "son", ("size", "M")),
        ("oh partners is XL", "partner", ("size", "XL")),
        ("wife says blue too", "wife", ("colour", "blue")),
    ],
)
def test_a_persons_line_without_the_apostrophe_or_relayed_is_theirs(generator, said, person, change):
    [command] = read(generator, said, HOODIES_FOR_TWO)

    assert (command.slot, command.value) == change
    assert command.target is not None and command.target.person == person


def test_a_yes_relayed_is_never_read_as_a_value_of_their_line(generator):
    commands = read(generator, "my wife says yes", HOODIES_FOR_TWO)

    assert not any(isinstance(command, SetSlot | Confirm) for command in commands)


def test_the_wrong_code_is_taken_off_for_the_one_meant(generator):
    commands = read(generator, "argh wrong code, ALICE10 i meant", RUNNERS_40)

    assert [command.kind for command in commands] == ["remove_code", "apply_code"]
    assert commands[1].code == "ALICE10"


@pytest.mark.parametrize(
    ("said", "changes"),
    [
        ("not white.. red but in 42", [("colour", "red"), ("size", "42")]),
        ("its meant to be 2 of them, and red", [("quantity", "2"), ("colour", "red")]),
    ],
)
def test_a_fix_after_what_was_wrong_or_what_it_is_meant_to_be_keeps_every_value(generator, said, changes):
    context = at_preview(_line("var_street_high_white_43", "prod_street_high", "white", "43"))
    commands = read(generator, said, context)

    assert sorted(_changes(commands)) == sorted(changes), commands
    assert not any(isinstance(command, AddItems) for command in commands)


def test_the_thing_meant_instead_comes_in_the_size_of_the_line_it_replaces(generator):
    context = at_preview(_line("var_zip_hoodie_grey_l", "prod_zip_hoodie", "grey", "L"))
    commands = read(generator, "no not the zip one, i want the pullover in red", context)

    assert [type(command) for command in commands] == [RemoveItem, AddItems]
    [item] = commands[1].items
    # the size was asked again (and a yes to that question answered nothing)
    assert (item.product_ids, item.colour, item.size) == (("prod_pullover_hoodie",), "red", "L")
