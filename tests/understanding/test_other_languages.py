"""Words of other languages mixed into English (foreign.py), in words of our own: held-out run 22 found counts said in
Spanish, Hindi, Tagalog, French or German lost (one ordered instead of two, three or four), and colours and sizes in
those languages asked again. English messages that hold the same letters ("do you have", "my teen", "at home") are
read as before."""

from __future__ import annotations

import pytest

from ordering.agent.commands import (
    AddItems,
    CannotHandle,
    CartLine,
    ChooseAddress,
    Confirm,
    Decline,
    DialogueContext,
    Thanks,
)
from ordering.agent.understand import OfflineGenerator
from ordering.agent.understand.foreign import english_words

MAT = CartLine(
    variant_id="var_yoga_mat_purple", product_id="prod_yoga_mat", title="Yoga Mat", colour="purple", size=None,
    quantity=1,
)  # fmt: skip
PREVIEW = DialogueContext(cart=(MAT,), awaiting_confirmation=True, addresses=("Home", "Work"))


def _item(generator: OfflineGenerator, text: str):
    (command,) = generator.generate(text=text, context=DialogueContext())
    assert isinstance(command, AddItems) and len(command.items) == 1, command
    return command.items[0]


@pytest.mark.parametrize(
    ("text", "product", "colour", "size", "quantity"),
    [
        ("quiero tres running caps blancas", "prod_run_cap", "white", None, 3),
        ("mujhe teen black fitness band chahiye", "prod_fitness_band", "black", None, 3),
        ("do purple yoga mat bhej dena", "prod_yoga_mat", "purple", None, 2),
        ("tatlong grey wool beanie po", "prod_beanie", "grey", None, 3),
        ("je veux trois tech tee noir taille M", "prod_tech_tee", "black", "M", 3),
        ("drei kettlebell bitte", "prod_kettlebell", None, None, 3),
        ("trail blazer negro talla cuarenta y cuatro", "prod_trail_blazer", "black", "44", None),
        ("chelsea boot schwarz grosse dreiundvierzig", "prod_chelsea_boot", "black", "43", None),
        ("cloud jogger bleu taille quarante-deux", "prod_cloud_jogger", "blue", "42", None),
    ],
)
def test_counts_colours_and_sizes_of_other_languages_are_read(generator, text, product, colour, size, quantity):
    item = _item(generator, text)

    assert item.product_ids == (product,)
    assert (item.colour, item.size, item.quantity) == (colour, size, quantity)


@pytest.mark.parametrize(
    "text",
    ["do you have the grey beanie", "a hoodie for my teen, size M", "yoga mat at home please", "the blue runner"],
)
def test_english_that_holds_the_same_letters_is_left_as_it_is(text):
    assert english_words(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("si, confirmalo porfa", Confirm),
        ("haan ji, order kar do", Confirm),
        ("nein danke", Decline),
        ("no gracias, esta muy caro", Decline),
        ("merci beaucoup", Thanks),
    ],
)
def test_yes_no_and_thanks_of_other_languages_at_a_preview(generator, text, expected):
    commands = generator.generate(text=text, context=PREVIEW)

    assert [type(command) for command in commands] == [expected], commands


def test_where_to_send_it_in_another_language(generator):
    commands = generator.generate(text="mandalo al trabajo por favor", context=PREVIEW)

    assert commands == [ChooseAddress(label="work")]


def test_a_sentence_with_nothing_of_the_shop_in_it_is_not_guessed_at(generator):
    (command,) = generator.generate(text="quisiera algo bonito para mi abuela", context=DialogueContext())

    assert isinstance(command, CannotHandle)
