"""The reader on held-out run 26 (a third ordinary day, multi-turn), in words of our own. Each case here was read
wrong before: a count corrected into parts kept the first line beside them, "one in 42 one in 43" lost the 43, a shoe
size in another system said about a person became an item ("wear"), a liked thing said before "plus" another of its
kind was lost, "i got last month" was no past order, "earlier you said" was an item, and "make the white ones 2"
recoloured the cart's last line."""

from __future__ import annotations

import pytest

from ordering.agent.commands import AddItems, CartLine, DialogueContext, Option, SetSlot
from tests.understanding.reading import lines as _lines
from tests.understanding.reading import read as _read

PREVIEW_CHINOS = DialogueContext(
    cart=(
        CartLine(
            variant_id="var_chinos_navy_m", product_id="prod_chinos", title="Slim Chinos", colour="navy", size="M",
            quantity=1,
        ),
    ),
    awaiting_confirmation=True,
)  # fmt: skip


@pytest.mark.parametrize(
    ("said", "lines"),
    [
        (
            "3 grey cotton tees L, no wait, one L one XL",
            [("prod_cotton_tee", "grey", "L", 1), ("prod_cotton_tee", "grey", "XL", 1)],
        ),
        (
            "2 trail blazers 43 sorry one 43 one 44",
            [("prod_trail_blazer", None, "43", 1), ("prod_trail_blazer", None, "44", 1)],
        ),
        (
            "2 wool beanies red, actually one red one grey",
            [("prod_beanie", "red", None, 1), ("prod_beanie", "grey", None, 1)],
        ),
    ],
)
def test_a_count_corrected_into_parts_is_those_parts_only(generator, said, lines):
    assert _lines(_read(generator, said)) == lines


@pytest.mark.parametrize(
    "said", ["trail blazers one in 43 one in 44", "2 trail blazers one in 43 one in 44", "trail blazer one 43 one 44"]
)
def test_parts_said_one_after_the_other_are_each_read(generator, said):
    assert _lines(_read(generator, said)) == [
        ("prod_trail_blazer", None, "43", 1),
        ("prod_trail_blazer", None, "44", 1),
    ]


def test_a_shoe_size_in_another_system_said_about_a_person_is_the_size(generator):
    assert _lines(_read(generator, "my daughter wears UK 8, the court classic in white for her")) == [
        ("prod_court_classic", "white", "42", None)
    ]


def test_a_liked_thing_then_plus_another_of_its_kind_is_both(generator):
    [command] = _read(generator, "the bottle i liked ages ago, plus a soft flask")
    assert isinstance(command, AddItems)
    liked, flask = command.items
    assert liked.saved == "liked" and "prod_steel_bottle" in liked.product_ids
    assert flask.product_ids == ("prod_soft_flask",) and flask.saved is None


def test_a_thing_the_customer_got_before_is_a_past_order(generator):
    [command] = _read(generator, "the canvas lows i got a few weeks ago, same size")
    assert isinstance(command, AddItems)
    [item] = command.items
    assert item.saved == "purchased" and item.product_ids == ("prod_canvas_low",)


def test_what_the_assistant_is_said_to_have_said_earlier_is_no_item(generator):
    assert _lines(_read(generator, "before you said there was free shipping, add the grey zip hoodie M")) == [
        ("prod_zip_hoodie", "grey", "M", None)
    ]


def _tee(colour: str, quantity: int) -> CartLine:
    return CartLine(
        variant_id=f"var_cotton_tee_{colour}_l", product_id="prod_cotton_tee", title="Organic Cotton Tee",
        colour=colour, size="L", quantity=quantity,
    )  # fmt: skip


def test_make_the_line_named_by_its_colour_n_sets_that_lines_count_only(generator):
    preview = DialogueContext(cart=(_tee("white", 3), _tee("grey", 1)), awaiting_confirmation=True)
    [command] = _read(generator, "hang on, make the white ones 2", preview)
    assert isinstance(command, SetSlot) and (command.slot, command.value) == ("quantity", "2")
    assert command.target is not None and command.target.variant_id == "var_cotton_tee_white_l"


def test_the_kind_then_which_of_it_is_that_product_with_the_values_said_after(generator):
    assert _lines(_read(generator, "and a jacket, the wind one, blue M", PREVIEW_CHINOS)) == [
        ("prod_wind_shell", "blue", "M", None)
    ]


def test_another_pair_same_as_before_but_a_size_is_the_carts_line_in_that_size(generator):
    assert _lines(_read(generator, "one more same as before but in S", PREVIEW_CHINOS)) == [
        ("prod_chinos", "navy", "S", None)
    ]


def test_a_look_for_one_product_with_its_colour_beside_an_addition_is_added_too(generator):
    lines = _lines(_read(generator, "i search a steel bottle, the black one, and also a yoga mat purple"))
    assert lines == [("prod_steel_bottle", "black", None, None), ("prod_yoga_mat", "purple", None, None)]
    shown = _read(generator, "show me black steel bottles and add a purple yoga mat")
    assert [command.kind for command in shown] == ["search", "add_items"]  # asked to be shown: only shown


@pytest.mark.parametrize(
    "said",
    [
        "when is my package gonna turn up",
        "my parcel still isnt here and its the 9th",
        "will my order make it by monday?",
        "my order was due yesterday",
    ],
)
def test_when_an_order_comes_or_that_it_is_late_is_its_status(generator, said):
    assert [command.kind for command in _read(generator, said)] == ["order_status"], said


def test_a_shoe_size_asked_about_is_the_size_not_how_many(generator):
    [question] = _read(generator, "have you got the trail blazer in black 44?")
    assert (question.item.size, question.item.quantity) == ("44", None)


@pytest.mark.parametrize(
    "said", ["thanks so much, you are very helpful", "looks good to me", "maybe later, gotta run", "let me ask my mom"]
)
def test_politeness_and_holds_are_thanks_never_a_yes(generator, said):
    assert [command.kind for command in _read(generator, said, PREVIEW_CHINOS)] == ["thanks"], said


def test_keep_the_card_chooses_it_and_is_possible_asks_for_the_thing(generator):
    assert [command.kind for command in _read(generator, "fine, keep the 4242", PREVIEW_CHINOS)] == ["choose_card"]
    assert _lines(_read(generator, "is possible also the beanie, grey colour?")) == [
        ("prod_beanie", "grey", None, None)
    ]


def test_you_guys_which_do_you_think_and_faster_are_read_as_meant(generator):
    assert [c.kind for c in _read(generator, "do u guys have yoga mats")] == ["search"]
    # a choice between two, asked: about both (never an order; a search for both was read before)
    [asked] = _read(generator, "merino or running socks, which do you think")
    assert asked.kind == "product_question" and set(asked.item.product_ids) == {"prod_wool_socks", "prod_run_socks"}
    assert [c.kind for c in _read(generator, "could it come sooner? my trip is on friday", PREVIEW_CHINOS)] == [
        "choose_shipping"
    ]
    assert _read(generator, "ugh too expensive, standard is fine", PREVIEW_CHINOS)[0].option == "standard"
    assert [c.kind for c in _read(generator, "it didnt work? use my mastercard then", PREVIEW_CHINOS)] == [
        "choose_card"
    ]


def test_what_is_wanted_in_short_then_in_full_after_a_colon_is_the_full_with_the_counts(generator):
    assert _lines(_read(generator, "3 socks and a bottle for the trip: merino socks L and the steel bottle black")) == [
        ("prod_wool_socks", None, "L", 3),
        ("prod_steel_bottle", "black", None, None),
    ]
    # details that name no thing of their own are the short one's values, read as before
    assert _lines(_read(generator, "running socks for the kids: 2 M and 1 S, white")) == [
        ("prod_run_socks", "white", "M", 2),
        ("prod_run_socks", "white", "S", 1),
    ]


def test_a_size_step_said_with_the_size_is_that_size_and_why_now_is_no_item(generator):
    shown = DialogueContext(last_shown=(Option(value="prod_tech_tee", label="Tech Running Tee"),))
    assert _lines(_read(generator, "i'll go a size up then, L in black", shown)) == [
        ("prod_tech_tee", "black", "L", None)
    ]
    assert _lines(_read(generator, "thanks! while i'm here, a grey beanie")) == [("prod_beanie", "grey", None, None)]


def test_a_product_left_out_for_its_price_beside_the_one_chosen_is_not_added(generator):
    assert _lines(_read(generator, "the zip hoodie grey M, the pullover one is way too pricey")) == [
        ("prod_zip_hoodie", "grey", "M", None)
    ]


def test_make_the_only_line_named_by_its_colour_n_sets_its_count_and_says_no_colour(generator):
    preview = DialogueContext(cart=(_tee("grey", 2),), awaiting_confirmation=True)
    [command] = _read(generator, "wait, make the grey ones 1", preview)
    assert (command.slot, command.value, command.target.variant_id) == ("quantity", "1", "var_cotton_tee_grey_l")
