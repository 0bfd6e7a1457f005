"""The reader on held-out run 35 (Sunday afternoon, a family shopping together on one tablet), in words of our own. Each
case was read wrong before: someone else's words relayed by the one typing ("he wants it in L not M", "the kids want
blue", "she says the black looks better") were a second line or not understood, and the order went out unchanged; a
relayed yes ("ok she says yes") and the typist's own yes beside another's approval ("she's happy, yes go ahead") were
not told apart; who things are for ("for all three of us - 2 grey and 1 red") and where the others are ("bob's in the
shower, ...") changed the count or added a line."""

from __future__ import annotations

import pytest

from ordering.agent.commands import CartLine, DialogueContext
from tests.understanding.reading import lines, read, totals


def _preview(variant: str, product: str, title: str, colour: str, size: str | None, quantity: int = 1):
    line = CartLine(variant_id=variant, product_id=product, title=title, colour=colour, size=size, quantity=quantity)
    return DialogueContext(cart=(line,), awaiting_confirmation=True)


HOODIE_M = _preview("var_pullover_hoodie_black_m", "prod_pullover_hoodie", "Pullover Hoodie", "black", "M")
TEES_ORANGE = _preview("var_tech_tee_orange_s", "prod_tech_tee", "Tech Running Tee", "orange", "S", 2)


def _changes(commands) -> list[tuple]:
    return [(command.kind, getattr(command, "slot", None), getattr(command, "value", None)) for command in commands]


@pytest.mark.parametrize(
    ("said", "context", "expected"),
    [
        ("my husband wants it in XL not M", HOODIE_M, ("size", "XL")),
        ("the boys want black", TEES_ORANGE, ("colour", "black")),
        ("my wife says the red would look better", HOODIE_M, ("colour", "red")),
        ("no wait she says L", HOODIE_M, ("size", "L")),
        ("XL he says", HOODIE_M, ("size", "XL")),
    ],
)
def test_a_change_relayed_from_someone_else_changes_the_line(generator, said, context, expected):
    commands = read(generator, said, context)
    assert [(slot, value) for kind, slot, value in _changes(commands)] == [expected], commands


@pytest.mark.parametrize("said", ["ok he says yes", "my wife says go ahead", "the kids said yes please lol"])
def test_a_yes_relayed_from_someone_else_is_not_the_account_holders(generator, said):
    [command] = read(generator, said, HOODIE_M)
    assert command.kind == "cannot_handle" and command.reason.startswith("relayed"), command


def test_a_relayed_yes_with_a_change_is_the_change_alone(generator):
    assert _changes(read(generator, "he says yes but in the red", HOODIE_M)) == [("set_slot", "colour", "red")]


@pytest.mark.parametrize(
    "said",
    [
        "he's happy with it, yes go ahead and order",
        "yeah dad said its ok, place it",
        "this is her husband, she's nipped out - yes please order it",
    ],
)
def test_the_typists_own_yes_beside_anothers_approval_is_a_yes(generator, said):
    assert [command.kind for command in read(generator, said, HOODIE_M)] == ["confirm"]


def test_anothers_approval_alone_is_no_yes(generator):
    [command] = read(generator, "he's happy", HOODIE_M)
    assert command.kind == "cannot_handle" and command.reason.startswith("relayed")


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("caps for all four of us - 3 blue and 1 white",
         [("prod_run_cap", "blue", None, 3), ("prod_run_cap", "white", None, 1)]),
        ("sam's in the bath, he wants the grey beanie", [("prod_beanie", "grey", None, None)]),
        ("Nan here, using Alice's ipad. One red wool beanie please.", [("prod_beanie", "red", None, 1)]),
        ("black tech tee M for him, he keeps pinching mine", [("prod_tech_tee", "black", "M", None)]),
        ("silver headphones for her, she says the black ones are dull", [("prod_headphones", "silver", None, None)]),
        ("grey cloud jogger 43, will they arrive by friday?", [("prod_cloud_jogger", "grey", "43", None)]),
    ],
)  # fmt: skip
def test_who_it_is_for_and_what_they_think_is_no_part_of_the_order(generator, said, expected):
    commands = read(generator, said)
    assert [command.kind for command in commands] == ["add_items"], commands
    assert lines(commands) == expected


def test_in_a_number_is_a_size_not_a_count(generator):
    [command] = read(generator, "the navy canvas lows in a 10 for my daughter")
    [item] = command.items
    assert item.quantity is None and item.size_said == "10", item


def test_a_named_persons_percent_code_is_the_accounts_own_promotion(generator):
    commands = read(generator, "use bob's 10% code on the black gym duffel")
    assert [command.kind for command in commands] == ["add_items", "use_my_promotion"]


@pytest.mark.parametrize(
    ("said", "kind"),
    [
        ("she's still thinking about it", "thanks"),
        ("cheers, he'll decide after tea", "thanks"),
        ("never mind the discount then", "remove_code"),
        ("what do i click now?", "help"),
    ],
)
def test_family_messages_at_a_preview(generator, said, kind):
    assert [command.kind for command in read(generator, said, HOODIE_M)] == [kind]


def test_the_others_buying_habit_is_a_purchase(generator):
    [command] = read(generator, "getting dan the socks he always gets")
    assert command.items[0].saved == "purchased"


CANVAS_43 = _preview("var_canvas_low_black_43", "prod_canvas_low", "Canvas Low", "black", "43")


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("and the navy in 41 for my daughter", [("prod_canvas_low", "navy", "41", None)]),
        ("and the 40 for her", [("prod_canvas_low", "black", "40", 1)]),
    ],
)
def test_one_more_of_the_same_for_another_person_is_a_second_line(generator, said, expected):
    # "and the navy in 40 for me" after "black canvas 43 for him" changed the pair's size to 40 (and lost the navy)
    commands = read(generator, said, CANVAS_43)
    assert [command.kind for command in commands] == ["add_items"], commands
    assert lines(commands) == expected


def test_the_count_worked_out_after_why_is_the_count(generator):
    commands = read(generator, "the beanie i bought before, my son wants one as well so two")
    assert [item.quantity for item in commands[0].items] == [2] and commands[0].items[0].saved == "purchased"


def test_how_a_count_is_shared_is_no_part_of_it(generator):
    said = "navy zip hoodie L x2, one for me one for my brother"
    assert totals(read(generator, said)) == {("prod_zip_hoodie", "navy", "L"): 2}


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("my flatmate wants a grey beanie, ill pay him back", [("prod_beanie", "grey", None, None)]),
        ("navy zip hoodie M for my son, he's always cold", [("prod_zip_hoodie", "navy", "M", None)]),
    ],
)
def test_who_pays_and_how_they_are_said_after_the_order_are_no_part_of_it(generator, said, expected):
    commands = read(generator, said)
    assert [command.kind for command in commands] == ["add_items"], commands
    assert lines(commands) == expected


def test_a_code_relayed_after_the_order_is_the_code(generator):
    commands = read(generator, "black tech tee L for my son, he says there's a RUN15 code")
    assert [command.kind for command in commands] == ["add_items", "apply_code"], commands
    assert commands[1].code == "RUN15"


def test_whatever_is_left_after_a_count_is_up_to_that_count(generator):
    [command] = read(generator, "4 blue caps for the team or whatever you've got")
    assert [(item.quantity, item.up_to) for item in command.items] == [(4, True)]


@pytest.mark.parametrize("said", ["dad will confirm when he's home", "lol she's making a face, give us a sec"])
def test_waiting_on_someone_else_at_a_preview_is_no_answer(generator, said):
    assert [command.kind for command in read(generator, said, HOODIE_M)] == ["thanks"]


@pytest.mark.parametrize("said", ["is that with tax? she wants to know", "does the total include the shipping?"])
def test_what_the_total_holds_asked_at_a_preview_shows_it_again(generator, said):
    assert [command.kind for command in read(generator, said, HOODIE_M)] == ["show_cart"]


def test_use_mine_with_its_last_four_is_that_card(generator):
    [command] = read(generator, "fine, use mine then - the 3220", HOODIE_M)
    assert (command.kind, command.last4) == ("choose_card", "3220")


TEE_AND_SOCKS = DialogueContext(
    cart=(
        CartLine(variant_id="var_tech_tee_black_l", product_id="prod_tech_tee", title="Tech Running Tee",
                 colour="black", size="L", quantity=1),
        CartLine(variant_id="var_run_socks_black_l", product_id="prod_run_socks", title="Running Socks 3-pack",
                 colour="black", size="L", quantity=1),
    ),
    awaiting_confirmation=True,
)  # fmt: skip


def test_the_same_for_someone_else_with_several_lines_is_each_of_them_for_them(generator):
    # it was asked which (held-out run 35's reading); two later blind runs (37 and 51) and a shop assistant take "the
    # same" of everything, and a yes to the question then placed the order without his (tests/understanding/
    # test_the_same_of_several_lines.py)
    [command] = read(generator, "plus the same for my son in M", TEE_AND_SOCKS)
    assert command.kind == "add_items", command
    assert [(item.product_ids, item.size, item.person) for item in command.items] == [
        (("prod_tech_tee",), "M", "son"), (("prod_run_socks",), "M", "son")
    ], command  # fmt: skip


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("just the socks for my son, in M", [("prod_run_socks", "black", "M", None)]),
        ("both for him in M", [("prod_tech_tee", "black", "M", None), ("prod_run_socks", "black", "M", None)]),
    ],
)
def test_one_or_all_lines_for_someone_else_are_more_lines_not_changes(generator, said, expected):
    # "only the tee for her, in S" made the cart the tee in S: the customer's own tee and socks were lost
    commands = read(generator, said, TEE_AND_SOCKS)
    assert [command.kind for command in commands] == ["add_items"], commands
    assert lines(commands) == expected


CAP_AND_GLOVES = DialogueContext(
    cart=(
        CartLine(variant_id="var_run_cap_blue", product_id="prod_run_cap", title="Running Cap", colour="blue",
                 size=None, quantity=1),
        CartLine(variant_id="var_gloves_black_l", product_id="prod_gloves", title="Touchscreen Running Gloves",
                 colour="black", size="L", quantity=1),
    ),
    awaiting_confirmation=True,
)  # fmt: skip


def test_whose_line_it_is_says_which_to_take_off(generator):
    # "just take his gloves off for now" added a second pair ("for now" read as someone the gloves were for)
    [command] = read(generator, "just take her gloves off for now", CAP_AND_GLOVES)
    assert (command.kind, command.target.product_ids) == ("remove_item", ("prod_gloves",))


def test_when_something_is_for_said_after_the_order_is_no_part_of_it(generator):
    assert lines(read(generator, "grey beanie please, for the walk to work")) == [("prod_beanie", "grey", None, None)]


def test_the_typists_own_yes_beside_an_approval_takes_an_offer_too(generator):
    # "yeah mum said its fine, place it" after an offer was not understood
    assert [command.kind for command in read(generator, "yeah dad said its ok, order it")] == ["confirm"]
