"""The reader on what held-out run 66 found (an honest sample of a Tuesday's traffic), in words of our own: text-speak
fixes ("shud", "soz"), a code put on again beside a thing added, a product wanted for sunny days, a yes said the way a
letter says it, "hes going to love it", who it is all for before a breakdown, a kind with the size of the person it is
for, whether an order went out, and "just mine" to how many."""

from __future__ import annotations

import pytest

from ordering.agent.commands import (
    AddItems,
    Confirm,
    DialogueContext,
    OrderStatus,
    OutOfScope,
    PendingQuestion,
    Search,
    SetSlot,
    UseMyPromotion,
)
from tests.understanding.reading import at_preview, read
from tests.understanding.reading import cart_line as _line

SHORTS_AND_TEE = at_preview(
    _line("var_run_shorts_black_s", "prod_run_shorts", "black", "S"),
    _line("var_tech_tee_blue_m", "prod_tech_tee", "blue", "M"),
)
BEANIE = at_preview(_line("var_beanie_grey", "prod_beanie", "grey", None))
HOW_MANY_HEADLAMPS = DialogueContext(
    pending=PendingQuestion(slot="quantity", options=(), product_id="prod_headlamp", title="Running Headlamp")
)


def test_text_speak_for_should_and_sorry_is_read_as_the_fix(generator):
    [change] = read(generator, "the shorts shud be M soz", SHORTS_AND_TEE)

    assert (change.slot, change.value, change.target.variant_id) == ("size", "M", "var_run_shorts_black_s")


def test_a_code_put_on_again_beside_a_thing_added_reorders_nothing(generator):
    commands = read(generator, "add a blue cap and stick the code on again", BEANIE)

    [added] = [command for command in commands if isinstance(command, AddItems)]
    assert [(item.product_ids, item.colour, item.saved) for item in added.items] == [(("prod_run_cap",), "blue", None)]
    assert any(isinstance(command, UseMyPromotion) for command in commands)


@pytest.mark.parametrize("said", ["That is quite right. Please place the order.", "great hes gonna love it, place it"])
def test_a_yes_in_the_shoppers_own_words(generator, said):
    assert read(generator, said, BEANIE) == [Confirm()]


def test_a_thing_for_sunny_days_is_bought_and_the_weather_asked_is_out_of_scope(generator):
    [added] = read(generator, "white cap for sunny runs please")
    assert isinstance(added, AddItems) and added.items[0].product_ids == ("prod_run_cap",)

    assert read(generator, "will it be sunny on saturday?") == [OutOfScope(topic="weather")]


def test_who_it_is_all_for_before_a_breakdown_counts_nothing(generator):
    [added] = read(
        generator, "gym kit for both: the older one a black tech tee M, the younger one blue running shorts S"
    )

    assert [(item.product_ids, item.quantity) for item in added.items] == [
        (("prod_tech_tee",), 1),
        (("prod_run_shorts",), 1),
    ]


def test_a_kind_with_the_size_of_the_person_it_is_for_is_bought_and_a_question_about_it_browses(generator):
    [bought] = read(generator, "hoodies for my son, hes an L")
    assert isinstance(bought, AddItems) and bought.items[0].size == "L"
    assert len(bought.items[0].product_ids) == 2  # the policy asks which hoodie

    [browsed] = read(generator, "what hoodies do you have for my son?")
    assert isinstance(browsed, Search)


@pytest.mark.parametrize("said", ["did the beanie i ordered go out?", "did my order go out yet"])
def test_whether_an_order_went_out_is_its_status(generator, said):
    [status] = read(generator, said)

    assert isinstance(status, OrderStatus)


@pytest.mark.parametrize("said", ["ok just mine then, he can wait", "only for me then"])
def test_just_mine_to_how_many_is_one(generator, said):
    assert read(generator, said, HOW_MANY_HEADLAMPS) == [SetSlot(slot="quantity", value="1")]
