"""The reader on what held-out run 37 left (kit for an occasion), in words of our own: a cart line named by its price
("too much, drop the most expensive thing") was not understood, and neither was a size step said verb first ("go up a
size, i'll be in thick socks"), which read the socks of the story as the thing to change to. The policy's side (the
shop's prices compared, a tie asked about): tests/conversations/test_changes_by_price_and_size_step.py."""

from __future__ import annotations

import pytest

from ordering.agent.commands import CartLine, DialogueContext, RemoveItem, Search, SetSlot
from tests.understanding.reading import read

KIT = DialogueContext(
    cart=(
        CartLine(variant_id="var_rain_jacket_blue_m", product_id="prod_rain_jacket", title="Packable Rain Jacket",
                 colour="blue", size="M", quantity=1),
        CartLine(variant_id="var_day_pack_black", product_id="prod_day_pack", title="20L Day Pack", colour="black",
                 size=None, quantity=1),
        CartLine(variant_id="var_wool_socks_m", product_id="prod_wool_socks", title="Merino Hiking Socks",
                 colour="grey", size="M", quantity=1),
    ),
    awaiting_confirmation=True,
)  # fmt: skip
BOOTS = DialogueContext(
    cart=(
        CartLine(variant_id="var_hiking_boot_42", product_id="prod_hiking_boot", title="Summit Hiking Boot",
                 colour="brown", size="42", quantity=1),
    ),
    awaiting_confirmation=True,
)  # fmt: skip


@pytest.mark.parametrize(
    ("said", "which"),
    [
        ("way over budget, drop the most expensive thing", "highest"),
        ("lose the priciest item", "highest"),
        ("take the dearest one out pls", "highest"),
        ("without the most expensive one then", "highest"),
        ("remove the cheapest thing", "lowest"),
        ("get rid of the least expensive item", "lowest"),
    ],
)
def test_a_line_named_by_its_price_is_removed_by_price(generator, said, which):
    assert read(generator, said, KIT) == [RemoveItem(price=which)]


def test_a_product_named_beside_the_price_is_the_line_and_a_question_about_the_shop_is_a_search(generator):
    [removed] = read(generator, "drop the most expensive of the socks", KIT)
    assert isinstance(removed, RemoveItem) and removed.price == "" and removed.target is not None
    assert removed.target.variant_id == "var_wool_socks_m"
    [search] = read(generator, "what's the most expensive thing you sell?", KIT)
    assert isinstance(search, Search) and search.sort == "price_desc"
    # with nothing in the cart, there is no line to take out by price
    assert not any(isinstance(command, RemoveItem) for command in read(generator, "drop the most expensive one"))


@pytest.mark.parametrize(
    ("said", "size"),
    [
        ("go up a size", "43"),
        ("actually go up a size, i'll be in thick socks", "43"),
        ("can we go down one size", "41"),
        ("up two sizes please, my feet swell on long walks", "44"),
        ("bump it up a size", "43"),
    ],
)
def test_a_size_step_said_verb_first_changes_the_one_sized_line(generator, said, size):
    [change] = read(generator, said, BOOTS)
    assert isinstance(change, SetSlot) and (change.slot, change.value, change.correction) == ("size", size, True)
    assert change.target is not None and change.target.variant_id == "var_hiking_boot_42"


def test_a_pause_to_check_the_old_kit_first_is_a_pause(generator):
    from ordering.agent.commands import Thanks

    said = "hmm let me see if my old boots will survive one more trip first"
    assert read(generator, said, BOOTS) == [Thanks()]
