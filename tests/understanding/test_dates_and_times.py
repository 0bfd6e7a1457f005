"""The reader on held-out run 25 (dates, times, deadlines and delivery wishes), in words of our own. Each case here
was read wrong before: "trip on 12/20" ordered 12 of a "trip", "home after 5:30" five fitness bands, "since 2019" 2019
beanies, "3 day shipping on a duffel" three duffels, and a part that only said when ("need em by friday", "7am
flight") was searched for as an item."""

from __future__ import annotations

import pytest

from ordering.agent.commands import AddItems, ChooseShipping, DialogueContext
from ordering.agent.understand import OfflineGenerator
from ordering.agent.understand.text import normalize
from ordering.evaluation.messages import demo_lexicon


@pytest.fixture(scope="module")
def generator() -> OfflineGenerator:
    return OfflineGenerator(demo_lexicon())


def _items(generator: OfflineGenerator, text: str) -> list[tuple]:
    commands = generator.generate(text=text, context=DialogueContext())
    return [
        (item.product_ids, item.colour, item.size, item.quantity, item.query)
        for command in commands
        if isinstance(command, AddItems)
        for item in command.items
    ]


@pytest.mark.parametrize(
    ("said", "read"),
    [
        ("flying out 11/30, grey beanie", "flying out , grey beanie"),
        ("back at 6:45 most nights", "back most nights"),
        ("meeting at 9am", "meeting"),
        ("had these since 2018", "had these"),
        ("a 5 day hike", "a hike"),
    ],
)
def test_dates_times_years_and_lengths_are_dropped_with_their_words(said, read):
    assert " ".join(normalize(said).split()) == read


@pytest.mark.parametrize(
    ("said", "product", "quantity"),
    [
        ("holiday on 12/24, need the white running cap", "prod_run_cap", None),
        ("im free after 4:30, soft flask please", "prod_soft_flask", None),
        ("my headlamp from 2017 died, need a new one", "prod_headlamp", 1),
        ("2 pairs of merino socks for the 4 day trek, size L", "prod_wool_socks", 2),
    ],
)
def test_a_date_or_time_beside_the_order_is_no_count_and_no_item(generator, said, product, quantity):
    [(products, _, _, count, query)] = _items(generator, said)
    assert products == (product,) and count == quantity and not query, (said, products, count, query)


def test_a_part_that_only_says_when_is_no_item(generator):
    items = _items(generator, "wool beanie red, need it by saturday")
    assert [products for products, *_ in items] == [("prod_beanie",)]
    assert _items(generator, "early flight tomorrow, sunglasses please") == [
        (("prod_sunglasses",), None, None, None, "")
    ]


@pytest.mark.parametrize(
    ("said", "option"),
    [("next day delivery on a grey beanie", "express"), ("5 day shipping is fine, grey beanie", "standard")],
)
def test_shipping_said_in_days_is_a_shipping_speed_and_no_count(generator, said, option):
    commands = generator.generate(text=said, context=DialogueContext())
    assert ChooseShipping(option=option) in commands
    [add] = [command for command in commands if isinstance(command, AddItems)]
    assert [item.quantity for item in add.items] == [None]
