"""The reader right after a cart became an order: "and one in red too", "also the same in red but to my work address"
are one more of the line just ordered (a new cart, previewed and confirmed as any), while a change of it ("actually
make it red") is not read as one (the policy says the order is with the shop and offers to cancel it). The lines come
from `DialogueContext.ordered`, which the pipeline fills only while the cart is empty."""

from __future__ import annotations

import pytest

from ordering.agent.commands import (
    AddItems,
    CancelOrder,
    CartLine,
    ChooseAddress,
    Confirm,
    Decline,
    DialogueContext,
    OrderStatus,
    PendingQuestion,
    SetSlot,
    Thanks,
)
from ordering.agent.prompt import SYSTEM_PROMPT, context_from_dict, context_to_dict

GREY_BEANIE = CartLine(
    variant_id="var_beanie_grey", product_id="prod_beanie", title="Wool Beanie", colour="grey", size=None, quantity=1
)
HOODIE = CartLine(
    variant_id="var_zip_hoodie_navy_l", product_id="prod_zip_hoodie", title="Zip Hoodie", colour="navy", size="L",
    quantity=1,
)  # fmt: skip


def _after(*ordered: CartLine) -> DialogueContext:
    return DialogueContext(ordered=ordered, addresses=("Home", "Work"))


def _added(commands) -> list[tuple]:
    return [
        (item.product_ids, item.colour, item.size)
        for command in commands
        if isinstance(command, AddItems)
        for item in command.items
    ]


@pytest.mark.parametrize(
    "message",
    [
        "and one in red too",
        "also the same in red",
        "the same in red please",
        "another one in red",
        "same in red to work",
        "also the same in red but to my work address",
        "another one in red, send it to my work address",
    ],
)
def test_one_more_in_another_colour_is_the_ordered_line_in_it(generator, message):
    commands = generator.generate(text=message, context=_after(GREY_BEANIE))

    assert _added(commands) == [(("prod_beanie",), "red", None)], commands
    work = [command for command in commands if isinstance(command, ChooseAddress)]
    assert [command.label.lower() for command in work] == (["work"] if "work" in message else [])


def test_the_same_in_another_size_keeps_the_ordered_colour(generator):
    commands = generator.generate(text="and the same in M too", context=_after(HOODIE))

    assert _added(commands) == [(("prod_zip_hoodie",), "navy", "M")], commands


@pytest.mark.parametrize("message", ["actually make it red", "red", "no i meant red"])
def test_a_change_of_the_ordered_line_adds_nothing(generator, message):
    commands = generator.generate(text=message, context=_after(GREY_BEANIE))

    assert _added(commands) == [], commands


def test_without_an_order_the_same_words_add_nothing(generator):
    commands = generator.generate(text="and one in red too", context=DialogueContext(addresses=("Home", "Work")))

    assert _added(commands) == [], commands


def test_the_models_context_names_the_lines_just_ordered_and_only_then():
    with_order = context_to_dict(_after(GREY_BEANIE))
    without = context_to_dict(DialogueContext(addresses=("Home", "Work")))

    assert [line["variant_id"] for line in with_order["just_ordered"]] == ["var_beanie_grey"]
    assert "just_ordered" not in without  # the prompt of every other turn is as it was
    assert context_from_dict(with_order).ordered == (GREY_BEANIE,)
    assert "context.just_ordered" in SYSTEM_PROMPT


@pytest.mark.parametrize(
    ("message", "products", "colour"),
    [
        ("cancel the beanie order", ("prod_beanie",), None),
        ("cancel the red beanie", ("prod_beanie",), "red"),
        ("i want to cancel the headlamp i ordered", ("prod_headlamp",), None),
        ("cancel the grey one", (), "grey"),
    ],
)
def test_an_order_to_cancel_named_by_what_is_in_it_carries_it(generator, message, products, colour):
    (command,) = generator.generate(text=message, context=_after(GREY_BEANIE))

    assert isinstance(command, CancelOrder) and command.which == "last"
    assert (command.item.product_ids, command.item.colour) == (products, colour)


@pytest.mark.parametrize("message", ["cancel my order", "cancel my last order"])
def test_an_order_to_cancel_named_by_nothing_is_the_latest(generator, message):
    (command,) = generator.generate(text=message, context=_after(GREY_BEANIE))

    assert isinstance(command, CancelOrder) and command.which == "last" and command.item is None


@pytest.mark.parametrize(
    "message",
    [
        "when will it get here",
        "when do i get it",
        "which card did that go on?",
        "what card did u charge",
        "wait where is it being sent",
        "did u get my order",
        "what did i just order lol",
        "has the headlamp order shipped yet",
        "when will the red one get here",
        "when do my new shoes arrive",
    ],
)
def test_questions_about_the_order_just_placed_are_its_status(generator, message):
    assert generator.generate(text=message, context=_after(GREY_BEANIE)) == [OrderStatus(which="last")]


@pytest.mark.parametrize("message", ["oh and one more for my sister", "oh another one too"])
def test_oh_before_one_more_is_one_more(generator, message):
    commands = generator.generate(
        text=message, context=DialogueContext(cart=(GREY_BEANIE,), awaiting_confirmation=True)
    )

    assert _added(commands) == [(("prod_beanie",), "grey", None)], commands


def test_oh_and_another_product_adds_it_and_keeps_the_line(generator):
    commands = generator.generate(text="oh and a headlamp", context=DialogueContext(cart=(GREY_BEANIE,)))

    assert _added(commands) == [(("prod_headlamp",), None, None)], commands
    assert not [command for command in commands if isinstance(command, SetSlot)]


@pytest.mark.parametrize("message", ["no wait keep it", "hmm no leave it then", "keep it actually"])
def test_keep_it_to_the_cancel_question_is_a_no(generator, message):
    asked = DialogueContext(pending=PendingQuestion(slot="cancel_order", options=()), ordered=(GREY_BEANIE,))

    assert generator.generate(text=message, context=asked) == [Decline()]


def test_yes_thanks_with_nothing_to_confirm_is_thanks(generator):
    assert generator.generate(text="yes thanks", context=_after(GREY_BEANIE)) == [Thanks()]
    waiting = DialogueContext(cart=(GREY_BEANIE,), awaiting_confirmation=True)
    assert generator.generate(text="yes thanks", context=waiting) == [Confirm()]
