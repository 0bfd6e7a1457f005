"""The reader on held-out run 25 (dates, times, deadlines and delivery wishes), in words of our own. Each case here
was read wrong before: "trip on 12/20" ordered 12 of a "trip", "home after 5:30" five fitness bands, "since 2019" 2019
beanies, "3 day shipping on a duffel" three duffels, and a part that only said when ("need em by friday", "7am
flight") was searched for as an item."""

from __future__ import annotations

import pytest

from ordering.agent.commands import (
    AddItems,
    CartLine,
    ChooseShipping,
    DialogueContext,
    Option,
    OutOfScope,
    PendingQuestion,
    SetSlot,
)
from ordering.agent.understand import OfflineGenerator
from ordering.agent.understand.text import normalize

RUNNER_42 = CartLine(
    variant_id="var_blue_runner_42", product_id="prod_blue_runner", title="Blue Runner", colour="blue", size="42",
    quantity=1,
)  # fmt: skip
PREVIEW = DialogueContext(cart=(RUNNER_42,), awaiting_confirmation=True)


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


@pytest.mark.parametrize(
    "said",
    ["how much more is express?", "is standard shipping free?", "whats faster, express or standard?"],
)
def test_a_question_about_a_shipping_option_asks_and_chooses_nothing(generator, said):
    commands = generator.generate(text=said, context=PREVIEW)
    assert commands == [OutOfScope(topic="shipping")], commands


def test_a_question_about_shipping_then_a_choice_is_the_choice(generator):
    assert generator.generate(text="express isnt free? ok standard then", context=PREVIEW) == [
        ChooseShipping(option="standard")
    ]


@pytest.mark.parametrize("said", ["dont do express on the shell", "never express pls, lime wind shell M"])
def test_express_said_with_a_do_not_is_standard(generator, said):
    assert ChooseShipping(option="standard") in generator.generate(text=said, context=DialogueContext())


def test_a_count_before_a_colour_answering_which_colour_of_a_cap_is_the_count(generator):
    asked = DialogueContext(
        pending=PendingQuestion(
            slot="colour", product_id="prod_run_cap", title="Running Cap",
            options=(Option(value="blue", label="blue"), Option(value="white", label="white")),
        )
    )  # fmt: skip
    commands = generator.generate(text="3 white, we need them by the 2nd", context=asked)
    assert commands == [SetSlot(slot="colour", value="white"), SetSlot(slot="quantity", value="3")]


def test_both_said_with_a_deadline_is_no_count_and_a_would_like_it_is_no_liked_item(generator):
    beanie = CartLine(
        variant_id="var_beanie_grey", product_id="prod_beanie", title="Wool Beanie", colour="grey", size=None,
        quantity=1,
    )  # fmt: skip
    commands = generator.generate(
        text="plus a black one, both before friday", context=DialogueContext(cart=(beanie,), awaiting_confirmation=True)
    )
    assert [(item.colour, item.quantity) for command in commands for item in command.items] == [("black", 1)]
    assert _items(generator, "grey zip hoodie M, i would like it by the 12th") == [
        (("prod_zip_hoodie",), "grey", "M", None, "")
    ]


@pytest.mark.parametrize("said", ["ok do express", "do standard then"])
def test_do_express_is_a_choice_not_a_question(generator, said):
    [command] = generator.generate(text=said, context=PREVIEW)
    assert isinstance(command, ChooseShipping), command


@pytest.mark.parametrize(
    "said", ["is possible more fast? express", "is it possible to get express", "can i get express"]
)
def test_asking_whether_express_is_possible_asks_for_it(generator, said):
    assert generator.generate(text=said, context=PREVIEW) == [ChooseShipping(option="express")]


def test_the_length_of_an_occasion_goes_with_its_for_and_the_size_said_before_stays(generator):
    assert _items(generator, "2 pairs of running socks L for the 5 day hike") == [
        (("prod_run_socks",), None, "L", 2, "")
    ]


def test_as_quick_as_possible_is_express(generator):
    commands = generator.generate(text="grey beanie, as fast as possible", context=DialogueContext())
    assert ChooseShipping(option="express") in commands


def test_a_summary_then_a_dash_and_the_things_in_full_is_the_things_in_full(generator):
    assert _items(generator, "a cap and 2 beanies for sunday - the white cap and the beanie in red") == [
        (("prod_run_cap",), "white", None, None, ""),
        (("prod_beanie",), "red", None, 2, ""),
    ]
