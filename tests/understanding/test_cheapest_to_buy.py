"""The cheapest (or dearest) of a kind, asked for to buy rather than to look at: "whatever your cheapest t-shirt is,
white, S, two of them" was shown as a list, "add the cheapest water bottle to my cart" too. The reader names the
products and which end of the price; the policy compares the shop's prices (the reader never decides one)."""

from __future__ import annotations

import pytest

from ordering.agent.commands import AddItems, Search, Select, SetSlot
from tests.understanding.reading import lines, read


@pytest.mark.parametrize(
    "said",
    [
        "whatever your cheapest t-shirt is, white, S, two of them",
        "2 of your cheapest tee, white S",
        "the cheapest t-shirt in white S, 2 please",
    ],
)
def test_the_only_product_made_so_is_the_item(generator, said):
    # only the organic cotton tee comes in white: the cheapest white tee is that one, whatever the others cost
    assert lines(read(generator, said)) == [("prod_cotton_tee", "white", "S", 2)]


@pytest.mark.parametrize(
    ("said", "products", "price", "slots"),
    [
        ("add the cheapest water bottle to my cart", {"prod_steel_bottle", "prod_soft_flask"}, "lowest", {}),
        ("i'll take 2 of the cheapest socks", {"prod_run_socks", "prod_wool_socks"}, "lowest", {"quantity": "2"}),
        ("cheapest socks in L x3", {"prod_run_socks", "prod_wool_socks"}, "lowest", {"size": "L", "quantity": "3"}),
        (
            "get me the most expensive running shoes in 43",
            {"prod_blue_runner", "prod_trail_blazer", "prod_tempo_racer", "prod_cloud_jogger"},
            "highest",
            {"size": "43"},
        ),
    ],
)
def test_several_products_are_shown_and_the_cheapest_chosen_by_the_policy(generator, said, products, price, slots):
    commands = read(generator, said)
    (search,) = [command for command in commands if isinstance(command, Search)]
    (select,) = [command for command in commands if isinstance(command, Select)]
    assert set(search.product_ids) == products and search.sort == "price_asc"
    assert select.price == price
    assert {command.slot: command.value for command in commands if isinstance(command, SetSlot)} == slots
    assert not [command for command in commands if isinstance(command, AddItems)]


@pytest.mark.parametrize(
    "said",
    [
        "show me your cheapest hoodies",
        "whats the cheapest running shoe",
        "cheapest white t-shirt in S",  # no sign of buying: a look, cheapest first
        "i want to see the cheapest shoes",
        "add the cheapest socks under 10 bucks",  # a price range: what is there is shown
    ],
)
def test_a_look_at_the_cheapest_stays_a_search(generator, said):
    commands = read(generator, said)
    assert [type(command) for command in commands] == [Search]
    assert commands[0].sort == "price_asc"
