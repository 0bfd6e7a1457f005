"""The reader on held-out run 19's wrong orders (a busy weekend typed on phones): "M for me L for them" counts the
people "them" are, "X to go with" adds X, another thing named first is no answer to a question about the one asked
about, and "the one I liked" after a named thing says which one it is."""

from __future__ import annotations

import pytest

from ordering.agent.commands import AddItems, CartLine, DialogueContext, Option, PendingQuestion

JACKET = CartLine(
    variant_id="var_rain_jacket_blue_s", product_id="prod_rain_jacket", title="Packable Rain Jacket", colour="blue",
    size="S", quantity=1,
)  # fmt: skip
DUFFEL_COLOUR = DialogueContext(
    pending=PendingQuestion(
        slot="colour", product_id="prod_gym_duffel", options=(Option("black", "black"), Option("grey", "grey"))
    )
)


def _lines(commands) -> list[tuple[str, str | None, str | None, int | None]]:
    (command,) = commands
    assert isinstance(command, AddItems), commands
    return [(item.product_ids[0], item.colour, item.size, item.quantity) for item in command.items]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "black tech tees for me and my 2 brothers, M for me L for them",
            [("prod_tech_tee", "black", "M", 1), ("prod_tech_tee", "black", "L", 2)],
        ),
        (
            "tech tees for my 2 sons and me, S for them M for me",
            [("prod_tech_tee", None, "S", 2), ("prod_tech_tee", None, "M", 1)],
        ),
        # who "her" is, is one person: one each, as before
        ("2 tech tees, L for me, S for her", [("prod_tech_tee", None, "L", 1), ("prod_tech_tee", None, "S", 1)]),
    ],
)
def test_a_value_for_them_counts_the_people_they_are(generator, text, expected):
    assert _lines(generator.generate(text=text, context=DialogueContext())) == expected


@pytest.mark.parametrize("text", ["and a cap to go with, blue", "and a cap to go with"])
def test_a_thing_to_go_with_the_order_is_added_never_a_swap(generator, text):
    preview = DialogueContext(cart=(JACKET,), awaiting_confirmation=True)
    assert [line[0] for line in _lines(generator.generate(text=text, context=preview))] == ["prod_run_cap"]


def test_another_thing_named_first_is_no_answer_to_the_question_about_the_one_asked(generator):
    commands = generator.generate(text="2 yoga mats one purple one blue", context=DUFFEL_COLOUR)
    assert _lines(commands) == [("prod_yoga_mat", "purple", None, 1), ("prod_yoga_mat", "blue", None, 1)]


def test_the_answer_then_another_thing_is_still_the_answer(generator):
    commands = generator.generate(text="grey please and a red beanie", context=DUFFEL_COLOUR)
    first = commands[0]
    assert (first.kind, getattr(first, "value", "")) == ("set_slot", "grey")


@pytest.mark.parametrize("text", ["grey zip hoodie L, the one i liked", "navy canvas low 44, the pair i liked"])
def test_the_one_i_liked_after_a_named_thing_says_which_it_is(generator, text):
    assert len(_lines(generator.generate(text=text, context=DialogueContext()))) == 1


def test_a_named_thing_and_the_one_i_liked_are_two(generator):
    lines = generator.generate(text="the blue runners 42 and the one i liked", context=DialogueContext())
    assert len(lines[0].items) == 2


# -- the same weekend's misses that placed nothing (H35) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "product", "colour"),
    [
        ("down jacket greenish M", "prod_down_jacket", "olive"),  # the jacket's own green
        ("the bright green wind shell M", "prod_wind_shell", "lime"),
        ("chelsea boots brownish 42", "prod_chelsea_boot", "tan"),
        ("zip hoodie navy-ish M", "prod_zip_hoodie", "navy"),
        ("slim chinos the darker ones L", "prod_chinos", "navy"),
        # said plainly, a colour the product has not got stays as said (the customer is told, never another colour)
        ("down jacket green M", "prod_down_jacket", "green"),
    ],
)
def test_a_colour_said_loosely_is_the_products_own_shade(generator, text, product, colour):
    ((product_id, said, _, _),) = _lines(generator.generate(text=text, context=DialogueContext()))
    assert (product_id, said) == (product, colour)


@pytest.mark.parametrize(
    ("text", "colour"), [("the dark ones", "black"), ("the lighter one", "tan"), ("brownish", "tan")]
)
def test_a_shade_answers_which_colour(generator, text, colour):
    asked = DialogueContext(
        pending=PendingQuestion(
            slot="colour", product_id="prod_chelsea_boot", options=(Option("black", "black"), Option("tan", "tan"))
        )
    )
    (answer,) = generator.generate(text=text, context=asked)
    assert (answer.kind, answer.value) == ("set_slot", colour)


@pytest.mark.parametrize(
    ("text", "code"),
    [("use run 15", "RUN15"), ("got a code save ten", "SAVE10"), ("big 20 code pls", "BIG20")],
)
def test_a_code_typed_with_a_space_or_in_words_is_one_code(generator, text, code):
    (command,) = generator.generate(text=text, context=DialogueContext())
    assert (command.kind, command.code) == ("apply_code", code)


def test_a_size_before_the_word_code_stays_the_size(generator):
    commands = generator.generate(text="blue runner 43 code run15", context=DialogueContext())
    assert [command.kind for command in commands] == ["add_items", "apply_code"]
    assert commands[0].items[0].size == "43" and commands[1].code == "RUN15"


def test_meant_without_its_i_corrects_the_size_never_a_count(generator):
    (line,) = _lines(generator.generate(text="street high red 40 sorry meant 41", context=DialogueContext()))
    assert line == ("prod_street_high", "red", "41", None)


# -- changes at a preview (H36) ---------------------------------------------------------------------------------------


EARBUDS = CartLine(
    variant_id="var_earbuds_black", product_id="prod_earbuds", title="Sport Earbuds", colour="black", size=None,
    quantity=1,
)  # fmt: skip
BAND = CartLine(
    variant_id="var_fitness_band_black", product_id="prod_fitness_band", title="Fitness Band", colour="black",
    size=None, quantity=1,
)  # fmt: skip


def _said(commands) -> list[tuple[str, str, str]]:
    return [(command.kind, getattr(command, "slot", ""), getattr(command, "value", "")) for command in commands]


def test_a_preference_said_as_a_remark_is_the_value(generator):
    preview = DialogueContext(cart=(BAND,), awaiting_confirmation=True)
    for text in ("nah pink is nicer, back to pink", "pink is nicer", "the pink one looks better"):
        assert _said(generator.generate(text=text, context=preview)) == [("set_slot", "colour", "pink")], text


def test_no_wait_before_another_product_is_a_swap_never_a_removal(generator):
    preview = DialogueContext(cart=(EARBUDS,), awaiting_confirmation=True)
    commands = generator.generate(text="no wait the over ear headphones instead, silver", context=preview)
    assert _said(commands) == [("set_slot", "product", "prod_headphones"), ("set_slot", "colour", "silver")]
    # "no earbuds" is still the removal
    assert [command.kind for command in generator.generate(text="no earbuds", context=preview)] == ["remove_item"]


def test_forget_one_thing_just_another_is_a_swap(generator):
    preview = DialogueContext(cart=(JACKET,), awaiting_confirmation=True)
    commands = generator.generate(text="forget the jacket, just the wind shell blue M", context=preview)
    assert _said(commands) == [
        ("set_slot", "product", "prod_wind_shell"), ("set_slot", "colour", "blue"), ("set_slot", "size", "M")
    ]  # fmt: skip


def test_one_more_for_someone_too_but_in_another_colour(generator):
    mat = CartLine(
        variant_id="var_yoga_mat_purple", product_id="prod_yoga_mat", title="Yoga Mat", colour="purple", size=None,
        quantity=1,
    )  # fmt: skip
    preview = DialogueContext(cart=(mat,), awaiting_confirmation=True)
    commands = generator.generate(text="oh and one for my sister too but blue", context=preview)
    assert _lines(commands) == [("prod_yoga_mat", "blue", None, 1)]  # one, as said


def test_a_bare_number_past_the_products_shown_is_a_count(generator):
    beanies = CartLine(
        variant_id="var_beanie_grey", product_id="prod_beanie", title="Wool Beanie", colour="grey", size=None,
        quantity=3,
    )  # fmt: skip
    shown_one = DialogueContext(cart=(beanies,), last_shown=(Option("prod_beanie", "Wool Beanie"),))
    assert _said(generator.generate(text="ok only 2 tho", context=shown_one)) == [("set_slot", "quantity", "2")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("black earbuds headlamp", [("prod_earbuds", "black", None, None), ("prod_headlamp", None, None, None)]),
        ("gloves medium headlamp", [("prod_gloves", None, "M", None), ("prod_headlamp", None, None, None)]),
    ],
)
def test_two_things_typed_with_nothing_between_them_are_two(generator, text, expected):
    # a colour goes with the thing after it, a size with the thing before it
    assert _lines(generator.generate(text=text, context=DialogueContext())) == expected


def test_one_name_of_two_products_is_still_asked_about(generator):
    (command,) = generator.generate(text="2 hoodies", context=DialogueContext())
    assert len(command.items) == 1 and len(command.items[0].product_ids) == 2


def test_a_size_before_on_the_card_ending_stays_the_size(generator):
    commands = generator.generate(text="orange tech tee M on the card ending 0002", context=DialogueContext())
    assert [command.kind for command in commands] == ["add_items", "choose_card"]
    assert commands[0].items[0].size == "M" and commands[1].last4 == "0002"


def test_a_product_named_beside_another_by_its_head_word_is_not_lost(generator):
    # "grey beanie headlamp": the beanie's words matched, and the headlamp was dropped
    lines = _lines(generator.generate(text="grey beanie headlamp", context=DialogueContext()))
    assert [line[0] for line in lines] == ["prod_beanie", "prod_headlamp"]
    # a modifier of a title ("gym" of the Gym Duffel) names no second thing
    lines = _lines(generator.generate(text="a kettlebell for my home gym", context=DialogueContext()))
    assert [line[0] for line in lines] == ["prod_kettlebell"]
