"""The reader on "the same" said of several lines or of another person's line (held-out run 51, in words of our own):
"and the same for my brother" after two things is one more of each for him (it was asked which, and a yes to that
question placed the order without his), and "make hers the same size as mine" is her line in my line's size (it was not
understood, and a yes to the preview shown again placed it unchanged)."""

from __future__ import annotations

import pytest

from ordering.agent.commands import AddItems, CannotHandle, DialogueContext, ItemSpec, RemoveItem, SetSlot
from tests.understanding.reading import cart_line as _line
from tests.understanding.reading import lines, read

CAP_AND_BEANIE = DialogueContext(
    cart=(_line("var_run_cap_white", "prod_run_cap", "white"), _line("var_beanie_grey", "prod_beanie", "grey")),
    awaiting_confirmation=True,
)
TEE_AND_SHOES = DialogueContext(
    cart=(
        _line("var_tech_tee_black_l", "prod_tech_tee", "black", "L"),
        _line("var_blue_runner_42", "prod_blue_runner", "blue", "42"),
    ),
    awaiting_confirmation=True,
)


@pytest.mark.parametrize(
    "said", ["and the same for my brother", "same again for my sister please", "oh and the same for her too"]
)
def test_the_same_for_someone_after_several_things_is_one_more_of_each_for_them(generator, said):
    commands = read(generator, said, CAP_AND_BEANIE)
    assert lines(commands) == [("prod_run_cap", "white", None, None), ("prod_beanie", "grey", None, None)], commands
    [added] = commands
    assert isinstance(added, AddItems) and len({item.person for item in added.items}) == 1, commands
    assert added.items[0].person not in (None, "me"), commands


def test_a_size_said_goes_to_the_lines_it_fits_and_a_shoe_size_is_never_copied(generator):
    commands = read(generator, "and the same for her in S", TEE_AND_SHOES)
    # the tee in S; her shoe size is not the customer's 42 (asked by the policy)
    assert lines(commands) == [("prod_tech_tee", "black", "S", None), ("prod_blue_runner", "blue", None, None)]
    commands = read(generator, "the same for my son, he's a 44", TEE_AND_SHOES)
    assert lines(commands) == [("prod_tech_tee", "black", None, None), ("prod_blue_runner", "blue", "44", None)]


def test_a_colour_said_with_the_same_of_several_things_is_asked(generator):
    # "but in red": red of which of them is not known
    [command] = read(generator, "and the same for him but in red", CAP_AND_BEANIE)
    assert isinstance(command, CannotHandle) and command.reason.startswith("ambiguous: which lines"), command


def test_only_one_of_them_for_her_after_the_same_of_both_keeps_only_that_one_of_hers(generator):
    both_for_her = DialogueContext(
        cart=(
            _line("var_tech_tee_black_l", "prod_tech_tee", "black", "L"),
            _line("var_run_socks_black_l", "prod_run_socks", "black", "L"),
            _line("var_tech_tee_black_s", "prod_tech_tee", "black", "S"),
            _line("var_run_socks_black_s", "prod_run_socks", "black", "S"),
        ),
        awaiting_confirmation=True,
    )
    commands = read(generator, "only the tee for her, in S", both_for_her)
    # her socks go; it added one more tee
    assert commands == [RemoveItem(target=ItemSpec(product_ids=("prod_run_socks",), person="her"))], commands


TWO_TEES = DialogueContext(
    cart=(
        _line("var_cotton_tee_white_m", "prod_cotton_tee", "white", "M"),
        _line("var_cotton_tee_black_s", "prod_cotton_tee", "black", "S"),
    ),
    awaiting_confirmation=True,
)


@pytest.mark.parametrize(
    ("said", "slot", "value", "person"),
    [
        ("make hers the same size as mine", "size", "=me", "her"),
        ("ah, hers in the same size as mine please", "size", "=me", "her"),
        ("give him the same size as me", "size", "=me", "him"),
        ("his should be the same colour as mine", "colour", "=me", "him"),
        ("make my sister's the same size as mine", "size", "=me", "sister"),
        ("make mine the same colour as my mums", "colour", "=mum", "me"),
        ("same size as mine for my son please", "size", "=me", "son"),
        ("could you make his the same size as mine?", "size", "=me", "him"),
    ],
)
def test_the_same_size_or_colour_as_someone_elses_is_that_persons_value(generator, said, slot, value, person):
    commands = read(generator, said, TWO_TEES)
    assert commands == [SetSlot(slot=slot, value=value, target=ItemSpec(person=person), correction=True)], commands
