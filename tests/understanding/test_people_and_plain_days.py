"""The reader on held-out runs 51 (buying for several people at once) and 53 (an honest day), in words of our own.
Each was misread before, most into a wrong order: each person's values said to a question kept the first value on
both things ("S for me, he's an XL"); a change said of a person ("make hers blue", "his is a 43", "drop mine") was not
understood or went to the last line; "can i have it sooner? don't mind paying more" was a search and the yes placed
standard; "blue cap - how much is express?" chose express; "standard's fine" was not understood; "L then, black, 3
packs" lost the L; "uk sizes pls" did not answer the US/UK question."""

from __future__ import annotations

import pytest

from ordering.agent.commands import (
    AddItems,
    CartLine,
    ChooseShipping,
    DialogueContext,
    ItemSpec,
    Option,
    OutOfScope,
    PendingQuestion,
    ProductQuestion,
    RemoveItem,
    SetSlot,
)
from tests.understanding.reading import lines, read


def _line(variant: str, product: str, colour: str | None = None, size: str | None = None):
    return CartLine(variant_id=variant, product_id=product, title=product, colour=colour, size=size, quantity=1)


TWO_TEES = DialogueContext(
    cart=(
        _line("var_tech_tee_black_m", "prod_tech_tee", "black", "M"),
        _line("var_tech_tee_black_s", "prod_tech_tee", "black", "S"),
    ),
    awaiting_confirmation=True,
)


def _asked(slot: str, product: str, quantity: int, *values: str) -> DialogueContext:
    options = tuple(Option(value, value) for value in values)
    return DialogueContext(
        pending=PendingQuestion(slot=slot, options=options, product_id=product, title=product, quantity=quantity)
    )


# -- several people ------------------------------------------------------------------------------------------------


def test_each_persons_things_said_in_one_message_carry_their_person(generator):
    [add] = read(generator, "black running shorts, M for me and S for my nephew")

    assert isinstance(add, AddItems)
    assert [(item.size, item.person) for item in add.items] == [("M", "me"), ("S", "nephew")]


@pytest.mark.parametrize(
    ("said", "first", "second"),
    [
        ("S for me, he's an XL", {"size": "S"}, ("prod_tech_tee", None, "XL", 1)),
        ("blue L for me and black M for her", {"colour": "blue", "size": "L"}, ("prod_tech_tee", "black", "M", 1)),
    ],
)
def test_each_persons_values_to_a_question_answer_it_and_add_the_others(generator, said, first, second):
    commands = read(generator, said, _asked("size", "prod_tech_tee", 2, "S", "M", "L", "XL"))

    answered = {command.slot: command.value for command in commands if isinstance(command, SetSlot)}
    assert answered == {"quantity": "1", **first}, commands
    assert lines(commands) == [second], commands


def test_counts_of_two_colours_after_an_answer_about_one_product_are_two_things(generator):
    shown = DialogueContext(last_shown=(Option("prod_beanie", "Wool Beanie"),))

    commands = read(generator, "right, 1 in red and 2 in grey then", shown)

    assert lines(commands) == [("prod_beanie", "red", None, 1), ("prod_beanie", "grey", None, 2)], commands


@pytest.mark.parametrize(
    ("said", "change"),
    [
        ("make hers the M and leave mine", SetSlot(slot="size", value="M", correction=True)),
        ("mine should be an L", SetSlot(slot="size", value="L", correction=True)),
        ("my daughter's one in blue please", SetSlot(slot="colour", value="blue", correction=True)),
        ("she says orange actually", SetSlot(slot="colour", value="orange", correction=True)),
    ],
)
def test_a_change_said_of_a_person_points_at_that_persons_line(generator, said, change):
    [command] = read(generator, said, TWO_TEES)

    assert (command.slot, command.value) == (change.slot, change.value), command
    assert command.target is not None and command.target.person in ("her", "me", "daughter"), command


def test_a_removal_said_of_a_person_points_at_that_persons_line(generator):
    [command] = read(generator, "scrap hers, she has loads", TWO_TEES)

    assert command == RemoveItem(target=ItemSpec(person="her"))


def test_a_person_word_with_one_line_in_the_cart_is_read_as_before(generator):
    one = DialogueContext(cart=TWO_TEES.cart[:1], awaiting_confirmation=True)

    [command] = read(generator, "make mine an L", one)

    assert (command.slot, command.value, command.target) == ("size", "L", None), command


# -- an honest day -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "said", ["can i have it sooner? don't mind paying more", "i need them faster", "could you send it quicker"]
)
def test_sooner_or_faster_is_express(generator, said):
    assert read(generator, said, TWO_TEES) == [ChooseShipping(option="express")]


def test_a_thing_then_a_question_about_express_adds_it_and_answers(generator):
    commands = read(generator, "white running cap - how much is express?")

    assert lines(commands) == [("prod_run_cap", "white", None, None)], commands
    assert OutOfScope(topic="shipping") in commands
    assert not any(isinstance(command, ChooseShipping) for command in commands)


@pytest.mark.parametrize("said", ["ok standard's fine", "standard's good thanks"])
def test_standard_s_fine_is_standard(generator, said):
    assert read(generator, said, TWO_TEES) == [ChooseShipping(option="standard")]


def test_one_of_them_s_enough_adds_nothing_more(generator):
    commands = read(generator, "just the cap, one beanie's enough")

    assert ("prod_beanie", None, None, 1) not in lines(commands), commands


def test_a_plan_said_after_a_question_is_no_product(generator):
    [question] = read(generator, "what sizes do the chelsea boots come in? might be buying a pair")

    assert isinstance(question, ProductQuestion) and question.item.product_ids == ("prod_chelsea_boot",), question


def test_who_said_a_code_may_be_used_is_no_product(generator):
    commands = read(generator, "a red beanie, and use STAFF100, your support guy told me its fine")

    assert lines(commands) == [("prod_beanie", "red", None, None)], commands


def test_a_letter_size_beside_a_count_about_the_product_answered_about_is_its_size(generator):
    shown = DialogueContext(last_shown=(Option("prod_run_socks", "Running Socks 3-pack"),))

    assert lines(read(generator, "S then, black, 3 packs", shown)) == [("prod_run_socks", "black", "S", 3)]


@pytest.mark.parametrize(("said", "size"), [("uk sizes pls", "43"), ("its us sizing", "42")])
def test_the_size_system_said_with_words_around_it_answers_which(generator, said, size):
    asked = DialogueContext(
        pending=PendingQuestion(
            slot="size", options=(Option("42", "42"), Option("43", "43")), product_id="prod_court_classic"
        )
    )

    assert read(generator, said, asked) == [SetSlot(slot="size", value=size)]


@pytest.mark.parametrize(
    ("said", "colours"),
    [
        ("black and grey gym duffels", ["black", "grey"]),
        ("purple and blue yoga mats for me and my mum", ["purple", "blue"]),
    ],
)
def test_two_colours_of_one_thing_are_one_of_each(generator, said, colours):
    [add] = read(generator, said)

    assert [item.colour for item in add.items] == colours, add


def test_two_colours_with_a_count_before_them_are_not_split_on_a_guess(generator):
    commands = read(generator, "3 pairs of black and white running socks M")

    assert len(lines(commands)) <= 1, commands


def test_a_size_said_of_one_persons_share_of_a_line_splits_the_line(generator):
    jackets = DialogueContext(
        cart=(CartLine("var_rain_jacket_yellow_m", "prod_rain_jacket", "Packable Rain Jacket", "yellow", "M", 2),),
        awaiting_confirmation=True,
    )

    commands = read(generator, "oh wait my brother's is an L", jackets)

    assert lines(commands) == [("prod_rain_jacket", "yellow", "L", 1)], commands
    assert any(isinstance(command, SetSlot) and command.value == "1" for command in commands), commands


def test_each_ones_size_said_first_is_a_thing_each(generator):
    [add] = read(generator, "my size is 44 and my brother's is 41, trail blazers in black")

    assert [(item.colour, item.size, item.person) for item in add.items] == [
        ("black", "44", "me"),
        ("black", "41", "brother"),
    ], add


def test_a_count_written_after_the_thing_stands_beside_who_one_is_for(generator):
    assert lines(read(generator, "soft flask x2, one for my dad")) == [("prod_soft_flask", None, None, 2)]


def test_what_one_person_of_a_line_of_two_says_is_their_one_in_all_of_it(generator):
    jackets = DialogueContext(
        cart=(CartLine("var_rain_jacket_blue_m", "prod_rain_jacket", "Packable Rain Jacket", "blue", "M", 2),),
        awaiting_confirmation=True,
    )

    commands = read(generator, "he's an L, and he wants yellow", jackets)

    assert lines(commands) == [("prod_rain_jacket", "yellow", "L", 1)], commands
    [kept] = [command for command in commands if isinstance(command, SetSlot)]
    assert (kept.value, kept.target.variant_id) == ("1", "var_rain_jacket_blue_m"), commands


def test_sizes_said_before_the_thing_are_its_sizes(generator):
    said_before = DialogueContext(values_said="an L for me and an S for my niece please")

    [add] = read(generator, "the cargo shorts", said_before)

    assert [(item.size, item.person) for item in add.items] == [("L", "me"), ("S", "niece")], add


def test_a_size_said_before_a_thing_that_has_no_sizes_is_not_its(generator):
    said_before = DialogueContext(values_said="a large please")

    assert lines(read(generator, "white running cap", said_before)) == [("prod_run_cap", "white", None, None)]
