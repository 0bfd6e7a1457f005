"""The reader on "one of each" said as the answer to "which colour?" or "which size?": every value offered, with the
count said for each (the policy shares the item among them: tests/conversations/test_dialog.py)."""

from __future__ import annotations

import pytest

from ordering.agent.commands import DialogueContext, Option, PendingQuestion, SetSlot


def _asked(slot: str, product_id: str, *values: str) -> DialogueContext:
    options = tuple(Option(value=value, label=value) for value in values)
    return DialogueContext(pending=PendingQuestion(slot=slot, product_id=product_id, options=options))


CAP_COLOUR = _asked("colour", "prod_run_cap", "blue", "white")
TEE_SIZE = _asked("size", "prod_tech_tee", "S", "M", "L", "XL")
TEE_COLOUR = _asked("colour", "prod_tech_tee", "black", "blue", "orange", "grey", "white")


def _values(commands) -> list[tuple[str, str]]:
    return [(command.slot, command.value) for command in commands if isinstance(command, SetSlot)]


@pytest.mark.parametrize("text", ["one of each", "one of each please", "1 of each", "one in each colour"])
def test_one_of_each_is_every_colour_offered_one_each(generator, text):
    commands = generator.generate(text=text, context=CAP_COLOUR)
    assert _values(commands) == [("colour", "blue"), ("colour", "white"), ("quantity", "1")]


@pytest.mark.parametrize("text", ["both", "both colours", "both of them pls", "i'll take both"])
def test_both_is_the_two_colours_offered_with_the_count_left_to_the_item(generator, text):
    commands = generator.generate(text=text, context=CAP_COLOUR)
    assert _values(commands) == [("colour", "blue"), ("colour", "white")]


def test_two_of_each_carries_the_count_for_each(generator):
    commands = generator.generate(text="2 of each", context=CAP_COLOUR)
    assert _values(commands) == [("colour", "blue"), ("colour", "white"), ("quantity", "2")]


def test_all_sizes_offered(generator):
    commands = generator.generate(text="all of them", context=TEE_SIZE)
    assert _values(commands) == [("size", "S"), ("size", "M"), ("size", "L"), ("size", "XL")]


def test_both_is_not_every_one_of_more_than_two_and_five_colours_are_never_all_taken(generator):
    # "both" of five colours names no two of them; "one of each" of five is not guessed into five tees
    assert ("colour", "black") not in _values(generator.generate(text="both", context=TEE_COLOUR))
    assert len(_values(generator.generate(text="one of each", context=TEE_COLOUR))) < 5


def test_one_of_each_with_no_question_open_is_no_answer(generator):
    commands = generator.generate(text="one of each", context=DialogueContext())
    assert _values(commands) == []


# -- several typos in one message (not in this file's theme, but the same evening's fix: H33) ------------------------


@pytest.mark.parametrize(
    ("text", "product", "colour", "size"),
    [
        ("zip hodie navvy larg", "prod_zip_hoodie", "navy", "L"),  # three typos in four words: no foreign sentence
        ("tempo racer in whit 44", "prod_tempo_racer", "white", "44"),  # "whit" is an old English word, and white
        ("the day pak in black", "prod_day_pack", "black", None),  # "pak": too short for a typo fix
    ],
)
def test_typos_of_the_shops_words_are_read_however_many(generator, text, product, colour, size):
    (command,) = generator.generate(text=text, context=DialogueContext())
    (item,) = command.items
    assert (item.product_ids, item.colour, item.size) == ((product,), colour, size)


@pytest.mark.parametrize(
    ("text", "colour"),
    [("hola quiero zapatillas para correr talla 42", None), ("je voudrais des chaussures bleues taille 42", "blue")],
)
def test_a_sentence_in_another_language_is_read_by_the_words_that_carry_the_order(generator, text, colour):
    # shoes in 42 (and blue), which of them asked next: never a guess such as 42 jackets
    (command,) = generator.generate(text=text, context=DialogueContext())
    (item,) = command.items
    assert "prod_blue_runner" in item.product_ids and len(item.product_ids) > 1
    assert (item.colour, item.size, item.quantity) == (colour, "42", None)


@pytest.mark.parametrize("text", ["quisiera algo bonito para mi abuela", "ich suche etwas schönes für meine oma"])
def test_a_sentence_in_another_language_with_nothing_of_the_shop_is_not_guessed_at(generator, text):
    (command,) = generator.generate(text=text, context=DialogueContext())
    assert command.kind == "cannot_handle"
