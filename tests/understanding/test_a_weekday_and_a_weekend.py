"""The reader on held-out runs 55 and 56 (a weekday's and a weekend's honest sample), in words of our own."""

from __future__ import annotations

import pytest

from ordering.agent.commands import (
    AddItems,
    CartLine,
    ChooseShipping,
    DialogueContext,
    SetSlot,
    ShowCart,
    Thanks,
)
from tests.understanding.reading import read


def _line(variant: str, product: str, colour: str | None = None, size: str | None = None, quantity: int = 1):
    return CartLine(variant_id=variant, product_id=product, title=product, colour=colour, size=size, quantity=quantity)


FLASKS = _line("var_soft_flask", "prod_soft_flask", "clear", quantity=2)
HEADLAMP = _line("var_headlamp", "prod_headlamp", "black")
AT_PREVIEW = DialogueContext(cart=(FLASKS, HEADLAMP), awaiting_confirmation=True)


@pytest.mark.parametrize("said", ["just the flasks and the headlamp then", "only the headlamp and flasks please"])
def test_keeping_every_line_said_at_the_preview_is_the_order_as_it_is(generator, said):
    # a thing the shop has not got was left out; naming what is left orders nothing more (it added them all again)
    assert read(generator, said, AT_PREVIEW) == [ShowCart()]


CHINOS = DialogueContext(cart=(_line("var_chinos_navy_l", "prod_chinos", "navy", "L"),), awaiting_confirmation=True)


@pytest.mark.parametrize(
    "said", ["scrap the express, standard's fine", "forget about express", "nah it can come normal", "ditch express"]
)
def test_express_taken_back_is_standard(generator, said):
    # "forget express" chose express
    assert read(generator, said, CHINOS) == [ChooseShipping(option="standard")]


BOOT = DialogueContext(
    cart=(_line("var_chelsea_boot_black_44", "prod_chelsea_boot", "black", "44"),), awaiting_confirmation=True
)


@pytest.mark.parametrize(
    "said", ["hmm hold on, the missus says tan", "oh hang on, my other half reckons tan looks nicer"]
)
def test_a_change_relayed_after_a_pause_is_the_change(generator, said):
    commands = read(generator, said, BOOT)
    assert [(c.slot, c.value) for c in commands if isinstance(c, SetSlot)] == [("colour", "tan")], commands
    assert all(isinstance(c, SetSlot) for c in commands), commands


@pytest.mark.parametrize("said", ["um hold on, make it 45", "ah hang on, 45 please"])
def test_a_pause_before_a_change_is_no_search(generator, said):
    commands = read(generator, said, BOOT)
    assert [(c.slot, c.value) for c in commands if isinstance(c, SetSlot)] == [("size", "45")], commands
    assert all(isinstance(c, SetSlot) for c in commands), commands


HOODIE = DialogueContext(
    cart=(_line("var_zip_hoodie_navy_m", "prod_zip_hoodie", "navy", "M"),), awaiting_confirmation=True
)


@pytest.mark.parametrize(
    "said", ["and my bloke wants one as well, grey L", "another one, grey, L", "the fella wants one too, grey in L"]
)
def test_one_more_for_someone_with_a_size_letter_said_last(generator, said):
    commands = read(generator, said, HOODIE)
    items = [item for c in commands if isinstance(c, AddItems) for item in c.items]
    assert [(i.product_ids, i.colour, i.size) for i in items] == [(("prod_zip_hoodie",), "grey", "L")], commands


JACKETS = DialogueContext(
    cart=(
        _line("var_rain_jacket_blue_s", "prod_rain_jacket", "blue", "S"),
        _line("var_rain_jacket_yellow_l", "prod_rain_jacket", "yellow", "L"),
        _line("var_beanie_grey", "prod_beanie", "grey"),
    ),
    awaiting_confirmation=True,
)


@pytest.mark.parametrize("said", ["make mine an M, not S", "and mine in M not the S"])
def test_the_value_replaced_names_the_line(generator, said):
    # whose is mine the reader does not know; the one line in S is the one meant (it asked which of three)
    commands = read(generator, said, JACKETS)
    assert [(c.slot, c.value, c.target and c.target.variant_id) for c in commands] == [
        ("size", "M", "var_rain_jacket_blue_s")
    ], commands


@pytest.mark.parametrize("said", ["cheers pal, have a great weekend", "ta mate, have a good one"])
def test_a_goodbye_with_one_in_it_is_thanks(generator, said):
    assert read(generator, said, DialogueContext()) == [Thanks()]


def test_the_person_said_with_the_is_counted(generator):
    commands = read(generator, "court classics 43 for me and the lad", DialogueContext())
    assert [(i.product_ids, i.size, i.quantity) for c in commands for i in c.items] == [
        (("prod_court_classic",), "43", 2)
    ], commands
